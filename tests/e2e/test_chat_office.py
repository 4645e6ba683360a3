"""The accountant's side of the chat (issue 11): no dead ends, one live card, the right menu."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from core.domain import DocumentState
from local_api.client import ChatMessage, TgUser
from storage import tables
from tests import images
from tests.deadline_world import FakeClock, at
from tests.e2e.harness import Harness
from tests.e2e.test_chat_flows import use_clock
from tests.e2e.test_review import (
    ALICE,
    BOB,
    DANA,
    accountant,
    latest,
    make_read,
    received,
    the_document,
)


async def open_card(harness: Harness, user: TgUser = ALICE) -> ChatMessage:
    report = await harness.say(user, "/tofile")
    return await harness.after(user, harness.api.click(user, report, "Falafel Ltd (1)"))


def labels(message: ChatMessage) -> list[str]:
    return [b["text"] for b in message.buttons()]


async def menus(harness: Harness) -> dict[str, list[str]]:
    """The command menus the bot set, by scope: "default" or the chat id."""
    found: dict[str, list[str]] = {}
    for item in (await harness.api.bot_info())["commands"]:
        scope: dict[str, Any] = item["scope"]
        key = str(scope.get("chat_id", scope["type"]))
        if item["language_code"] in ("", "en") or key != "default":
            found[key] = [c["command"] for c in item["commands"]]
    return found


async def test_every_submenu_has_a_way_back_to_the_card(harness: Harness) -> None:
    await received(harness)
    card = await open_card(harness)
    main = labels(card)
    for button in ("✏️ Edit", "🏷 Category", "↩️ Return"):
        await harness.edited(ALICE, harness.api.click(ALICE, card, button), card)
        card = await latest(harness, ALICE, card)
        assert "« Back to the card" in labels(card), button
        await harness.edited(ALICE, harness.api.click(ALICE, card, "« Back to the card"), card)
        card = await latest(harness, ALICE, card)
        assert labels(card) == main
    # Half way into a return (a reason chosen), back still leads out, and no note is awaited.
    await harness.edited(ALICE, harness.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(harness, ALICE, card)
    prompt = await harness.after(ALICE, harness.api.click(ALICE, card, "Duplicate"))
    assert "/cancel" in (prompt.text or "")
    card = await latest(harness, ALICE, card)
    await harness.edited(ALICE, harness.api.click(ALICE, card, "« Back to the card"), card)
    text = await harness.say(ALICE, "this is not a note")
    assert "I understand documents" in (text.text or "")
    assert (await the_document(harness))[1] is DocumentState.TO_FILE


async def test_one_live_card_and_an_edit_closes_the_old_one(harness: Harness) -> None:
    await received(harness)
    first = await open_card(harness)
    second = await open_card(harness)  # /tofile again: the first card is closed
    assert (await latest(harness, ALICE, first)).buttons() == []
    await harness.edited(ALICE, harness.api.click(ALICE, second, "✏️ Edit"), second)
    second = await latest(harness, ALICE, second)
    prompt = await harness.after(ALICE, harness.api.click(ALICE, second, "total"))
    assert "/cancel" in (prompt.text or "")
    edited = await harness.say(ALICE, "12.5")
    assert "total: 12.50" in (edited.caption or "")
    # The card whose field menu was open is closed: nothing stale to press.
    assert (await latest(harness, ALICE, second)).buttons() == []
    assert labels(edited)[0] == "✅ Approve"


async def test_a_lost_race_clears_the_waiting_state_and_cancel_works(harness: Harness) -> None:
    await received(harness)
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        office_id = await uow.session.scalar(select(tables.offices.c.id).order_by("id").limit(1))
    await accountant(harness, BOB, office_id or 0)
    card = await open_card(harness)
    await harness.edited(ALICE, harness.api.click(ALICE, card, "✏️ Edit"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "total"))
    bob_card = await open_card(harness, BOB)
    await harness.after(BOB, harness.api.click(BOB, bob_card, "✅ Approve"))
    lost = await harness.say(ALICE, "12")
    assert "already handled by Bob" in (lost.text or "")
    after = await harness.say(ALICE, "13")  # no longer waiting for a value
    assert "already handled" not in (after.text or "")
    # /cancel works while a value is awaited.
    await received_again(harness)
    card = await open_card(harness)
    await harness.edited(ALICE, harness.api.click(ALICE, card, "✏️ Edit"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "total"))
    cancelled = await harness.say(ALICE, "/cancel")
    assert "Cancelled" in (cancelled.text or "")
    after = await harness.say(ALICE, "14")
    assert "I understand documents" in (after.text or "")


async def received_again(harness: Harness) -> None:
    await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label="another")))
    await make_read(harness)


async def test_a_double_tap_on_approve_is_not_someone_else(harness: Harness) -> None:
    await received(harness)
    card = await open_card(harness)
    pressed = await asyncio.gather(
        harness.api.press_button(ALICE, card.message_id, button_text="✅ Approve"),
        harness.api.press_button(ALICE, card.message_id, button_text="✅ Approve"),
    )
    answers = [
        str(await harness.api.wait_for_callback_answer(p.callback_query_id or "") or {})
        for p in pressed
    ]
    assert not any("already handled by" in a for a in answers), answers
    assert (await the_document(harness))[1] is DocumentState.FILED


async def test_a_typed_note_leaves_no_lone_button_and_the_answer_is_told_by_day_only(
    harness: Harness,
) -> None:
    await received(harness)
    use_clock(harness, FakeClock(at("2026-11-24 22:30")))  # a Tuesday night: quiet hours
    card = await open_card(harness)
    await harness.edited(ALICE, harness.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "Needs clarification"))
    done, _ = await harness.after(
        ALICE, harness.api.send_text(ALICE, "Which car is this for?"), count=2
    )
    assert "Done" in (done.text or "")
    returned = (await harness.api.messages(DANA.id))[-1]
    assert "Which car is this for?" in (returned.caption or "")
    card = await latest(harness, ALICE, card)
    assert card.deleted or card.buttons() == []  # no lone "No note"
    await harness.after(DANA, harness.api.click(DANA, returned, "💬 השבה בהסבר"))
    await harness.say(DANA, "The company car")
    assert await harness.quiet(ALICE) == []  # at night the office is not disturbed

    # Returned again by day: the answer reaches Alice at once.
    use_clock(harness, FakeClock(at("2026-11-25 10:00")))
    card = await open_card(harness)
    await harness.edited(ALICE, harness.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "Needs clarification"))
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "No note"))
    returned = (await harness.api.messages(DANA.id))[-1]
    told = await harness.after(
        ALICE, harness.api.send_text(DANA, "The van", reply_to=returned.message_id)
    )
    assert "Dana answered document #1 of Falafel Ltd" in (told.text or "")


async def test_help_and_the_command_menu_follow_the_role(harness: Harness) -> None:
    await received(harness)
    office_help = await harness.say(ALICE, "/help")
    assert "/tofile" in (office_help.text or "") and "/cancel" in (office_help.text or "")
    client_help = await harness.say(DANA, "/help")
    assert "/tofile" not in (client_help.text or "")
    found = await menus(harness)
    assert "tofile" in found[str(ALICE.id)]
    assert "tofile" not in found[str(DANA.id)] and "status" in found[str(DANA.id)]
    assert "tofile" not in found.get("default", [])
    report = await harness.say(ALICE, "/tofile")
    assert "all from today" in (report.text or "")  # not "0 days old"


async def test_deadlines_of_a_business_opened_today_are_not_late(harness: Harness) -> None:
    office_id, _ = await harness.office_and_org()
    await accountant(harness, ALICE, office_id)
    shown = await harness.say(ALICE, "/deadlines")
    assert "late" not in (shown.text or "")
