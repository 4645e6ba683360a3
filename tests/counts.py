"""The per-organization document counters (migration 0016) against a fresh aggregate."""

from __future__ import annotations

from typing import Any

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
        by_state = await documents.fresh_counts_by_state()
        summed = await count_by_state(session)
    assert kept == fresh
    assert summed == by_state  # what /metrics shows, from the counters
