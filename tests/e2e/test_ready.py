"""One tap for the obvious, end to end (issue 17): a ready document's card says so with the
reason for its category; approve-all-ready files every ready document of the organization
after one confirmation (each one audited); an organization opted in to auto-filing files
them with no tap, and the list of what was auto-filed undoes one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.scheduler import send_auto_filed
from core import suggestions
from core.domain import Document, DocumentKind, DocumentState, OfficeRole
from handlers.texts import Texts
from local_api.client import TgUser
from storage import tables
from tests import images
from tests.e2e import smart_world
from tests.e2e.harness import Harness
from tests.e2e.smart_world import buttons, open_org

DANA = TgUser(id=5_000_017_201, first_name="Dana", language_code="he")
RACHEL = TgUser(id=5_000_017_202, first_name="Rachel", language_code="en")  # office owner
MIRI = TgUser(id=5_000_017_203, first_name="Miri", language_code="he")  # another office's owner
PAZ = {"vendor_id": "510000003", "vendor_name": "Paz Ltd", "date": "2026-11-20"}


async def history(harness: Harness, org_id: int, client: int) -> None:
    """The office filed 20 fuel receipts from Paz and 6 phone bills before."""
    old = datetime.now(UTC) - timedelta(days=30)
    async with harness.app.uow_factory() as uow:
        for n in range(26):
            paz = n < 20
            vendor = PAZ if paz else {"vendor_id": "520000029", "vendor_name": "Bezeq"}
            await uow.documents.add(
                Document(
                    uploaded_by=client,
                    batch=f"h{n}",
                    source_platform="telegram",
                    source_chat_id=DANA.id,
                    source_message_id=900_000 + n,
                    organization_id=org_id,
                    kind=DocumentKind.RECEIPT,
                    state=DocumentState.FILED,
                    category="fuel" if paz else "communications",
                    fields={
                        **{k: {"value": v, "confidence": 1.0} for k, v in vendor.items()},
                        suggestions.WORDS: "דלק ליטר" if paz else "אינטרנט חבילה",
                    },
                    created_at=old,
                    updated_at=old,
                )
            )
        await uow.commit()


async def office_with_history(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, owner: TgUser, language: str
) -> None:
    """Falafel Ltd in an office `owner` owns, Dana its client, the office's filed history;
    the first model waited for: readiness here is the model's (the bot's cards do not wait)."""
    suggestions.MODELS.forget()
    monkeypatch.setattr(suggestions.MODELS, "first_wait_seconds", None)
    office_id, org_id = await harness.office_and_org("Falafel Ltd")
    await smart_world.staff(harness, owner, office_id, OfficeRole.OWNER, language=language)
    await harness.join(DANA, org_id)
    async with harness.app.uow_factory() as uow:
        found = await uow.people.by_identity("telegram", DANA.id)
        assert found is not None
    await history(harness, org_id, found[0].id or 0)


async def documents(harness: Harness) -> list[tuple[DocumentState, str | None]]:
    """State and category of each read document, in order."""
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        d = tables.documents.c
        rows = await uow.session.execute(
            select(d.state, d.category).where(d.read_at.is_not(None)).order_by(d.id)
        )
        return [(DocumentState(s), c) for s, c in rows]


async def test_approve_all_ready_and_auto_file_with_undo(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await office_with_history(harness, monkeypatch, RACHEL, "en")

    async def receipt(number: str, total: str, confidence: float = 0.95) -> None:
        await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label=number)))
        fields = {**PAZ, "doc_number": number, "total": total}
        await smart_world.read(
            harness,
            DANA,
            fields,
            kind=DocumentKind.RECEIPT,
            text="דלק 95 ליטר",
            confidence=confidence,
        )

    # Two sure receipts from Paz, and one with a doubtful field.
    await receipt("1001", "210.00")
    await receipt("1002", "185.50")
    await receipt("1003", "99.90", confidence=0.7)

    card = await open_org(harness, RACHEL, "Falafel Ltd")
    assert "✅ Ready" in (card.caption or "")
    assert "Suggested category: Fuel" in (card.caption or "")
    assert "like 20 earlier documents from Paz Ltd" in (card.caption or "")
    ask = await harness.after(
        RACHEL, harness.api.click(RACHEL, card, "✅ Approve all ready documents")
    )
    assert "Approve 2 ready documents of Falafel Ltd?" in (ask.text or "")
    await harness.after(RACHEL, harness.api.click(RACHEL, ask, "Yes, approve 2"))
    done = await smart_world.latest(harness, RACHEL, ask)
    assert "2 documents of Falafel Ltd filed" in (done.text or "")
    states = await documents(harness)
    assert [s for s, _ in states] == [
        DocumentState.FILED,
        DocumentState.FILED,
        DocumentState.TO_FILE,
    ]
    assert all(c == "fuel" for _, c in states[:2])
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        a = tables.audit_log.c
        filed_by = list(
            await uow.session.scalars(select(a.actor_id).where(a.action == "document.filed"))
        )
    assert len(filed_by) == 2 and len(set(filed_by)) == 1  # each audited, under Rachel

    # Auto-filing: the owner turns it on; the next sure receipt files itself.
    menu = await harness.say(RACHEL, "/autofile")
    assert buttons(menu) == ["Falafel Ltd: off (tap to turn on)"]
    menu = await harness.edited(
        RACHEL, harness.api.click(RACHEL, menu, "Falafel Ltd: off (tap to turn on)"), menu
    )
    assert buttons(menu) == ["Falafel Ltd: on (tap to turn off)"]
    await receipt("1004", "240.00")
    assert (await documents(harness))[3][0] is DocumentState.FILED

    # The morning list of what was auto-filed, with an undo: back to the queue.
    listed = await harness.after(RACHEL, send_auto_filed(harness.app))
    assert "Filed automatically since yesterday (1)" in (listed.text or "")
    assert "Paz Ltd" in (listed.text or "") and "Fuel" in (listed.text or "")
    assert await send_auto_filed(harness.app) == 0  # once a day
    [undo] = buttons(listed)
    listed = await harness.edited(RACHEL, harness.api.click(RACHEL, listed, undo), listed)
    assert "Nothing was filed automatically" in (listed.text or "")
    state, category = (await documents(harness))[3]
    assert state is DocumentState.TO_FILE and category is None
    # /autofiled shows the same list on demand (nothing now).
    again = await harness.say(RACHEL, "/autofiled")
    assert "Nothing was filed automatically" in (again.text or "")


async def test_a_hebrew_owner_reads_the_ready_card_in_hebrew(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same card, for an owner whose language is Hebrew: every line of it in Hebrew."""
    await office_with_history(harness, monkeypatch, MIRI, "he")
    await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label="2001")))
    fields = {**PAZ, "doc_number": "2001", "total": "210.00"}
    await smart_world.read(
        harness, DANA, fields, kind=DocumentKind.RECEIPT, text="דלק 95 ליטר", confidence=0.95
    )

    card = await open_org(harness, MIRI, "Falafel Ltd")
    caption = card.caption or ""
    he = Texts("he")
    assert he("ready.card") in caption
    assert he("review.card_suggested", category="דלק") in caption
    assert he("suggest.reason_vendor", count=20, vendor="Paz Ltd") in caption
    assert he("ready.button_all") in buttons(card)
    for english in ("Ready", "Suggested", "earlier documents", "Approve"):
        assert english not in caption + " ".join(buttons(card)), english
