from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.domain import Document, DocumentState, StoredFile
from core.errors import Conflict
from storage import tables
from storage.repositories.base import Repository

_d = tables.documents.c
_f = tables.stored_files.c


class DocumentRepository(Repository):
    async def get(self, document_id: int) -> Document | None:
        return await self.session.get(Document, document_id)

    async def add(self, document: Document) -> Document:
        self.session.add(document)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            # Only the source constraint can clash here: one message delivered twice at once.
            raise Conflict("document.duplicate_delivery") from exc
        return document

    async def by_source(self, platform: str, chat_id: int, message_id: int) -> Document | None:
        return await self.session.scalar(
            select(Document).where(
                _d.source_platform == platform,
                _d.source_chat_id == chat_id,
                _d.source_message_id == message_id,
            )
        )

    async def in_batch(self, batch: str) -> list[Document]:
        result = await self.session.scalars(
            select(Document).where(_d.batch == batch).order_by(_d.source_message_id, _d.id)
        )
        return list(result)

    async def original_of(self, organization_id: int, sha256: str) -> Document | None:
        """The first live document of this organization that holds a file with this hash."""
        return await self.session.scalar(
            select(Document)
            .join(tables.stored_files, _f.document_id == _d.id)
            .where(
                _d.organization_id == organization_id,
                _f.sha256 == sha256,
                _d.state.not_in(
                    [
                        DocumentState.DUPLICATE.value,
                        DocumentState.WITHDRAWN.value,
                        DocumentState.MERGED.value,
                    ]
                ),
            )
            .order_by(_d.id)
            .limit(1)
        )

    async def count_by_state(
        self, *, uploaded_by: int, since: datetime, organization_ids: list[int] | None = None
    ) -> dict[tuple[int | None, DocumentState], int]:
        query: Any = (
            select(_d.organization_id, _d.state, func.count())
            .where(_d.uploaded_by == uploaded_by, _d.created_at >= since)
            .group_by(_d.organization_id, _d.state)
        )
        if organization_ids is not None:
            query = query.where(_d.organization_id.in_(organization_ids))
        rows = await self.session.execute(query)
        return {(org, DocumentState(state)): count for org, state, count in rows}

    async def add_file(self, stored: StoredFile) -> StoredFile:
        self.session.add(stored)
        await self.session.flush()
        return stored

    async def files(self, document_id: int) -> list[StoredFile]:
        result = await self.session.scalars(
            select(StoredFile).where(_f.document_id == document_id).order_by(_f.page_order, _f.id)
        )
        return list(result)
