"""What a mail holds: ZIPs, HTML receipts, forwarded mails, unknown and spoofed senders."""

from __future__ import annotations

import asyncio
import http.server
import threading
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from local_api.client import TgUser
from tests import images
from tests.mail.world import CLIENT_DOMAIN, MailWorld, message, signed, zip_of

DANA_MAIL = f"dana@{CLIENT_DOMAIN}"
OFFICE = TgUser(id=7_200_000_001, first_name="Rachel", language_code="en")


async def _org_with_invited_email(world: MailWorld) -> tuple[int, str]:
    """An organization whose client was invited at DANA_MAIL and has no chat: replies go
    by e-mail."""
    h = world.harness
    _, org_id = await h.office_and_org()
    async with h.app.uow_factory() as uow:
        organization = await uow.organizations.get(org_id)
        assert organization is not None
        organization.email = DANA_MAIL
        await uow.commit()
    return org_id, await world.address(org_id)


def _bomb() -> bytes:
    # 60 MB of zeros squeezed into a few dozen kilobytes.
    return zip_of({"invoice.pdf": b"%PDF-" + b"\0" * (60 * 1024 * 1024)})


async def test_zip_members_become_documents_and_a_bomb_is_refused(world: MailWorld) -> None:
    org_id, address = await _org_with_invited_email(world)
    inner = zip_of({"deep/receipt-3.png": images.png(600, 800, "three")})
    archive = zip_of(
        {
            "receipts/../../etc/קבלה 1.pdf": images.pdf(label="one"),
            "receipts/receipt\u202e2.jpg": images.jpeg(600, 800, "two"),
            "__MACOSX/._junk": b"junk",
            "notes.txt": b"hello",
            "inner.zip": inner,
        }
    )
    msg = message(
        sender=DANA_MAIL,
        to=address,
        subject="Receipts for March",
        attachments=[
            ("receipts.zip", archive, "application/zip"),
            ("bomb.zip", _bomb(), "application/zip"),
            ("nested.zip", zip_of({"a.zip": zip_of({"b.zip": inner})}), "application/zip"),
        ],
    )
    await world.send(signed(msg), DANA_MAIL, address)
    await world.settle()
    documents = await world.documents(org_id)
    names = sorted(d.original_name for d in documents)
    # Paths and direction tricks are gone from the names; text and junk are not documents.
    assert names == [["deep", "receipt-3.png"][-1], "receipt2.jpg", "קבלה 1.pdf"]
    [kept] = await world.mails()
    assert kept.state == "done" and kept.documents == 3 and kept.reason == "mail.some_refused"
    # No chat: the sender is told by e-mail, with the same reasons as in the chat.
    for _ in range(100):
        if world.replies.messages:
            break
        await asyncio.sleep(0.05)
    [reply] = world.replies.messages
    assert reply["To"] == DANA_MAIL and "Receipts for March" in str(reply["Subject"])
    body = reply.get_body(("plain",)).get_content()
    # In Hebrew: a person known only by e-mail gets the office's default language.
    assert 'מסמכים שהתקבלו מהמייל שלכם "Receipts for March" עבור Falafel Ltd: 3.' in body
    assert "invoice.pdf: קובץ בארכיון גדול מדי כשפותחים אותו" in body  # the bomb
    assert "ארכיון בתוך ארכיון בתוך ארכיון" in body  # nesting
    assert "notes.txt: אני לא יכול לקרוא קבצים מהסוג הזה" in body  # the chat's own reason


async def test_html_only_receipt_is_drawn_without_fetching_anything(
    world: MailWorld, tmp_path: Path
) -> None:
    hits: list[str] = []

    class Spy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    spy = http.server.HTTPServer(("127.0.0.1", 0), Spy)
    threading.Thread(target=spy.serve_forever, daemon=True).start()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    try:
        org_id, address = await _org_with_invited_email(world)
        url = f"http://127.0.0.1:{spy.server_port}"
        logo = images.png(400, 120, "shop")
        html = (
            f'<html><head><link rel="stylesheet" href="{url}/style.css"></head><body>'
            f'<img src="cid:logo@shop"><h1>Receipt 5521</h1>'
            f"<p>Order total: 118.00 ₪ (VAT 18.00)</p>"
            f'<img src="{url}/pixel.gif" width="1" height="1">'
            f'<iframe src="file://{secret}"></iframe><img src="file://{secret}">'
            f"</body></html>"
        )
        msg = EmailMessage()
        msg["From"] = DANA_MAIL
        msg["To"] = address
        msg["Subject"] = "Your order from Shop"
        msg.set_content("Your receipt")
        msg.add_alternative(html, subtype="html")
        html_part = msg.get_payload()[1]
        html_part.add_related(logo, maintype="image", subtype="png", cid="<logo@shop>")
        await world.send(signed(msg), DANA_MAIL, address)
        await world.settle()
    finally:
        spy.shutdown()
    assert hits == []
    [document] = await world.documents(org_id)
    assert document.mime_type == "application/pdf"
    async with world.uow_factory() as uow:
        [stored] = await uow.documents.files(document.id)
    pdf = await world.harness.app.files.get(stored.sha256)
    import pypdfium2

    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "Receipt 5521" in text and "118.00" in text and "TOP SECRET" not in text


async def test_a_forwarded_mail_files_the_suppliers_attachment(world: MailWorld) -> None:
    org_id, address = await _org_with_invited_email(world)
    original = message(
        sender="billing@bezeq.test",
        to=DANA_MAIL,
        subject="Invoice 1234 from Bezeq",
        attachments=[("bezeq-1234.pdf", images.pdf(label="bezeq"), "application/pdf")],
    )
    forward = EmailMessage()
    forward["From"] = DANA_MAIL
    forward["To"] = address
    forward["Subject"] = "Fwd: Invoice 1234 from Bezeq"
    forward.set_content("See below")
    forward.add_attachment(original)  # message/rfc822
    await world.send(signed(forward), DANA_MAIL, address)
    await world.settle()
    [document] = await world.documents(org_id)
    assert document.original_name == "bezeq-1234.pdf"
    assert "Fwd: Invoice 1234 from Bezeq" in document.caption


async def test_unknown_and_spoofed_senders_are_held_for_the_office(world: MailWorld) -> None:
    h = world.harness
    org_id, address = await _org_with_invited_email(world)
    await h.join(OFFICE, org_id)  # gives the person a chat; made office staff below
    from core.domain import OfficeMember, OfficeRole

    async with h.app.uow_factory() as uow:
        found = await uow.people.by_identity("telegram", OFFICE.id)
        assert found is not None
        grants = await uow.organizations.offices_with_access(org_id)
        await uow.offices.add_member(
            OfficeMember(grants[0].office_id, found[0].id or 0, OfficeRole.STAFF)
        )
        await uow.commit()

    stranger = message(
        sender="someone@stranger.test",
        to=address,
        subject="Please pay",
        attachments=[("pay.pdf", images.pdf(label="stranger"), "application/pdf")],
    )
    held_notice = await h.after(
        OFFICE, world.send(stranger.as_bytes(policy=SMTP), "someone@stranger.test", address)
    )
    text = held_notice.text
    assert "someone@stranger.test" in text and "not on the allowed list" in text
    assert await world.documents(org_id) == []

    # Signed by the client's domain, then changed on the way: held, not filed.
    good = message(
        sender=DANA_MAIL,
        to=address,
        subject="Invoice",
        attachments=[("inv.pdf", images.pdf(label="inv"), "application/pdf")],
    )
    tampered = signed(good).replace(b"Attached.", b"Attached!")
    tampered_notice = await h.after(OFFICE, world.send(tampered, DANA_MAIL, address))
    assert "nothing proves" in tampered_notice.text
    # Unsigned mail claiming the client's address (a spoof) is held too.
    await h.after(OFFICE, world.send(good.as_bytes(policy=SMTP), DANA_MAIL, address))
    await world.settle()
    kept = await world.mails()
    assert [m.state for m in kept] == ["held", "held", "held"]
    assert [m.auth for m in kept] == [None, "fail", "none"]
    assert await world.documents(org_id) == []

    # The office accepts the stranger's mail with the chat's button: it is filed.
    accepted = await h.edited(
        OFFICE, h.api.click(OFFICE, held_notice, "Accept and file"), held_notice
    )
    assert "Accepted" in accepted.text
    world.processor.kick()
    await world.settle()
    documents = await world.documents(org_id)
    assert [d.original_name for d in documents] == ["pay.pdf"]
    rejected = await h.edited(
        OFFICE, h.api.click(OFFICE, tampered_notice, "Reject"), tampered_notice
    )
    assert "Rejected" in rejected.text
    assert [m.state for m in await world.mails()] == ["done", "rejected", "held"]


async def test_a_mail_that_cannot_be_processed_stays_kept_and_shown(world: MailWorld) -> None:
    from datetime import timedelta

    from core import mail
    from core.domain import OfficeMember, OfficeRole

    h = world.harness
    org_id, address = await _org_with_invited_email(world)
    await h.join(OFFICE, org_id)
    async with h.app.uow_factory() as uow:
        found = await uow.people.by_identity("telegram", OFFICE.id)
        assert found is not None
        grants = await uow.organizations.offices_with_access(org_id)
        await uow.offices.add_member(
            OfficeMember(grants[0].office_id, found[0].id or 0, OfficeRole.STAFF)
        )
        await uow.commit()
    world.processor.retry_after = timedelta(0)
    raw = b"From: dana@falafel.test\r\nSubject: lost bytes\r\n\r\nx"
    async with h.app.uow_factory() as uow:
        kept = await mail.keep_raw(
            uow,
            h.app.files,
            channel="smtp",
            raw=raw,
            recipient=address,
            envelope_from=DANA_MAIL,
            organization_id=org_id,  # as the SMTP receiver knows it from RCPT
        )
    # The stored bytes vanish (a disk fault): every attempt fails.
    h.app.files.path(kept.raw_sha256).unlink()
    world.processor.kick()
    await world.settle()
    [failed] = await world.mails()
    assert failed.state == "failed" and failed.reason == "mail.failed_processing"
    shown = await h.after(OFFICE, h.api.send_text(OFFICE, "/mail"), count=2)
    assert "could not be processed" in shown[1].text


async def test_the_office_replaces_an_address_from_the_chat(world: MailWorld) -> None:
    from core.domain import OfficeMember, OfficeRole

    h = world.harness
    org_id, old = await _org_with_invited_email(world)
    await h.join(OFFICE, org_id)
    async with h.app.uow_factory() as uow:
        found = await uow.people.by_identity("telegram", OFFICE.id)
        assert found is not None
        grants = await uow.organizations.offices_with_access(org_id)
        await uow.offices.add_member(
            OfficeMember(grants[0].office_id, found[0].id or 0, OfficeRole.STAFF)
        )
        await uow.commit()
    shown = await h.say(OFFICE, "/mail")
    assert old in shown.text and DANA_MAIL in shown.text
    replaced = await h.edited(
        OFFICE, h.api.click(OFFICE, shown, "Replace the address of Falafel Ltd"), shown
    )
    new = await world.address(org_id)
    assert new != old and new in replaced.text and "30 more days" in replaced.text


async def test_an_iphone_heic_attachment_becomes_a_jpeg_document(world: MailWorld) -> None:
    org_id, address = await _org_with_invited_email(world)
    msg = message(
        sender=DANA_MAIL,
        to=address,
        subject="Photo of the receipt",
        attachments=[("IMG_0042.HEIC", images.heic(images.jpeg(900, 1200, "taxi")), "image/heic")],
    )
    await world.send(signed(msg), DANA_MAIL, address)
    await world.settle()
    [document] = await world.documents(org_id)
    assert (document.original_name, document.mime_type) == ("IMG_0042.jpg", "image/jpeg")
    [kept] = await world.mails()
    assert kept.state == "done" and kept.documents == 1 and kept.reason is None
