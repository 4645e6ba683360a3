"""The web pages' browser links already used, in the database: one use each, whichever
replica is asked and after a restart too. Each call is its own short transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import tables

_l = tables.used_web_links.c
# Replicas' clocks differ a little: a row is kept a while past its link's expiry.
KEEP_AFTER_EXPIRY = timedelta(minutes=10)


class UsedLinks:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._insert = insert(tables.used_web_links)

    async def take(self, nonce: str, expires: datetime, now: datetime) -> bool:
        """True the first time a link is used; False ever after (until it expired anyway).

        The primary key decides: of two replicas inserting the same link at once, one
        inserts and the other finds the row (PostgreSQL makes it wait for the first)."""
        statement = (
            self._insert.values(nonce=nonce, expires_at=expires)
            .on_conflict_do_nothing(index_elements=["nonce"])
            .returning(_l.nonce)
        )
        async with self.engine.begin() as conn:
            # An expired link is refused for its age: its row is no longer needed.
            await conn.execute(
                delete(tables.used_web_links).where(_l.expires_at < now - KEEP_AFTER_EXPIRY)
            )
            return (await conn.execute(statement)).first() is not None
