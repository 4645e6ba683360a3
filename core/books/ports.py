"""What the books need from storage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from core.books.accounts import Bookkeeping
from core.books.records import ClosedPeriod, ExportRecord
from core.domain import Document, DocumentKind, DocumentState


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """A document as the books read it, without the whole mapped object: the columns an
    entry needs (`core.books.entries.Filed`) and the state."""

    id: int
    kind: DocumentKind
    state: DocumentState
    fields: dict[str, Any]
    created_at: datetime | None
    category: str | None = None


class BooksPort(Protocol):
    async def mappings(self, office_id: int) -> dict[tuple[str, str], str]: ...
    async def set_mapping(self, office_id: int, kind: str, key: str, account: str) -> None: ...
    async def bookkeeping(self, organization_id: int) -> Bookkeeping: ...
    async def set_bookkeeping(self, organization_id: int, bookkeeping: Bookkeeping) -> None: ...
    async def rates(self, currencies: Iterable[str]) -> dict[tuple[str, date], Decimal]: ...
    async def set_rate(self, currency: str, day: date, rate: Decimal, person_id: int) -> None: ...
    async def documents_since(
        self, organization_id: int, states: Iterable[DocumentState], since: datetime
    ) -> list[Document]: ...
    def stream_documents_since(
        self, organization_id: int, states: Iterable[DocumentState], since: datetime
    ) -> AsyncIterator[Document]: ...
    def period_rows_since(
        self, organization_id: int, states: Iterable[DocumentState], since: datetime
    ) -> AsyncIterator[PeriodRow]: ...
    async def documents_by_ids(
        self, organization_id: int, ids: Sequence[int]
    ) -> list[Document]: ...
    async def add_export(self, record: ExportRecord) -> ExportRecord: ...
    async def exports_for(self, organization_id: int, period: str) -> list[ExportRecord]: ...
    async def closed_periods(self, organization_id: int) -> set[str]: ...
    async def close(self, closed: ClosedPeriod) -> bool: ...
    async def reopen(self, organization_id: int, period: str) -> bool: ...
