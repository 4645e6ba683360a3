from __future__ import annotations

from sqlalchemy import select

from core.domain import AuditEntry
from storage.repositories.base import Repository


class AuditRepository(Repository):
    async def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def for_document(self, document_id: int) -> list[AuditEntry]:
        result = await self.session.scalars(
            select(AuditEntry).where(AuditEntry.document_id == document_id).order_by(AuditEntry.id)
        )
        return list(result)

    async def last_for_document(self, document_id: int) -> AuditEntry | None:
        return await self.session.scalar(
            select(AuditEntry)
            .where(AuditEntry.document_id == document_id)
            .order_by(AuditEntry.id.desc())  # type: ignore[union-attr]
            .limit(1)
        )
