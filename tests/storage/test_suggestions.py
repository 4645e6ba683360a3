"""Categories that learn (issue 17), on a real database: the office's model suggests from its
own filed documents with a reason, the keyword rules start an office with no history, and
another office's documents never reach it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest

from core import review, suggestions
from core.domain import Document, DocumentKind, DocumentState
from core.ports import UnitOfWork
from storage.uow import SqlUnitOfWorkFactory
from tests.scenario import NOW
from tests.storage.test_review import World, world

PAZ = ("510000003", "Paz Ltd", "דלק בנזין ליטר תחנה")
BEZEQ = ("520000029", "Bezeq", "אינטרנט חבילה גלישה חודשי")
RENT = ("513000004", "Azrieli", "שכירות חודש משרד נכס")


def paper(
    w: World, org: int, n: int, vendor: tuple[str, str, str] | None, words: str, **extra: object
) -> Document:
    category = extra.pop("category", None)
    fields: dict[str, object] = {suggestions.WORDS: words}
    if vendor is not None:
        fields["vendor_id"] = {"value": vendor[0], "confidence": 0.9}
        fields["vendor_name"] = {"value": vendor[1], "confidence": 0.9}
    fields.update(extra)
    return Document(
        uploaded_by=w.client,
        batch=f"s{org}-{n}",
        source_platform="telegram",
        source_chat_id=4,
        source_message_id=100_000 + org * 1000 + n,
        organization_id=org,
        kind=DocumentKind.TAX_INVOICE,
        state=DocumentState.FILED if category is not None else DocumentState.TO_FILE,
        category=category if isinstance(category, str) else None,
        fields=fields,
        created_at=NOW - timedelta(days=60 - n),
        updated_at=NOW - timedelta(days=60 - n),
    )


async def history(uow_factory: SqlUnitOfWorkFactory, w: World) -> None:
    """Falafel Ltd's office filed 12 fuel invoices from Paz, 10 internet bills, 8 rents."""
    async with uow_factory() as uow:
        n = 0
        for vendor, category, count in (
            (PAZ, "fuel", 12),
            (BEZEQ, "communications", 10),
            (RENT, "rent", 8),
        ):
            for _ in range(count):
                n += 1
                await uow.documents.add(paper(w, w.org, n, vendor, vendor[2], category=category))
        await uow.commit()


async def test_the_office_model_suggests_with_a_reason_and_never_mixes_offices(
    uow_factory: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    suggestions.MODELS.forget()
    # Each first model waited for here (the bot's cards do not wait, see below).
    monkeypatch.setattr(suggestions.MODELS, "first_wait_seconds", None)
    w = await world(uow_factory)
    async with uow_factory() as uow:
        # No history yet: the default chart's keyword rules, from the document's words only.
        fresh = await uow.documents.add(paper(w, w.org, 90, None, "קבלה דלק סולר"))
        await uow.commit()
        rule = await suggestions.suggest(uow, fresh)
        assert rule is not None and rule.category == "fuel"
        assert rule.reason is suggestions.Reason.RULE and rule.words == ("דלק", "סולר")
        assert (
            await suggestions.suggest(
                uow, await uow.documents.add(paper(w, w.org, 91, None, "קבלה שונות"))
            )
            is None
        )
        await uow.commit()
    await history(uow_factory, w)
    async with uow_factory() as uow:
        # A known vendor: "like 12 earlier invoices from Paz".
        known = await uow.documents.add(paper(w, w.other_org, 1, PAZ, "תחנה ליטר"))
        await uow.commit()
        found = await suggestions.suggest(uow, known)
        assert found is not None and found.category == "fuel"
        assert found.reason is suggestions.Reason.VENDOR and found.count == 12
        assert found.vendor == "Paz Ltd" and found.confidence >= suggestions.THRESHOLD
        # An unknown vendor: the words that weighed most.
        unknown = await uow.documents.add(paper(w, w.org, 92, None, "חבילה גלישה"))
        await uow.commit()
        found = await suggestions.suggest(uow, unknown)
        assert found is not None and found.category == "communications"
        assert found.reason is suggestions.Reason.WORDS and set(found.words) <= {"חבילה", "גלישה"}
        # Nothing it knows: no guess.
        assert (
            await suggestions.suggest(
                uow, await uow.documents.add(paper(w, w.org, 93, None, "פריט"))
            )
            is None
        )
        await uow.commit()
        # One tap: approving takes the model's suggestion.
        filed = await review.approve(uow, w.alice, known.id or 0, known.version, NOW)
        assert filed.category == "fuel"
    async with uow_factory() as uow:
        # Another office's organization, same vendor: that office has no history of its own,
        # so only the keyword rules speak (nothing in these words), never Falafel's model.
        other_office = await uow.organizations.for_office(2)
        assert [o.name for o in other_office] == ["Not ours"]
        theirs = await uow.documents.add(paper(w, other_office[0].id or 0, 1, PAZ, "תחנה"))
        await uow.commit()
        assert await suggestions.suggest(uow, theirs) is None


async def test_no_transaction_is_held_while_the_office_model_trains(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """Training takes a while (seconds for a big office); meanwhile uploads and other
    reviews must be able to write. With SQLite the card's transaction would hold the one
    write lock (and the one connection) for all that time."""
    w = await world(uow_factory)
    await history(uow_factory, w)
    training = threading.Event()
    go_on = threading.Event()
    train = suggestions.CategoryModel.train

    def slow_train(examples: list[suggestions.Example]) -> suggestions.CategoryModel | None:
        training.set()
        go_on.wait(10)  # bounded: the test fails below long before
        return train(examples)

    async def trainer(
        examples: Sequence[suggestions.Example],
    ) -> suggestions.CategoryModel | None:
        # In a thread: a function of the test does not travel to the training process.
        return await asyncio.to_thread(slow_train, list(examples))

    models = suggestions.Models(trainer=trainer)
    async with uow_factory() as uow:
        card = await uow.documents.add(paper(w, w.org, 95, PAZ, PAZ[2]))
        await uow.commit()
        suggesting = asyncio.create_task(suggestions.suggest(uow, card, models))
        try:
            for _ in range(500):
                if training.is_set():
                    break
                await asyncio.sleep(0.01)
            assert training.is_set(), "the model never started training"

            async def another_write() -> None:
                async with uow_factory() as other:
                    await other.documents.add(paper(w, w.org, 96, RENT, RENT[2]))
                    await other.commit()

            await asyncio.wait_for(another_write(), 5)
        finally:
            go_on.set()
        found = await asyncio.wait_for(suggesting, 30)
    assert found is not None and found.category == "fuel"


async def test_a_card_does_not_wait_for_the_first_model_it_shows_the_rules_meanwhile(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """A first training (the training process started, scikit-learn imported: seconds) is
    not waited for past `first_wait_seconds`: the card shows the keyword rules, the model
    trains once however many cards ask, and the next card gets it."""
    w = await world(uow_factory)
    await history(uow_factory, w)
    calls: list[int] = []
    release = asyncio.Event()

    async def trainer(
        examples: Sequence[suggestions.Example],
    ) -> suggestions.CategoryModel | None:
        calls.append(len(examples))
        await asyncio.wait_for(release.wait(), 10)
        return suggestions.CategoryModel.train(examples)

    models = suggestions.Models(trainer=trainer, first_wait_seconds=0.2)
    async with uow_factory() as uow:
        card = await uow.documents.add(paper(w, w.other_org, 1, PAZ, "תחנה ליטר"))
        await uow.commit()
        started = time.monotonic()
        for _ in range(3):
            early = await asyncio.wait_for(suggestions.suggest(uow, card, models), 5)
            assert early is not None and early.reason is suggestions.Reason.RULE
        assert time.monotonic() - started < 3
        assert calls == [30], "one first training however many cards ask"
        release.set()
        for _ in range(500):
            if not models._retraining:
                break
            await asyncio.sleep(0.01)
        found = await suggestions.suggest(uow, card, models)
    assert found is not None and found.reason is suggestions.Reason.VENDOR
    assert calls == [30]


async def test_a_stale_model_answers_at_once_while_the_office_model_retrains(
    uow_factory: SqlUnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """After the office's first model, a card never waits for training: the old model
    answers while the new one trains in the background, and replaces it when done; a
    training that fails leaves the old model in place."""
    w = await world(uow_factory)
    await history(uow_factory, w)
    calls: list[int] = []
    started = asyncio.Event()
    release = asyncio.Event()
    fail = False

    async def trainer(
        examples: Sequence[suggestions.Example],
    ) -> suggestions.CategoryModel | None:
        calls.append(len(examples))
        if len(calls) > 1:  # the first model is waited for; retrainings block until released
            started.set()
            await asyncio.wait_for(release.wait(), 10)
            if fail:
                raise RuntimeError("the trainer broke")
        return suggestions.CategoryModel.train(examples)

    models = suggestions.Models(retrain_seconds=0, trainer=trainer)

    async def file_paz(uow: UnitOfWork, n: int) -> None:
        for i in range(n):
            await uow.documents.add(
                paper(w, w.org, 200 + len(calls) * 10 + i, PAZ, PAZ[2], category="fuel")
            )
        await uow.commit()

    async def settled() -> None:
        """Until the background retraining is over (bounded)."""
        for _ in range(500):
            if not models._retraining:
                break
            await asyncio.sleep(0.01)
        assert not models._retraining, "the retraining never finished"

    try:
        async with uow_factory() as uow:
            grants = await uow.organizations.offices_with_access(w.org)
            office = grants[0].office_id
            card = await uow.documents.add(paper(w, w.other_org, 1, PAZ, "תחנה ליטר"))
            await uow.commit()
            first = await suggestions.suggest(uow, card, models)
            assert first is not None and first.reason is suggestions.Reason.VENDOR
            assert first.count == 12 and calls == [30]
            old = await models.for_office(uow, office)
            assert old is not None

            # Three more Paz invoices filed: the next card gets the old model at once.
            await file_paz(uow, 3)
            assert await asyncio.wait_for(models.for_office(uow, office), 5) is old
            await asyncio.wait_for(started.wait(), 10)
            found = await asyncio.wait_for(suggestions.suggest(uow, card, models), 5)
            assert found is not None and found.count == 12  # still the old model's
            assert calls == [30, 33], "one retraining per office at a time"
            assert not release.is_set()
            release.set()
            await settled()
            new = await models.for_office(uow, office)
            assert new is not None and new is not old and new.examples == 33
            found = await suggestions.suggest(uow, card, models)
            assert found is not None and found.count == 15  # the new model's

            # A retraining that fails: logged, and the model stays.
            fail = True
            await file_paz(uow, 2)
            with caplog.at_level("ERROR", logger="core.suggestions"):
                assert await models.for_office(uow, office) is new
                await settled()
            assert "the old one stays" in caplog.text and "the trainer broke" in caplog.text
            assert models._entries[office].model is new

            # Closing cancels a retraining still running.
            release.clear()
            assert await models.for_office(uow, office) is new  # retrains again
            task = models._retraining[office]
            await asyncio.wait_for(models.close(), 5)
            assert task.cancelled() and not models._retraining
    finally:
        release.set()
        await models.close()
