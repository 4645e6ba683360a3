"""Books and exports (issue 13): account mapping, bookkeeping, rates, exports, closing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import bindparam, delete, insert, select, update

from core.books.accounts import Bookkeeping
from core.books.ports import PeriodRow
from core.books.records import BooksSettings, ClosedPeriod, ExportRecord
from core.domain import Document, DocumentState
from storage import tables
from storage.repositories.base import Repository

_m = tables.account_mappings.c
_r = tables.exchange_rates.c
_d = tables.documents.c
_e = tables.exports.c
_c = tables.closed_periods.c
# Asked by every review action (a closed period is final): built once.
_CLOSED_PERIODS = select(_c.period).where(_c.organization_id == bindparam("organization_id"))


class BooksRepository(Repository):
    PERIOD_CHUNK = 500  # rows a period read takes from the database at a time

    async def mappings(self, office_id: int) -> dict[tuple[str, str], str]:
        rows = await self.session.execute(
            select(_m.kind, _m.key, _m.account).where(_m.office_id == office_id)
        )
        return {(kind, key): account for kind, key, account in rows}

    async def set_mapping(self, office_id: int, kind: str, key: str, account: str) -> None:
        done = await self.session.execute(
            update(tables.account_mappings)
            .where(_m.office_id == office_id, _m.kind == kind, _m.key == key)
            .values(account=account)
        )
        if not getattr(done, "rowcount", 0):
            await self.session.execute(
                insert(tables.account_mappings).values(
                    office_id=office_id, kind=kind, key=key, account=account
                )
            )

    async def bookkeeping(self, organization_id: int) -> Bookkeeping:
        found = await self.session.scalar(
            select(BooksSettings).where(tables.books_settings.c.organization_id == organization_id)
        )
        return found.bookkeeping if found is not None else Bookkeeping.DOUBLE

    async def set_bookkeeping(self, organization_id: int, bookkeeping: Bookkeeping) -> None:
        found = await self.session.scalar(
            select(BooksSettings).where(tables.books_settings.c.organization_id == organization_id)
        )
        if found is None:
            self.session.add(BooksSettings(organization_id, bookkeeping))
        else:
            found.bookkeeping = bookkeeping
        await self.session.flush()

    async def rates(self, currencies: Iterable[str]) -> dict[tuple[str, date], Decimal]:
        wanted = sorted(set(currencies))
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(_r.currency, _r.day, _r.rate).where(_r.currency.in_(wanted))
        )
        return {(c, date.fromisoformat(d)): Decimal(r) for c, d, r in rows}

    async def set_rate(self, currency: str, day: date, rate: Decimal, person_id: int) -> None:
        done = await self.session.execute(
            update(tables.exchange_rates)
            .where(_r.currency == currency, _r.day == day.isoformat())
            .values(rate=str(rate), set_by=person_id)
        )
        if not getattr(done, "rowcount", 0):
            await self.session.execute(
                insert(tables.exchange_rates).values(
                    currency=currency, day=day.isoformat(), rate=str(rate), set_by=person_id
                )
            )

    async def documents_since(
        self, organization_id: int, states: Iterable[DocumentState], since: datetime
    ) -> list[Document]:
        """Documents of the organization in these states that arrived since `since`, in
        arrival order (the caller places each in its VAT period by its date)."""
        result = await self.session.scalars(
            select(Document)
            .where(
                _d.organization_id == organization_id,
                _d.state.in_([s.value for s in states]),
                _d.created_at >= since,
            )
            .order_by(_d.id)
        )
        return list(result)

    async def stream_documents_since(
        self,
        organization_id: int,
        states: Iterable[DocumentState],
        since: datetime,
        chunk: int = 500,
    ) -> AsyncIterator[Document]:
        """documents_since, read from the database `chunk` rows at a time (a server-side
        cursor on PostgreSQL), so memory does not grow with the count."""
        result = await self.session.stream_scalars(
            select(Document)
            .where(
                _d.organization_id == organization_id,
                _d.state.in_([s.value for s in states]),
                _d.created_at >= since,
            )
            .order_by(_d.id)
            .execution_options(yield_per=chunk)
        )
        async for document in result:
            yield document

    async def period_rows_since(
        self,
        organization_id: int,
        states: Iterable[DocumentState],
        since: datetime,
    ) -> AsyncIterator[PeriodRow]:
        """What stream_documents_since reads, in one statement (one snapshot of the period,
        on PostgreSQL too), without the ORM: only the columns an entry needs, a chunk of
        rows at a time. The ORM's identity map and change tracking cost more than the rows."""
        result = await self.session.stream(
            select(_d.id, _d.kind, _d.state, _d.fields, _d.created_at, _d.category)
            .where(
                _d.organization_id == organization_id,
                _d.state.in_([s.value for s in states]),
                _d.created_at >= since,
            )
            .order_by(_d.id)
            .execution_options(yield_per=self.PERIOD_CHUNK)
        )
        async for partition in result.partitions():
            for row in partition:
                yield PeriodRow(*row)

    async def documents_by_ids(self, organization_id: int, ids: Sequence[int]) -> list[Document]:
        """The organization's documents among `ids`, in id order."""
        result = await self.session.scalars(
            select(Document)
            .where(_d.organization_id == organization_id, _d.id.in_(list(ids)))
            .order_by(_d.id)
        )
        return list(result)

    async def add_export(self, record: ExportRecord) -> ExportRecord:
        self.session.add(record)
        await self.session.flush()
        return record

    async def exports_for(self, organization_id: int, period: str) -> list[ExportRecord]:
        result = await self.session.scalars(
            select(ExportRecord)
            .where(_e.organization_id == organization_id, _e.period == period)
            .order_by(_e.id)
        )
        return list(result)

    async def closed_periods(self, organization_id: int) -> set[str]:
        rows = await self.session.scalars(_CLOSED_PERIODS, {"organization_id": organization_id})
        return set(rows)

    async def close(self, closed: ClosedPeriod) -> bool:
        """False when the period was already closed."""
        found = await self.session.scalar(
            select(_c.id).where(
                _c.organization_id == closed.organization_id, _c.period == closed.period
            )
        )
        if found is not None:
            return False
        self.session.add(closed)
        await self.session.flush()
        return True

    async def reopen(self, organization_id: int, period: str) -> bool:
        done = await self.session.execute(
            delete(tables.closed_periods).where(
                _c.organization_id == organization_id, _c.period == period
            )
        )
        return bool(getattr(done, "rowcount", 0))
