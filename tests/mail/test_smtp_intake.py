"""E-mail intake end to end: smtplib -> Tayuk's SMTP receiver on loopback -> documents,
with the client told in the Telegram chat of the local Bot API server, or by e-mail."""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from core import mail
from core.domain import DocumentState
from local_api.client import TgUser
from tests import images
from tests.mail.world import CLIENT_DOMAIN, DOMAIN, MailWorld, message, signed

DANA = TgUser(id=7_100_000_001, first_name="Dana", language_code="en")
DANA_MAIL = f"dana@{CLIENT_DOMAIN}"


async def test_hebrew_mail_with_two_attachments_becomes_two_documents(world: MailWorld) -> None:
    h = world.harness
    _, org_id = await h.office_and_org()
    await h.join(DANA, org_id)
    # The client sees the forwarding address in /org and /status.
    address = await world.address(org_id)
    assert address.endswith("@" + DOMAIN) and address.startswith("falafel-ltd-")
    assert address in (await h.say(DANA, "/org")).text
    assert address in (await h.say(DANA, "/status")).text
    added = await h.say(DANA, f"/mail add {DANA_MAIL.upper()}")
    assert DANA_MAIL in added.text

    subject = "חשבונית 1234 מבזק"
    bezeq = images.pdf(label="bezeq")
    msg = message(
        sender=f"דנה <{DANA_MAIL}>",
        to=address,
        subject=subject,
        attachments=[
            ("חשבונית בזק.pdf", bezeq, "application/pdf"),
            ("קבלה.jpg", images.jpeg(800, 1000, label="cafe"), "image/jpeg"),
        ],
    )
    raw = signed(msg)
    assert b"=?utf-8?" in raw.lower() or b"filename*" in raw  # RFC 2047 / 2231 on the wire
    notice = await h.after(DANA, world.send(raw, DANA_MAIL, address))
    assert (
        "Documents received from your e-mail" in notice.text
        and ": 2." in notice.text
        and subject in notice.text
    )
    await world.settle()
    documents = await world.documents(org_id)
    assert [d.original_name for d in documents] == ["חשבונית בזק.pdf", "קבלה.jpg"]
    assert all(d.state == DocumentState.RECEIVED for d in documents)
    assert all(subject in d.caption and DANA_MAIL in d.caption for d in documents)
    [kept] = await world.mails()
    assert kept.state == "done" and kept.auth == "pass" and kept.documents == 2

    # The same file arriving again by e-mail is caught as a duplicate.
    again = message(
        sender=DANA_MAIL,
        to=address,
        subject="again",
        attachments=[("x.pdf", bezeq, "application/pdf")],
    )
    notice = await h.after(DANA, world.send(signed(again), DANA_MAIL, address))
    assert "1 of them had been sent before" in notice.text


async def test_only_known_addresses_are_accepted_and_an_old_one_bounces(world: MailWorld) -> None:
    h = world.harness
    office_id, org_id = await h.office_and_org()
    old = await world.address(org_id)
    raw = message(sender=DANA_MAIL, to=old, subject="x").as_bytes()
    with pytest.raises(smtplib.SMTPRecipientsRefused) as relay:
        await asyncio.to_thread(world.send_now, raw, DANA_MAIL, ["someone@elsewhere.test"])
    assert relay.value.recipients["someone@elsewhere.test"][0] == 550
    with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
        await asyncio.to_thread(world.send_now, raw, DANA_MAIL, [f"nobody-abcdefgh@{DOMAIN}"])
    assert unknown.value.recipients[f"nobody-abcdefgh@{DOMAIN}"][0] == 550

    from core.domain import OfficeMember, OfficeRole
    from tests import scenario

    staff = await scenario.person(h.app.uow_factory, 7_100_000_009, "Rachel", "en")
    async with h.app.uow_factory() as uow:
        await uow.offices.add_member(OfficeMember(office_id, staff.id or 0, OfficeRole.STAFF))
        await uow.commit()
    async with h.app.uow_factory() as uow:
        fresh = await mail.rotate(uow, staff.id or 0, org_id, h.app.clock.now())
    new = mail.full_address(fresh.local_part, DOMAIN)
    assert new != old
    with pytest.raises(smtplib.SMTPRecipientsRefused) as moved:
        await asyncio.to_thread(world.send_now, raw, DANA_MAIL, [old])
    code, text = moved.value.recipients[old]
    assert code == 550 and b"5.1.6" in text and b"new address" in text
    assert await asyncio.to_thread(world.send_now, raw, DANA_MAIL, [new]) == {}


async def test_oversized_message_is_refused_before_it_is_kept(world: MailWorld) -> None:
    _, org_id = await world.harness.office_and_org()
    address = await world.address(org_id)
    huge = b"%PDF-" + b"0" * (6 * 1024 * 1024)
    big = message(
        sender=DANA_MAIL,
        to=address,
        subject="big",
        attachments=[("big.pdf", huge, "application/pdf")],
    )
    with pytest.raises(smtplib.SMTPException):
        await asyncio.to_thread(world.send_now, big.as_bytes(), DANA_MAIL, [address])
    assert await world.mails() == []
