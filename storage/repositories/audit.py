from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from core.domain import AuditEntry
from storage import tables
from storage.repositories.base import Repository


class AuditRepository(Repository):
    async def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def for_document(self, document_id: int) -> list[AuditEntry]:
        result = await self.session.scalars(
            select(AuditEntry)
            .where(tables.audit_log.c.document_id == document_id)
            .order_by(tables.audit_log.c.id)
        )
        return list(result)

    async def last_for_document(self, document_id: int) -> AuditEntry | None:
        return await self.session.scalar(
            select(AuditEntry)
            .where(tables.audit_log.c.document_id == document_id)
            .order_by(tables.audit_log.c.id.desc())
            .limit(1)
        )

    async def count_by_actor(self, actor_id: int, action: str, since: datetime) -> int:
        """How often a person did something lately (rate limits read the audit log)."""
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    tables.audit_log.c.actor_id == actor_id,
                    tables.audit_log.c.action == action,
                    tables.audit_log.c.at >= since,
                )
            )
            or 0
        )

    async def by_actor(self, actor_id: int, action: str) -> list[AuditEntry]:
        result = await self.session.scalars(
            select(AuditEntry)
            .where(tables.audit_log.c.actor_id == actor_id, tables.audit_log.c.action == action)
            .order_by(tables.audit_log.c.id)
        )
        return list(result)

    async def since(self, action: str, since: datetime) -> list[AuditEntry]:
        """Entries of one action at or after `since`, oldest first."""
        result = await self.session.scalars(
            select(AuditEntry)
            .where(tables.audit_log.c.action == action, tables.audit_log.c.at >= since)
            .order_by(tables.audit_log.c.id)
        )
        return list(result)
