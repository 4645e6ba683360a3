"""What was left of issue 11, over the local Bot API server: what a new reading changed is
shown once, an answer given at night reaches the accountant in the morning, a retake is
not the office's return, the file on a card has the number people see, an update
delivered twice, and the menu after a removal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import select, update

from bot.scheduler import DeadlineTicker
from bot.sender import TelegramSender
from local_api.client import TgUser
from storage import tables
from tests import images
from tests.deadline_world import FakeClock, at
from tests.e2e.harness import Harness
from tests.e2e.test_chat_flows import (
    ALICE,
    DANA,
    DAYTIME,
    documents,
    invoice,
    open_card,
    read_queued,
    setup,
    use_clock,
)
from tests.e2e.test_chat_office import menus
from tests.e2e.test_review import latest
from tests.e2e.test_team_and_access import (
    OWNER,
    STAFF,
    link_and_qr,
    new_org_by_chat,
    owner_of_new_office,
    token_of,
)


async def return_card(harness: Harness, reason: str = "Needs clarification") -> None:
    """Alice returns the document on her card, without a note."""
    card = await open_card(harness)
    await harness.edited(ALICE, harness.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, reason))
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "No note"))


async def test_what_a_new_reading_changed_is_shown_until_the_accountant_acts(
    harness: Harness,
) -> None:
    await setup(harness)
    use_clock(harness, FakeClock(DAYTIME))
    await harness.after(DANA, harness.api.send_photo(DANA, invoice(seed=1)))
    await harness.after(DANA, read_queued(harness))
    await return_card(harness)
    returned = (await harness.api.messages(DANA.id))[-1]
    await harness.after(
        ALICE, harness.api.send_photo(DANA, invoice(seed=5), reply_to=returned.message_id)
    )
    await harness.after(DANA, read_queued(harness))
    card = await open_card(harness)
    assert "What changed:" in (card.caption or "")

    # Alice corrects the vendor: her own edit is not something the reading changed, and
    # the reading's changes are no longer news once she acts on the document.
    await harness.edited(ALICE, harness.api.click(ALICE, card, "✏️ Edit"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "vendor name"))
    edited = await harness.say(ALICE, "Corrected Vendor Ltd")
    caption = edited.caption or ""
    assert "Corrected Vendor Ltd" in caption
    assert "What changed:" not in caption and "→" not in caption
    again = await open_card(harness)
    assert "What changed:" not in (again.caption or "")


async def test_an_answer_in_the_quiet_hours_reaches_the_accountant_when_they_end(
    harness: Harness,
) -> None:
    await setup(harness)
    use_clock(harness, FakeClock(DAYTIME))
    await harness.after(DANA, harness.api.send_photo(DANA, invoice(seed=1)))
    await harness.after(DANA, read_queued(harness))
    use_clock(harness, FakeClock(at("2026-11-24 22:30")))  # a Tuesday night: quiet hours
    await return_card(harness)
    returned = (await harness.api.messages(DANA.id))[-1]
    await harness.after(
        DANA, harness.api.send_text(DANA, "הרכב של החברה", reply_to=returned.message_id)
    )
    assert await harness.quiet(ALICE) == []

    clock = FakeClock(at("2026-11-24 23:30"))
    ticker = DeadlineTicker(harness.app.uow_factory, TelegramSender(harness.app.bot).send, clock)
    await ticker.tick()
    assert await harness.quiet(ALICE) == []  # still night
    clock = FakeClock(at("2026-11-25 08:01"))  # quiet hours over, before the digest
    ticker.clock = clock
    told = await harness.after(ALICE, ticker.tick())
    assert "Dana answered document #1 of Falafel Ltd" in (told.text or "")
    clock.advance(at("2026-11-25 08:02") - at("2026-11-25 08:01"))
    await ticker.tick()
    assert await harness.quiet(ALICE) == []  # once, not every minute


async def test_a_retake_is_not_counted_as_returned_by_the_office(harness: Harness) -> None:
    await setup(harness)
    for label in ("kept", "returned", "retake"):
        await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label=label)))
    ids = [int(str(r["id"])) for r in await documents(harness)]
    states = {
        ids[0]: ("to_file", {}),
        ids[1]: (
            "returned",
            {"return_reason": "duplicate", "returned_by": 1, "return_auto": False},
        ),
        ids[2]: (
            "returned",
            {"return_reason": "unreadable", "return_problem": "blank", "return_auto": True},
        ),
    }
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        for document_id, (state, returned) in states.items():
            await uow.session.execute(
                update(tables.documents)
                .where(tables.documents.c.id == document_id)
                .values(state=state, kind="receipt", **returned)
            )
        await uow.commit()
    report = (await harness.say(ALICE, "/tofile")).text or ""
    assert "1 returned to the client" in report
    assert "1 waiting for a new photo from the client" in report


async def test_the_file_on_a_card_is_named_by_the_number_people_see(harness: Harness) -> None:
    _, other_id = await harness.office_and_org("Hummus Bros")
    john = TgUser(id=5_000_000_214, first_name="John", language_code="en")
    await harness.join(john, other_id)
    for label in ("a", "b"):  # database ids 1 and 2 go to another business
        await harness.after(john, harness.api.send_photo(john, images.jpeg(label=label)))
    await setup(harness)
    await harness.after(DANA, harness.api.send_document(DANA, images.pdf(), file_name="x.pdf"))
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        # A file that came without a name (an e-mail attachment can): the card names it.
        await uow.session.execute(update(tables.stored_files).values(original_name=None))
        await uow.session.execute(update(tables.documents).values(state="to_file"))
        await uow.commit()
    card = await open_card(harness)
    assert card.file_name == "document-1.pdf"


async def test_the_same_start_update_delivered_twice_is_not_a_used_link(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    token = await harness.invite_token(org_id)
    sent = await harness.api.send_text(DANA, f"/start {token}")
    [joined] = await harness.api.wait_for_messages(DANA.id, 1, timeout=10)
    assert "הצטרפתם ל-Falafel Ltd" in (joined.text or "")
    await harness.api.redeliver(sent.update_id)
    again = await harness.quiet(DANA, 1.0)
    texts = " ".join(m.text or "" for m in again)
    assert "כבר השתמשו בקישור" not in texts
    # Answered at most once more, and then as a member.
    assert len(again) <= 1 and all("כבר הצטרפתם" in (m.text or "") for m in again)
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        members = await uow.session.scalars(select(tables.organization_members.c.person_id))
        assert len(list(members)) == 1


async def test_the_command_menu_loses_the_office_commands_after_a_removal(
    harness: Harness,
) -> None:
    await owner_of_new_office(harness)
    await new_org_by_chat(harness, None)
    roster = await harness.say(OWNER, "/team")
    link, _ = await link_and_qr(
        harness, OWNER, harness.api.click(OWNER, roster, "Invite link: staff")
    )
    await harness.say(STAFF, f"/start {token_of(link)}")
    assert "tofile" in await menu_of(harness, STAFF, lambda names: "tofile" in names)
    roster = await harness.say(OWNER, "/team")
    await harness.after(STAFF, harness.api.click(OWNER, roster, "Remove: Yossi"))
    left = await menu_of(harness, STAFF, lambda names: "tofile" not in names)
    assert "tofile" not in left and "status" in left


async def menu_of(
    harness: Harness, user: TgUser, settled: Callable[[list[str]], bool]
) -> list[str]:
    """The user's own menu, once `settled` (it is set just after the bot's answer)."""
    names: list[str] = []
    for _ in range(50):
        names = (await menus(harness)).get(str(user.id), [])
        if settled(names):
            break
        await asyncio.sleep(0.1)
    return names
