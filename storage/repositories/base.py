from __future__ import annotations

import functools
from typing import Any, TypeVar, cast

from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

T = TypeVar("T")


@functools.cache
def _by_id_query(entity: type[Any]) -> Select[Any]:
    # Built once per class: Session.get builds and keys a new statement on every call, a
    # third of its CPU (people, documents and organizations are read on every request).
    key = inspect(entity).primary_key[0]
    return select(entity).where(key == bindparam("id"))


class Repository:
    """Repositories add and query; they never commit (the unit of work does)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _get(self, entity: type[T], ident: int) -> T | None:
        """`Session.get`: one already in the session is its (no statement, its checks)."""
        if self.session.identity_map.get(identity_key(entity, ident)) is not None:
            return await self.session.get(entity, ident)
        query = _by_id_query(cast(Any, entity))
        found: T | None = await self.session.scalar(query, {"id": ident})
        return found
