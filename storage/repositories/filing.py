"""Smart filing (issue 17): documents to compare and to learn from, and the auto-file opt-in."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update

from core.domain import Document, DocumentState
from storage import tables
from storage.repositories.base import Repository

_d = tables.documents.c
_a = tables.office_access.c
_fs = tables.filing_settings.c
_GONE = [DocumentState.DUPLICATE.value, DocumentState.WITHDRAWN.value, DocumentState.MERGED.value]


@functools.cache  # asked by every card that suggests a category: built once
def _decisions_query() -> Select[Any, Any]:
    organizations = select(_a.organization_id).where(
        _a.office_id == bindparam("office_id"), _a.revoked_at.is_(None)
    )
    return select(func.count(), func.max(_d.updated_at)).where(
        _d.organization_id.in_(organizations), _d.state == DocumentState.FILED.value
    )


class FilingRepository(Repository):
    async def candidates(
        self, organization_ids: list[int], *, since: datetime, limit: int
    ) -> list[Document]:
        """Read, live documents of these organizations since `since`, newest first."""
        if not organization_ids:
            return []
        result = await self.session.scalars(
            select(Document)
            .where(
                _d.organization_id.in_(organization_ids),
                _d.state.not_in(_GONE),
                _d.read_at.is_not(None),
                _d.created_at >= since,
            )
            .order_by(_d.created_at.desc(), _d.id.desc())
            .limit(limit)
        )
        return list(result)

    async def filed_for_office(self, office_id: int, limit: int) -> list[Document]:
        """Filed documents of the organizations the office serves now, newest decision first."""
        organizations = select(_a.organization_id).where(
            _a.office_id == office_id, _a.revoked_at.is_(None)
        )
        result = await self.session.scalars(
            select(Document)
            .where(
                _d.organization_id.in_(organizations),
                _d.state == DocumentState.FILED.value,
            )
            .order_by(_d.updated_at.desc(), _d.id.desc())
            .limit(limit)
        )
        return list(result)

    async def decisions(self, office_id: int) -> tuple[int, datetime | None]:
        """How many documents the office's organizations have filed, and the newest change:
        a model trained on them is current while these stay the same."""
        row = (await self.session.execute(_decisions_query(), {"office_id": office_id})).one()
        return int(row[0] or 0), row[1]

    async def to_file(self, organization_id: int, limit: int) -> list[Document]:
        result = await self.session.scalars(
            select(Document)
            .where(
                _d.organization_id == organization_id,
                _d.state == DocumentState.TO_FILE.value,
            )
            .order_by(_d.created_at, _d.id)
            .limit(limit)
        )
        return list(result)

    async def auto_file(self, organization_id: int) -> bool:
        value = await self.session.scalar(
            select(_fs.auto_file).where(_fs.organization_id == organization_id)
        )
        return bool(value)

    async def set_auto_file(self, organization_id: int, on: bool, person_id: int) -> None:
        values: dict[str, Any] = {"auto_file": on, "set_by": person_id}
        done = await self.session.execute(
            update(tables.filing_settings)
            .where(_fs.organization_id == organization_id)
            .values(**values)
        )
        if not getattr(done, "rowcount", 0):
            await self.session.execute(
                insert(tables.filing_settings).values(organization_id=organization_id, **values)
            )
