"""The per-organization document counters (migration 0016) and queues (0019) against a
fresh aggregate."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from core.domain import DocumentState
from storage.repositories.documents import DocumentRepository, count_by_state


async def assert_counts_fresh(uow_factory: Any) -> None:
    """One snapshot: the counters the triggers kept equal a count made now."""
    async with uow_factory() as uow:
        session = uow.session
        assert session is not None
        if session.bind.dialect.name == "postgresql":
            # Both reads in one snapshot, so a write landing in between cannot split them.
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        documents = DocumentRepository(session)
        fresh = await documents.fresh_counts()
        kept = await documents.kept_counts()
        queues = await documents.kept_queues()
        by_state = await documents.fresh_counts_by_state()
        summed = await count_by_state(session)
    assert kept == fresh
    assert queues == queues_of(fresh)
    assert summed == by_state  # what /metrics shows, from the counters


def queues_of(
    counts: dict[tuple[int, str, bool], tuple[int, datetime | None]],
) -> dict[int, tuple[int, datetime | None, int, int]]:
    """What each organization's queue row must hold, from its counters."""
    waiting: dict[int, int] = defaultdict(int)
    oldest: dict[int, datetime] = {}
    returned: dict[int, int] = defaultdict(int)
    retake: dict[int, int] = defaultdict(int)
    for (org, state, auto), (count, first) in counts.items():
        if state in (DocumentState.TO_FILE.value, DocumentState.NEEDS_MANUAL.value):
            waiting[org] += count
            if count and first is not None:
                oldest[org] = min(first, oldest.get(org, first))
        elif state == DocumentState.RETURNED.value:
            (retake if auto else returned)[org] += count
    orgs = {o for o in (*waiting, *returned, *retake) if waiting[o] or returned[o] or retake[o]}
    return {o: (waiting[o], oldest.get(o), returned[o], retake[o]) for o in orgs}
