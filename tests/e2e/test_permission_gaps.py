"""Over the local Bot API server: an office that lost its grant loses the documents its
members uploaded, and a colleague's forged button withdraws nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from core.access import revoke_office
from core.domain import AccessLevel, DocumentState
from core.reading_jobs import Applied, ReadOutcome
from handlers.callbacks import ClientAct
from handlers.reading_notice import announcer
from handlers.texts import Texts
from local_api.client import ChatMessage, TgUser
from storage import tables
from tests import images
from tests.e2e.harness import Harness
from tests.e2e.test_review import accountant, the_document

DANA = TgUser(id=5_000_000_301, first_name="Dana", language_code="he")
ALICE = TgUser(id=5_000_000_302, first_name="Alice", language_code="en")
CAROL = TgUser(id=5_000_000_303, first_name="Carol", language_code="en")
REFUSED = Texts("en")("error.not_allowed")


async def returned(harness: Harness, doc_id: int) -> None:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.id == doc_id)
            .values(state="returned", return_reason="unreadable", return_auto=False)
        )
        await uow.commit()


async def forged(harness: Harness, user: TgUser, message: ChatMessage, data: str) -> str:
    pressed = await harness.api.press_button(user, message.message_id, data)
    answer = await harness.api.wait_for_callback_answer(pressed.callback_query_id or "")
    assert answer is not None
    return str(answer.get("text", ""))


async def test_an_office_member_who_uploaded_loses_the_document_when_access_is_revoked(
    harness: Harness,
) -> None:
    office_id, org_id = await harness.office_and_org()
    await accountant(harness, ALICE, office_id)
    await harness.join(DANA, org_id)
    # Alice sends a receipt for her client, through the office's access.
    sent = await harness.after(ALICE, harness.api.send_photo(ALICE, images.jpeg()))
    assert "Received ✓" in (sent.text or "")
    doc_id = (await the_document(harness))[0]
    await returned(harness, doc_id)
    summary, shown = await harness.after(ALICE, harness.api.send_text(ALICE, "/status"), count=2)
    assert "Falafel Ltd" in (summary.text or "") and f"#{doc_id}" in (shown.text or "")

    async with harness.app.uow_factory() as uow:
        dana = await uow.people.by_identity("telegram", DANA.id)
        assert dana is not None
        await revoke_office(
            uow,
            actor_id=dana[0].id or 0,
            organization_id=org_id,
            office_id=office_id,
            now=datetime.now(UTC),
        )

    after = await harness.say(ALICE, "/status")
    assert "Falafel Ltd" not in (after.text or "")
    assert await harness.quiet(ALICE) == []  # no returned document shown either
    # The buttons she still has (or forges) no longer work.
    for action in ("wd", "exp", "new"):
        data = ClientAct(a=action, d=doc_id).pack()
        assert await forged(harness, ALICE, shown, data) == REFUSED
    assert (await the_document(harness))[1] is DocumentState.RETURNED


async def test_a_colleague_cannot_withdraw_anothers_returned_document(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(DANA, org_id)
    colleague = await harness.join(CAROL, org_id, access=AccessLevel.UPLOADER)
    await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg()))
    doc_id = (await the_document(harness))[0]
    await returned(harness, doc_id)
    for action in ("wd", "exp", "new"):
        data = ClientAct(a=action, d=doc_id).pack()
        assert await forged(harness, CAROL, colleague, data) == REFUSED
    assert (await the_document(harness))[1] is DocumentState.RETURNED


async def test_the_reading_of_a_document_is_not_told_to_a_sender_who_lost_access(
    harness: Harness,
) -> None:
    office_id, org_id = await harness.office_and_org()
    await accountant(harness, ALICE, office_id)
    await harness.join(DANA, org_id)
    await harness.after(ALICE, harness.api.send_photo(ALICE, images.jpeg()))
    doc_id = (await the_document(harness))[0]
    announce = announcer(harness.app.bot, harness.app.uow_factory)

    async def read_and_announce() -> list[ChatMessage]:
        async with harness.app.uow_factory() as uow:
            document = await uow.documents.get(doc_id)
        before = len(await harness.api.messages(ALICE.id))
        await announce(Applied(ReadOutcome.TO_FILE, document))
        return (await harness.api.messages(ALICE.id))[before:]

    assert len(await read_and_announce()) == 1  # while the office has access
    async with harness.app.uow_factory() as uow:
        dana = await uow.people.by_identity("telegram", DANA.id)
        assert dana is not None
        await revoke_office(
            uow,
            actor_id=dana[0].id or 0,
            organization_id=org_id,
            office_id=office_id,
            now=datetime.now(UTC),
        )
    assert await read_and_announce() == []
