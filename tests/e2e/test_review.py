"""The accountant files, returns and edits; the client answers a return. Over HTTP."""

from __future__ import annotations

from sqlalchemy import update

from bot.local_api.client import ChatMessage, TgUser
from core.domain import DocumentState, OfficeMember, OfficeRole
from handlers.callbacks import ReviewAct
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
    assert state is DocumentState.TO_FILE and fields["_answered"] is True and pages == 2

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
    # The old card's button, tapped again, loses cleanly with who handled it.
    again = await harness.api.press_button(
        ALICE, card.message_id, ReviewAct(a="ok", d=doc_id, v=5).pack()
    )
    answer = await harness.api.wait_for_callback_answer(again.callback_query_id or "")
    assert answer is not None and "already handled by Alice" in answer.get("text", "")


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
