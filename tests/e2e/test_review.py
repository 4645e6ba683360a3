"""The accountant files, returns and edits; the client answers a return. Over HTTP."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from core.domain import DocumentState, OfficeMember, OfficeRole
from handlers.callbacks import ReviewAct
from local_api.client import ChatMessage, TgUser
from storage import tables
from tests import images, scenario
from tests.e2e.harness import Harness

DANA = TgUser(id=5_000_000_101, first_name="Dana", language_code="he")
ALICE = TgUser(id=5_000_000_102, first_name="Alice", language_code="en")
EVE = TgUser(id=5_000_000_103, first_name="Eve", language_code="en")


async def accountant(harness: Harness, user: TgUser, office_id: int) -> None:
    person = await scenario.person(harness.app.uow_factory, user.id, user.first_name, "en")
    async with harness.app.uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=office_id, person_id=person.id or 0, role=OfficeRole.STAFF)
        )
        await uow.commit()


async def the_document(harness: Harness) -> tuple[int, DocumentState, dict[str, object], int]:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        row = (await uow.session.execute(tables.documents.select())).one()._mapping
        pages = await uow.documents.files(row["id"])
        return row["id"], DocumentState(row["state"]), row["fields"], len(pages)


async def answered(harness: Harness) -> bool:
    """Whether the client answered the (only) document's return."""
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        return bool((await uow.session.execute(select(tables.documents.c.answered))).scalar_one())


async def latest(harness: Harness, user: TgUser, message: ChatMessage) -> ChatMessage:
    """The message as it is now (after its buttons were edited)."""
    return next(
        m for m in await harness.api.messages(user.id) if m.message_id == message.message_id
    )


async def open_first(harness: Harness) -> ChatMessage:
    report = await harness.say(ALICE, "/tofile")
    assert "Falafel Ltd: 1 to file" in (report.text or "")
    return await harness.after(ALICE, harness.api.click(ALICE, report, "Falafel Ltd (1)"))


async def received(harness: Harness) -> int:
    """Dana sends a receipt to Falafel Ltd; Alice and Eve are accountants of two offices."""
    office_id, org_id = await harness.office_and_org()
    foreign_id, _ = await harness.office_and_org("Elsewhere Ltd")
    await accountant(harness, ALICE, office_id)
    await accountant(harness, EVE, foreign_id)
    await harness.join(DANA, org_id)
    await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label="receipt")))
    doc_id, _, _, _ = await the_document(harness)
    # The reader is off in the harness: make the document read, as the worker would.
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.id == doc_id)
            .values(
                state="to_file",
                kind="receipt",
                fields={
                    "total": {"value": "117.00", "confidence": 0.95, "reason": ""},
                    "vendor_id": {"value": "51530305", "confidence": 0.3, "reason": "blur"},
                },
            )
        )
        await uow.commit()
    return doc_id


async def test_return_answer_edit_and_approve(harness: Harness) -> None:
    doc_id = await received(harness)

    # The accountant opens it: the picture, the doubtful field first and marked.
    card = await open_first(harness)
    assert card.kind == "photo" and card.caption is not None
    assert card.caption.index("⚠️ business number") < card.caption.index("total: 117.00")

    # Return as unreadable, without a note.
    await harness.edited(ALICE, harness.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "The document is unreadable"))
    card = await latest(harness, ALICE, card)
    returned = await harness.after(DANA, harness.api.click(ALICE, card, "No note"))
    assert returned.kind == "photo" and "המסמך אינו קריא" in (returned.caption or "")
    assert (await the_document(harness))[1] is DocumentState.RETURNED

    # The client answers with a new photo.
    await harness.after(DANA, harness.api.click(DANA, returned, "📷 שליחת צילום חדש"))
    thanks = await harness.after(
        DANA, harness.api.send_photo(DANA, images.jpeg(label="receipt, sharper"))
    )
    assert "תודה" in (thanks.text or "")
    _, state, fields, pages = await the_document(harness)
    # The new photo is read again before the office sees it (the reader is off here).
    assert state is DocumentState.RECEIVED and await answered(harness) is True and pages == 2
    await read_again(harness, doc_id, fields, total="120.00")

    # A forged approve from another office's accountant is refused and changes nothing.
    nothing = await harness.say(EVE, "/tofile")
    assert "Nothing to file" in (nothing.text or "")
    forged = await harness.api.press_button(
        EVE, nothing.message_id, ReviewAct(a="ok", d=doc_id, v=4).pack()
    )
    answer = await harness.api.wait_for_callback_answer(forged.callback_query_id or "")
    assert answer is not None and "not allowed" in answer.get("text", "")
    assert (await the_document(harness))[1] is DocumentState.TO_FILE

    # Edit: a wrong amount is explained, a right one shows the card again.
    card = await open_first(harness)
    assert "The client answered" in (card.caption or "")
    assert "total: 117.00 → 120.00" in (card.caption or "")  # what the new reading changed
    await harness.edited(ALICE, harness.api.click(ALICE, card, "✏️ Edit"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "total"))
    wrong = await harness.say(ALICE, "twelve")
    assert "Not a valid amount" in (wrong.text or "")
    card = await harness.say(ALICE, "12.5")
    assert "total: 12.50" in (card.caption or "")

    # Approve: filed, and the organization has nothing more.
    done = await harness.after(ALICE, harness.api.click(ALICE, card, "✅ Approve"))
    assert "No more documents to file for Falafel Ltd" in (done.text or "")
    assert (await the_document(harness))[1] is DocumentState.FILED
    # The old card's button, tapped again by Alice herself, says it is done, not that
    # someone (Alice) beat her to it.
    again = await harness.api.press_button(
        ALICE, card.message_id, ReviewAct(a="ok", d=doc_id, v=6).pack()
    )
    answer = await harness.api.wait_for_callback_answer(again.callback_query_id or "")
    assert answer is not None and "Already done" in answer.get("text", "")
    assert "already handled by" not in answer.get("text", "")


async def test_a_return_to_a_client_who_blocked_the_bot_shows_unreachable(
    harness: Harness,
) -> None:
    await received(harness)
    await harness.api.block(DANA)
    card = await open_first(harness)
    await harness.edited(ALICE, harness.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "Duplicate"))
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "No note"))
    assert (await the_document(harness))[1] is DocumentState.RETURNED
    report = await harness.say(ALICE, "/tofile")
    assert "1 returned to the client" in (report.text or "")
    assert "client unreachable" in (report.text or "")


async def read_again(harness: Harness, doc_id: int, fields: dict[str, object], total: str) -> None:
    """What the worker does with the new photo: new fields, the document's history kept."""
    kept = {k: v for k, v in fields.items() if k.startswith("_")}
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.id == doc_id)
            .values(
                state="to_file",
                fields={
                    **kept,
                    "total": {"value": total, "confidence": 0.95, "reason": ""},
                    "vendor_id": {"value": "51530305", "confidence": 0.9, "reason": ""},
                },
            )
        )
        await uow.commit()


async def make_read(harness: Harness) -> None:
    """Every document not yet filed becomes a read receipt of the same vendor."""
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.state != "filed")
            .values(
                state="to_file",
                kind="receipt",
                fields={
                    "total": {"value": "50.00", "confidence": 0.95, "reason": ""},
                    "vendor_id": {"value": "51530305", "confidence": 0.9, "reason": ""},
                },
            )
        )
        await uow.commit()


async def test_a_category_is_chosen_remembered_and_suggested_for_the_vendor(
    harness: Harness,
) -> None:
    await received(harness)
    card = await open_first(harness)
    assert "category" not in (card.caption or "").lower()
    await harness.edited(ALICE, harness.api.click(ALICE, card, "🏷 Category"), card)
    card = await latest(harness, ALICE, card)
    card = await harness.after(ALICE, harness.api.click(ALICE, card, "Fuel"))
    assert "Category: Fuel" in (card.caption or "")
    await harness.after(ALICE, harness.api.click(ALICE, card, "✅ Approve"))

    # The next receipt of the same vendor comes with the category suggested.
    await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label="second receipt")))
    await make_read(harness)
    card = await open_first(harness)
    assert "Suggested category: Fuel" in (card.caption or "")


async def returned_unreadable(harness: Harness) -> ChatMessage:
    """Alice returns the receipt as unreadable; the client's "returned" message."""
    card = await open_first(harness)
    await harness.edited(ALICE, harness.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "The document is unreadable"))
    card = await latest(harness, ALICE, card)
    return await harness.after(DANA, harness.api.click(ALICE, card, "No note"))


async def test_the_client_sees_returned_documents_in_status_with_the_same_buttons(
    harness: Harness,
) -> None:
    await received(harness)
    await returned_unreadable(harness)
    summary, returned = await harness.after(DANA, harness.api.send_text(DANA, "/status"), count=2)
    assert "Falafel Ltd" in (summary.text or "")
    assert "המסמך אינו קריא" in (returned.text or "")
    # Explaining from the /status message attaches to the same document.
    await harness.after(DANA, harness.api.click(DANA, returned, "💬 השבה בהסבר"))
    before = len(await harness.api.messages(ALICE.id))
    thanks = await harness.say(DANA, "It is the parking receipt from Monday")
    assert "תודה" in (thanks.text or "")
    # Alice hears of the answer now, or after her office's quiet hours; the outbox paces
    # it, so it may come a moment after Dana's thanks: let it arrive before going on.
    await harness.quiet(ALICE, seconds=1.5)
    told = (await harness.api.messages(ALICE.id))[before:]
    assert all("Dana answered document #1" in (m.text or "") for m in told), told
    _, state, _, _ = await the_document(harness)
    assert state is DocumentState.TO_FILE and await answered(harness) is True

    # Returned again, then withdrawn from /status.
    await returned_unreadable(harness)
    _, returned = await harness.after(DANA, harness.api.send_text(DANA, "/status"), count=2)
    await harness.edited(DANA, harness.api.click(DANA, returned, "🗑 ביטול המסמך"), returned)
    assert (await the_document(harness))[1] is DocumentState.WITHDRAWN
    after = await harness.say(DANA, "/status")
    assert "המסמך אינו קריא" not in (after.text or "")
    assert len(await harness.quiet(DANA)) == 0


BOB = TgUser(id=5_000_000_104, first_name="Bob", language_code="en")


async def test_two_accountants_racing_on_one_document(harness: Harness) -> None:
    await received(harness)
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        office_id = await uow.session.scalar(select(tables.offices.c.id).order_by("id").limit(1))
    await accountant(harness, BOB, office_id or 0)
    alice_card = await open_first(harness)
    report = await harness.say(BOB, "/tofile")
    bob_card = await harness.after(BOB, harness.api.click(BOB, report, "Falafel Ltd (1)"))

    # Both press Approve at about the same moment.
    pressed = await asyncio.gather(
        harness.api.press_button(ALICE, alice_card.message_id, button_text="✅ Approve"),
        harness.api.press_button(BOB, bob_card.message_id, button_text="✅ Approve"),
    )
    answers = [
        await harness.api.wait_for_callback_answer(p.callback_query_id or "") for p in pressed
    ]
    texts = [str((a or {}).get("text", "")) for a in answers]
    assert sorted(texts)[0] == "Done ✓", texts
    # The loser is told who won.
    winner = "Alice" if texts[0] == "Done ✓" else "Bob"
    assert sorted(texts)[1] == f"This document was already handled by {winner}.", texts
    assert (await the_document(harness))[1] is DocumentState.FILED
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        filed = (
            await uow.session.execute(
                tables.audit_log.select().where(tables.audit_log.c.action == "document.filed")
            )
        ).all()
        assert len(filed) == 1

    # The winner moves on to the next document (none left); the loser's chat stays as it was.
    await harness.quiet(ALICE)
    await harness.quiet(BOB)
    winner_user, loser_user = (ALICE, BOB) if winner == "Alice" else (BOB, ALICE)
    last = (await harness.api.messages(winner_user.id))[-1]
    assert "No more documents to file for Falafel Ltd" in (last.text or "")
    loser_card = alice_card if loser_user is ALICE else bob_card
    assert (await harness.api.messages(loser_user.id))[-1].message_id == loser_card.message_id

    # Nothing broke: both can go on working.
    for user in (ALICE, BOB):
        report = await harness.say(user, "/tofile")
        assert "Nothing to file" in (report.text or "")
