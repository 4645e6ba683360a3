"""Offices, teams, client organizations and invitations, end to end over the local Bot API
server, with a real SMTP server for the e-mailed invitation."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.mailer import SmtpMailer
from bot.settings import SmtpSettings
from core.domain import AccessLevel, DealerType, Organization
from core.organizations import create_office
from core.permissions import Action, may, upload_destinations
from local_api.client import ChatMessage, TgUser
from storage import tables
from tests.e2e.harness import Harness

OWNER = TgUser(id=6_000_000_001, first_name="Rachel", language_code="en")
STAFF = TgUser(id=6_000_000_002, first_name="Yossi", language_code="en")
CLIENT = TgUser(id=6_000_000_003, first_name="Dana", language_code="en")
OTHER = TgUser(id=6_000_000_004, first_name="Moshe", language_code="en")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def use_smtp(harness: Harness, settings: SmtpSettings) -> None:
    # Polling took its services when it started; the mailer object itself is shared.
    mailer = harness.app.dispatcher["mailer"]
    assert isinstance(mailer, SmtpMailer)
    mailer.settings = settings


async def person_id(harness: Harness, user: TgUser) -> int:
    async with harness.app.uow_factory() as uow:
        found = await uow.people.by_identity("telegram", user.id)
        assert found is not None and found[0].id is not None
        return found[0].id


async def owner_of_new_office(harness: Harness) -> int:
    async with harness.app.uow_factory() as uow:
        office, issued = await create_office(uow, "Cohen CPA", datetime.now(UTC))
    reply = await harness.say(OWNER, f"/start {issued.token}")
    assert "Cohen CPA" in (reply.text or "") and "owner" in (reply.text or "")
    assert office.id is not None
    return office.id


async def link_and_qr(harness: Harness, user: TgUser, action: Any) -> tuple[str, ChatMessage]:
    text, photo = await harness.after(user, action, count=2)
    link = (text.text or "").split("\n")[-1]
    assert link.startswith("https://t.me/tayuk_test_bot?start=")
    assert photo.kind == "photo" and photo.caption == link
    png = await harness.api.file_bytes(photo.file_id or "")
    assert png.startswith(b"\x89PNG")
    return link, photo


def token_of(link: str) -> str:
    return link.split("start=")[1]


async def audit_actions(harness: Harness) -> list[str]:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        rows = await uow.session.scalars(
            select(tables.audit_log.c.action).order_by(tables.audit_log.c.id)
        )
        return list(rows)


async def new_org_by_chat(harness: Harness, email: str | None) -> list[ChatMessage]:
    await harness.say(OWNER, "/neworg")
    await harness.say(OWNER, "Falafel Ltd")
    vat = await harness.say(OWNER, "515-303-055")
    assert "company" in (vat.text or "")  # inferred from the number
    ask_mail = await harness.after(OWNER, harness.api.click(OWNER, vat, "Every two months"))
    if email is None:
        return list(
            await harness.after(OWNER, harness.api.click(OWNER, ask_mail, "No e-mail"), count=2)
        )
    return list(await harness.after(OWNER, harness.api.send_text(OWNER, email), count=3))


async def test_neworg_with_email_sends_the_link_by_smtp_and_as_a_qr_code(
    harness: Harness, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    use_smtp(harness, SmtpSettings(_env_file=None, host="127.0.0.1", port=port, starttls=False))  # type: ignore[call-arg]
    await owner_of_new_office(harness)
    text, photo, mailed = await new_org_by_chat(harness, "dana@falafel.example")
    link = (text.text or "").split("\n")[-1]
    assert photo.kind == "photo" and photo.caption == link
    assert (await harness.api.file_bytes(photo.file_id or "")).startswith(b"\x89PNG")
    assert "e-mailed to dana@falafel.example" in (mailed.text or "")
    [mail] = inbox.messages
    assert mail["To"] == "dana@falafel.example"
    assert link in mail.get_payload(decode=True).decode()
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        org = (await uow.session.execute(select(tables.organizations))).one()
        assert org.dealer_type == DealerType.COMPANY.value and org.vat_frequency == "bimonthly"
    # The mailed link works: the client joins with full access.
    joined = await harness.say(CLIENT, f"/start {token_of(link)}")
    assert "Falafel Ltd" in (joined.text or "")
    assert "invite.emailed" in await audit_actions(harness)


async def test_neworg_email_without_smtp_settings_says_so_and_still_gives_the_link(
    harness: Harness,
) -> None:
    use_smtp(harness, SmtpSettings(_env_file=None))  # type: ignore[call-arg]
    await owner_of_new_office(harness)
    text, photo, error = await new_org_by_chat(harness, "dana@falafel.example")
    assert "TAYUK_SMTP_HOST" in (error.text or "")
    assert photo.kind == "photo" and "start=" in (text.text or "")


async def test_invite_link_with_a_level_is_single_use_and_revocable(harness: Harness) -> None:
    await owner_of_new_office(harness)
    await new_org_by_chat(harness, None)
    pick_org = await harness.say(OWNER, "/invite")
    pick_level = await harness.after(OWNER, harness.api.click(OWNER, pick_org, "Falafel Ltd"))
    pick_reuse = await harness.after(OWNER, harness.api.click(OWNER, pick_level, "view only"))
    link, _ = await link_and_qr(harness, OWNER, harness.api.click(OWNER, pick_reuse, "Single use"))
    assert "view only" in (await harness.api.messages(OWNER.id))[-2].text  # type: ignore[operator]
    await harness.say(CLIENT, f"/start {token_of(link)}")
    used = await harness.say(OTHER, f"/start {token_of(link)}")
    assert "already been used" in (used.text or "")
    owner_id = await person_id(harness, OWNER)
    client_id = await person_id(harness, CLIENT)
    async with harness.app.uow_factory() as uow:
        [org_id] = await upload_destinations(uow, owner_id)
        viewer = client_id
        assert await may(uow, viewer, Action.VIEW, org_id)
        assert not await may(uow, viewer, Action.UPLOAD, org_id)
    # A reusable one, listed and revoked.
    pick_org = await harness.say(OWNER, "/invite")
    pick_level = await harness.after(OWNER, harness.api.click(OWNER, pick_org, "Falafel Ltd"))
    pick_reuse = await harness.after(OWNER, harness.api.click(OWNER, pick_level, "send documents"))
    link, _ = await link_and_qr(harness, OWNER, harness.api.click(OWNER, pick_reuse, "Reusable"))
    listing = await harness.say(OWNER, "/invites")
    assert "client of Falafel Ltd" in (listing.text or "")
    buttons = [
        b["text"] for row in listing.inline_keyboard or [] for b in row if "Revoke" in b["text"]
    ]
    # Open: the /neworg link and the reusable one; the used single-use link is not listed.
    assert len(buttons) == 2
    button = buttons[-1]
    await harness.after(OWNER, harness.api.click(OWNER, listing, button))
    revoked = await harness.say(OTHER, f"/start {token_of(link)}")
    assert "revoked" in (revoked.text or "")
    assert "invite.revoked" in await audit_actions(harness)


async def test_a_client_joins_by_the_office_self_join_link_and_the_office_hears(
    harness: Harness,
) -> None:
    office_id = await owner_of_new_office(harness)
    link, _ = await link_and_qr(harness, OWNER, harness.api.send_text(OWNER, "/joinlink"))
    welcome = await harness.say(CLIENT, f"/start {token_of(link)}")
    assert "Cohen CPA" in (welcome.text or "")
    await harness.say(CLIENT, "Dana Design")
    bad = await harness.say(CLIENT, "123456789")
    assert "check digit" in (bad.text or "")
    ask_type = await harness.say(CLIENT, "123456782")  # a person's id: the type is asked
    notice = harness.after(OWNER, harness.api.click(CLIENT, ask_type, "exempt dealer"))
    told = await notice
    assert "Dana Design" in (told.text or "") and "123456782" in (told.text or "")
    done = (await harness.api.messages(CLIENT.id))[-1]
    assert "Dana Design" in (done.text or "") and "Cohen CPA" in (done.text or "")
    client_id = await person_id(harness, CLIENT)
    owner_id = await person_id(harness, OWNER)
    async with harness.app.uow_factory() as uow:
        client = client_id
        [org] = await uow.organizations.for_person(client, AccessLevel.FULL)
        assert org.dealer_type is DealerType.EXEMPT
        [grant] = await uow.organizations.offices_with_access(org.id or 0)
        assert grant.office_id == office_id
        assert await may(uow, owner_id, Action.REVIEW, org.id or 0)
    # The link is reusable: a second client opens their own business with it.
    await harness.say(OTHER, f"/start {token_of(link)}")
    await harness.say(OTHER, "Moshe Falafel")
    await harness.after(OWNER, harness.api.send_text(OTHER, "514713288"))
    assert (await audit_actions(harness)).count("organization.self_joined") == 2


async def test_team_invite_then_removal_cuts_access_at_once(harness: Harness) -> None:
    office_id = await owner_of_new_office(harness)
    await new_org_by_chat(harness, None)
    roster = await harness.say(OWNER, "/team")
    link, _ = await link_and_qr(
        harness, OWNER, harness.api.click(OWNER, roster, "Invite link: staff")
    )
    joined = await harness.say(STAFF, f"/start {token_of(link)}")
    assert "staff" in (joined.text or "")
    staff = await person_id(harness, STAFF)
    async with harness.app.uow_factory() as uow:
        [org_id] = await upload_destinations(uow, staff)  # the office's client, at once
        assert await may(uow, staff, Action.APPROVE, org_id)
    roster = await harness.say(OWNER, "/team")
    assert "Yossi – staff" in (roster.text or "")
    # Staff see the team but cannot run it, whatever they forge.
    staff_view = await harness.say(STAFF, "/team")
    assert staff_view.inline_keyboard is None
    forged = await harness.api.press_button(
        STAFF, staff_view.message_id, f"tm:rm:{office_id}:{await person_id(harness, OWNER)}:"
    )
    answer = await harness.api.wait_for_callback_answer(forged.callback_query_id or "")
    assert answer is not None and "not allowed" in answer["text"]
    notice = harness.after(STAFF, harness.api.click(OWNER, roster, "Remove: Yossi"))
    assert "removed from the team of Cohen CPA" in ((await notice).text or "")
    async with harness.app.uow_factory() as uow:
        assert await upload_destinations(uow, staff) == []
        assert not await may(uow, staff, Action.VIEW, org_id)
    assert "office.member_removed" in await audit_actions(harness)


async def test_a_full_client_revokes_the_office_and_a_forged_revocation_is_refused(
    harness: Harness,
) -> None:
    office_id = await owner_of_new_office(harness)
    text, _ = await new_org_by_chat(harness, None)
    await harness.say(CLIENT, f"/start {token_of((text.text or '').split(chr(10))[-1])}")
    owner_id = await person_id(harness, OWNER)
    async with harness.app.uow_factory() as uow:
        [org_id] = await upload_destinations(uow, owner_id)
    await harness.join(OTHER, org_id, access=AccessLevel.UPLOADER)
    # An uploader forges the revocation button: refused, nothing changes.
    nothing = await harness.say(OTHER, "/access")
    assert "nothing to manage" in (nothing.text or "")
    forged = await harness.api.press_button(OTHER, nothing.message_id, f"ar:{org_id}:{office_id}")
    answer = await harness.api.wait_for_callback_answer(forged.callback_query_id or "")
    assert answer is not None and "not allowed" in answer["text"]
    owner_id = await person_id(harness, OWNER)
    async with harness.app.uow_factory() as uow:
        assert await may(uow, owner_id, Action.REVIEW, org_id)
    # The full client sees the office and takes the access back from its whole team.
    shown = await harness.say(CLIENT, "/access")
    assert "Cohen CPA" in (shown.text or "")
    done = await harness.after(
        CLIENT, harness.api.click(CLIENT, shown, "Revoke the access of Cohen CPA")
    )
    assert "revoked" in (done.text or "")
    owner_id = await person_id(harness, OWNER)
    async with harness.app.uow_factory() as uow:
        owner = owner_id
        assert not await may(uow, owner, Action.VIEW, org_id)
        assert await upload_destinations(uow, owner) == []
    assert "access.revoked" in await audit_actions(harness)


async def test_org_switches_the_current_organization(harness: Harness) -> None:
    _, first = await harness.office_and_org("Falafel Ltd")
    async with harness.app.uow_factory() as uow:
        second = await uow.organizations.add(Organization("Hummus"))
        await uow.commit()
    await harness.join(CLIENT, first)
    await harness.join(CLIENT, second.id or 0)
    menu = await harness.say(CLIENT, "/org")
    await harness.after(CLIENT, harness.api.click(CLIENT, menu, "Falafel Ltd"))
    client_id = await person_id(harness, CLIENT)
    async with harness.app.uow_factory() as uow:
        dana = await uow.people.get(client_id)
        assert dana is not None and dana.current_org_id == first
