"""The update inbox: Telegram updates kept in the database from arrival until handled.

An update is written here before it is confirmed to Telegram (the next `getUpdates`
offset, or the webhook's 200), so a crash or a stop loses none. Each call is its own short
transaction: the inbox sits beside the handlers' units of work, not inside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import tables

_u = tables.inbox_updates.c


def _not_after(fence: int) -> ColumnElement[bool]:
    """Not taken by a later lease holder than `fence` (nor by any)."""
    return or_(_u.fence.is_(None), _u.fence <= fence)


@dataclass(frozen=True)
class InboxUpdate:
    update_id: int
    chat_id: int | None
    body: dict[str, Any]
    attempts: int


class UpdateInbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._insert = insert(tables.inbox_updates)

    async def accept(self, updates: list[InboxUpdate], now: datetime) -> set[int]:
        """Writes the updates not seen before; returns their ids (a redelivery is not new)."""
        if not updates:
            return set()
        rows = [
            {"update_id": u.update_id, "chat_id": u.chat_id, "body": u.body, "received_at": now}
            for u in updates
        ]
        statement = (
            self._insert.values(rows)
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(_u.update_id)
        )
        async with self.engine.begin() as conn:
            return {row[0] for row in await conn.execute(statement)}

    async def take(self, update_id: int, fence: int) -> bool:
        """Takes an update for the holder of its chat's lease numbered `fence`.

        False when it is done (another holder finished it while this one waited) or a
        later holder took it (a greater number: this one's lease ran out meanwhile); then
        this one must not handle it. The database decides, not Redis: a lease can expire
        between a replica's look at Redis and its next step.
        """
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(tables.inbox_updates)
                .where(_u.update_id == update_id, _u.done_at.is_(None), _not_after(fence))
                .values(fence=fence)
            )
            return bool(result.rowcount)

    async def done(self, update_ids: list[int], now: datetime, fence: int | None = None) -> int:
        """Marks them done; how many were marked. With `fence`, only those not taken since by
        a later holder: of two replicas that both handled an update, one finishes it."""
        if not update_ids:
            return 0
        finished = update(tables.inbox_updates).where(
            _u.update_id.in_(update_ids), _u.done_at.is_(None)
        )
        if fence is not None:
            finished = finished.where(_not_after(fence))
        async with self.engine.begin() as conn:
            result = await conn.execute(finished.values(done_at=now))
            return int(result.rowcount or 0)

    async def unfinished(self) -> list[InboxUpdate]:
        """The updates a stopped or crashed run left, oldest first."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_u.update_id, _u.chat_id, _u.body, _u.attempts)
                .where(_u.done_at.is_(None))
                .order_by(_u.update_id)
            )
            return [InboxUpdate(r[0], r[1], r[2], r[3]) for r in rows]

    async def unfinished_of_chat(self, chat_id: int) -> list[InboxUpdate]:
        """One chat's unfinished updates, oldest first: whichever replica accepted them."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_u.update_id, _u.chat_id, _u.body, _u.attempts)
                .where(_u.done_at.is_(None), _u.chat_id == chat_id)
                .order_by(_u.update_id)
            )
            return [InboxUpdate(r[0], r[1], r[2], r[3]) for r in rows]

    async def waiting_chats(self, received_before: datetime) -> list[int]:
        """Chats with an update unfinished since before then (a replica died holding it)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_u.chat_id)
                .where(
                    _u.done_at.is_(None),
                    _u.chat_id.is_not(None),
                    _u.received_at < received_before,
                )
                .distinct()
            )
            return [int(r[0]) for r in rows]

    async def unfinished_without_chat(self, received_before: datetime) -> list[InboxUpdate]:
        """Updates with no chat unfinished since before then, oldest first."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_u.update_id, _u.chat_id, _u.body, _u.attempts)
                .where(
                    _u.done_at.is_(None),
                    _u.chat_id.is_(None),
                    _u.received_at < received_before,
                )
                .order_by(_u.update_id)
            )
            return [InboxUpdate(r[0], r[1], r[2], r[3]) for r in rows]

    async def retrying(self, update_id: int) -> None:
        """Counts a try of an update handled again (a first try is not written down)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(tables.inbox_updates)
                .where(_u.update_id == update_id)
                .values(attempts=_u.attempts + 1)
            )

    async def forget_done(self, before: datetime) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(tables.inbox_updates).where(_u.done_at.is_not(None), _u.done_at < before)
            )
            return int(result.rowcount or 0)

    async def counts(self) -> tuple[int, int]:
        """(unfinished, done): for health checks and tests."""
        async with self.engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(tables.inbox_updates))
            open_ = await conn.scalar(select(func.count()).where(_u.done_at.is_(None)))
        return int(open_ or 0), int(total or 0) - int(open_ or 0)
