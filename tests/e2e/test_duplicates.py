"""A likely duplicate end to end (issue 17): the client is told gently, the accountant's card
names the earlier document, shows it one tap away, and is resolved each way: keep both,
return as duplicate, approve anyway (the last one sent to the client's other business).

The reader is off in the harness; each photo is read the way the worker applies a reading
(`apply_reading` on the claimed job, then the worker's notice to the client), with the
fields a perfect reader gives the factory's invoice and the picture's real fingerprint.
"""

from __future__ import annotations

from sqlalchemy import select

from core import duplicates
from core.domain import DocumentState, OfficeRole
from local_api.client import ChatMessage, TgUser
from storage import tables
from tests import receipt_factory as rf
from tests import scenario
from tests.e2e import smart_world
from tests.e2e.harness import Harness
from tests.e2e.smart_world import open_org

DANA = TgUser(id=5_000_017_101, first_name="Dana", language_code="he")
ALICE = TgUser(id=5_000_017_102, first_name="Alice", language_code="en")


async def states(harness: Harness) -> list[tuple[DocumentState, dict[str, object]]]:
    """Every document's state and fields, in the order they were sent."""
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        d = tables.documents.c
        rows = await uow.session.execute(select(d.state, d.fields).order_by(d.id))
        return [(DocumentState(s), f) for s, f in rows]


async def send(harness: Harness, photo: bytes, org: str | None = None) -> None:
    reply = await harness.after(DANA, harness.api.send_photo(DANA, photo))
    if org is not None and "?" in (reply.text or ""):
        await harness.after(DANA, harness.api.click(DANA, reply, org))


async def test_a_likely_duplicate_is_shown_and_resolved_each_way(harness: Harness) -> None:
    office_id, falafel = await harness.office_and_org("Falafel Ltd")
    hummus = await scenario.organization(harness.app.uow_factory, office_id, name="Hummus Ltd")
    await smart_world.staff(harness, ALICE, office_id, OfficeRole.STAFF)
    await harness.join(DANA, falafel)
    spec = rf.hebrew_invoice(seed=11)
    fields = spec.expected()

    async def read(photo: bytes) -> ChatMessage:
        return await smart_world.read(harness, DANA, fields, photo=photo, kind=spec.kind)

    page = rf.render(spec)
    first, _ = rf.on_table(page)
    again, _ = rf.on_table(
        page, corners=((0.05, 0.12), (0.8, 0.05), (0.95, 0.85), (0.12, 0.95)), light=0.55
    )

    # The first photo: read, nothing said about duplicates; the accountant files it.
    await send(harness, rf.jpeg_bytes(first))
    notice = await read(rf.jpeg_bytes(first))
    assert "כבר נשלח" not in (notice.text or "")
    card = await open_org(harness, ALICE, "Falafel Ltd")
    assert "Probably the same" not in (card.caption or "")
    await harness.after(ALICE, harness.api.click(ALICE, card, "✅ Approve"))

    # Photographed again: the client is told gently, the card names #1 with its reason.
    await send(harness, rf.jpeg_bytes(again, quality=70))
    notice = await read(rf.jpeg_bytes(again, quality=70))
    assert "נראה שהמסמך הזה כבר נשלח (מס' 1" in (notice.text or "")
    card = await open_org(harness, ALICE, "Falafel Ltd")
    assert "🔁 Probably the same as #1 (sent in the chat" in (card.caption or "")
    assert "same vendor and document number" in (card.caption or "")
    # The earlier document is one tap away; the card stays.
    shown = await harness.after(ALICE, harness.api.click(ALICE, card, "👁 Show #1"))
    assert shown.kind == "photo" and "#1" in (shown.caption or "")
    # Keep both: the card comes back without the mark; the pair is not proposed again.
    card = await harness.after(ALICE, harness.api.click(ALICE, card, "➕ Keep both"))
    assert "Probably the same" not in (card.caption or "")
    state, kept = (await states(harness))[1]
    assert state is DocumentState.TO_FILE and duplicates.DUPLICATE not in kept
    assert kept[duplicates.DISMISSED] == [1]

    # A third copy: returned to the client as a duplicate.
    await send(harness, rf.jpeg_bytes(first, quality=60))
    await read(rf.jpeg_bytes(first, quality=60))
    await harness.say(ALICE, "/cancel")
    card = await open_org(harness, ALICE, "Falafel Ltd")
    if "Probably the same" not in (card.caption or ""):  # #2 (kept) comes first: skip it
        card = await harness.after(ALICE, harness.api.click(ALICE, card, "⏭ Skip"))
    assert "Probably the same as #1" in (card.caption or "")
    back = await harness.after(DANA, harness.api.click(ALICE, card, "↩️ Return as duplicate"))
    assert "כפול" in (back.caption or back.text or "")
    assert (await states(harness))[2][0] is DocumentState.RETURNED

    # Sent to the client's other business: pointed out, then approved anyway.
    await harness.join(DANA, hummus.id or 0)
    await send(harness, rf.jpeg_bytes(again), org="Hummus Ltd")
    notice = await read(rf.jpeg_bytes(again))
    assert "כבר נשלח אל Falafel Ltd" in (notice.text or "")
    card = await open_org(harness, ALICE, "Hummus Ltd")
    assert "of Falafel Ltd" in (card.caption or "") and "wrong business" in (card.caption or "")
    await harness.after(ALICE, harness.api.click(ALICE, card, "✅ Approve anyway"))
    filed = [s for s, _ in await states(harness) if s is DocumentState.FILED]
    assert len(filed) == 2
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        a = tables.audit_log.c
        actions = list(await uow.session.scalars(select(a.action).order_by(a.id)))
    assert actions.count("document.duplicate_suspected") == 3
    assert "document.duplicate_dismissed" in actions
