"""What one accountant's card reads (the card, its late notice, smart filing's reason and
readiness): the vendor's remembered category and the office's suggestion once each, however
many parts of the card ask for them, and the same answers as each part asking alone."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from core import ready, review, review_card, suggestions
from core.categories import vendor_key
from core.domain import Document
from handlers import smart_card
from handlers.keyboards import one_a_line
from handlers.late_card import late_notice
from handlers.texts import Texts
from storage.files import DiskFileStore
from storage.uow import SqlUnitOfWorkFactory
from tests.storage.test_review import world
from tests.storage.test_suggestions import PAZ, history, paper

READ_WELL = {
    "date": {"value": "2026-11-10", "confidence": 0.95},
    "total": {"value": "100.00", "confidence": 0.95},
}


async def card_reads(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, number: int
) -> tuple[Counter[str], review_card.Card, smart_card.Extras]:
    """The statements of one card as `handlers.review.render_card` builds it, by table."""
    seen: Counter[str] = Counter()

    def count(*args: Any) -> None:
        table = re.search(r"\bFROM\s+(\w+)", str(args[2]))
        seen[table.group(1) if table else str(args[2])] += 1

    async with uow_factory() as uow:
        document = await uow.documents.get(number)
        assert document is not None
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            card = await review_card.card_of(uow, files, document)
            await late_notice(uow, Texts("en"), document, "caption", one_a_line([]))
            more = await smart_card.extras(uow, document, card.category, card.asked)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
    return seen, card, more


async def alone(
    uow_factory: SqlUnitOfWorkFactory, number: int
) -> tuple[str | None, suggestions.Suggestion | None, ready.Ready | None]:
    """The same answers, each part asking for itself."""
    async with uow_factory() as uow:
        document = await uow.documents.get(number)
        assert document is not None
        category = await review.suggested_category(uow, document)
        return (
            category,
            await suggestions.for_card(uow, document, category),
            await ready.readiness(uow, document),
        )


async def test_a_card_asks_for_the_vendor_and_the_suggestion_once(
    engine: AsyncEngine,
    uow_factory: SqlUnitOfWorkFactory,
    files: DiskFileStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suggestions.MODELS.forget()
    monkeypatch.setattr(suggestions.MODELS, "first_wait_seconds", None)  # trained below
    w = await world(uow_factory)
    await history(uow_factory, w)
    async with uow_factory() as uow:
        known = await uow.documents.add(paper(w, w.org, 95, PAZ, "תחנה ליטר", **READ_WELL))
        chosen = await uow.documents.add(paper(w, w.org, 96, PAZ, "תחנה ליטר", **READ_WELL))
        await uow.commit()
        await suggestions.suggest(uow, known)  # the model is trained before counting
    documents: list[Document] = [known, chosen]
    for index, document in enumerate(documents):
        if index == 1:  # the accountant chose another category for Paz: not ready any more
            async with uow_factory() as uow:
                key = vendor_key(document)
                assert key is not None
                await uow.categories.remember_vendor(w.org, key, "vehicle", w.alice)
                await uow.commit()
        seen, card, more = await card_reads(engine, uow_factory, files, document.id or 0)
        # Before: 3 office grants, 3 counts of the office's decisions, 4 vendor lookups.
        assert seen["office_access"] == 1 and seen["vendor_categories"] == 1, seen
        assert seen["documents"] == 1, seen  # the office's decisions
        category, reason, readiness = await alone(uow_factory, document.id or 0)
        assert card.category == category and more.suggestion == reason
        assert more.ready is (readiness is not None)
    assert [card.category, more.ready] == ["vehicle", False]
