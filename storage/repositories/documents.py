from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    String,
    bindparam,
    case,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from core.domain import Document, DocumentState, Organization, ReportRow, StoredFile
from core.errors import Conflict
from storage import tables
from storage.repositories.base import Repository

_d = tables.documents.c
_f = tables.stored_files.c
_REVIEW = list(tables.REVIEW_STATES)


def in_states_literally(states: list[str]) -> ColumnElement[bool]:
    """`state IN (...)` with the states as literals, as a partial index's predicate is
    written, so that the planner can match the index (the review order's, migration 0020)."""
    return _d.state.in_(
        bindparam("states", states, expanding=True, type_=String(), literal_execute=True)
    )


async def count_by_state(conn: AsyncConnection | AsyncSession) -> dict[str, int]:
    """Documents by state (every state, 0 when none), for /metrics: the per-organization
    counters the triggers keep (migration 0016) summed, plus the few documents still
    waiting without an organization, found by the (organization_id, state, ...) index.
    Never a count over the whole documents table."""
    c = tables.document_counts.c
    kept = select(c.state, func.sum(c.count)).group_by(c.state)
    loose = select(_d.state, func.count()).where(_d.organization_id.is_(None)).group_by(_d.state)
    counts = {state.value: 0 for state in DocumentState}
    for query in (kept, loose):
        for state, count in (await conn.execute(query)).all():
            key = str(getattr(state, "value", state))
            counts[key] = counts.get(key, 0) + int(count or 0)
    return counts


def _utc(value: datetime | str | None) -> datetime | None:
    """An aggregate's datetime comes back raw (SQLite: a naive string)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@functools.cache
def _review_report_query() -> Select[Any]:
    """/tofile's statement, built once: building it (subqueries, cases, coercions) cost
    about 2 ms of CPU a call; only the person changes, as a bound parameter. It reads one
    queue row per organization (migration 0019) by key: grouping the counters behind them
    was most of the report's SQL."""
    o = tables.organizations.c
    a = tables.office_access.c
    m = tables.office_members.c
    p = tables.people.c
    q = tables.organization_queues.c
    reachable_orgs = (
        select(a.organization_id)
        .join(tables.office_members, m.office_id == a.office_id)
        .where(
            m.person_id == bindparam("person_id"), m.removed_at.is_(None), a.revoked_at.is_(None)
        )
    )
    # From the few clients who blocked the bot to their returned documents (by index).
    # Written as "uploaded by one of these people" so that even a planner without
    # statistics (SQLite) walks the (uploaded_by, state) index, not every document.
    unreachable = select(_d.organization_id).where(
        _d.uploaded_by.in_(select(p.id).where(p.reachable.is_(False))),
        _d.state == DocumentState.RETURNED.value,
    )
    return (
        select(
            q.organization_id,
            o.name,
            q.waiting,
            q.oldest,
            q.returned,
            type_coerce(q.organization_id.in_(unreachable), Boolean),  # SQLite's 0/1 as bool
            q.retake,
        )
        .join(tables.organizations, o.id == q.organization_id)
        .where(
            q.organization_id.in_(reachable_orgs),
            (q.waiting > 0) | (q.returned > 0) | (q.retake > 0),
        )
    )


@functools.cache
def _by_source_query() -> Select[Any]:
    return select(Document).where(
        _d.source_platform == bindparam("platform"),
        _d.source_chat_id == bindparam("chat_id"),
        _d.source_message_id == bindparam("message_id"),
    )


@functools.cache
def _original_query() -> Select[Any]:
    return (
        select(Document)
        .join(tables.stored_files, _f.document_id == _d.id)
        .where(
            _d.organization_id == bindparam("organization_id"),
            _f.sha256 == bindparam("sha256"),
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


@functools.cache
def _next_number_statement() -> Any:
    o = tables.organizations.c
    return (
        update(tables.organizations)
        .where(o.id == bindparam("organization_id"))
        .values(last_document_number=o.last_document_number + 1)
        .returning(o.last_document_number)
    )


@functools.cache
def _with_organization_query() -> Select[Document, Organization]:
    o = tables.organizations.c
    return (
        select(Document, Organization)
        .outerjoin(Organization, o.id == _d.organization_id)
        .where(_d.id == bindparam("id"))
    )


@functools.cache
def _files_query() -> Select[Any]:
    return (
        select(StoredFile)
        .where(_f.document_id == bindparam("document_id"))
        .order_by(_f.page_order, _f.id)
    )


def _to_file_in_order(organization_id: int) -> Select[Document]:
    """An organization's documents waiting to be filed, oldest first: the order the review
    walks (next_to_file) and the web queue lists (to_file_queue)."""
    return (
        select(Document)
        .where(_d.organization_id == organization_id, in_states_literally(_REVIEW))
        .order_by(_d.created_at, _d.id)
    )


class DocumentRepository(Repository):
    async def get(self, document_id: int) -> Document | None:
        return await self._get(Document, document_id)

    async def with_organization(
        self, document_id: int
    ) -> tuple[Document | None, Organization | None]:
        """The document and its organization in one statement (a card needs both; both are
        then in the session, and `get` of either runs none)."""
        row = (await self.session.execute(_with_organization_query(), {"id": document_id})).first()
        return (row[0], row[1]) if row is not None else (None, None)

    async def add(self, document: Document) -> Document:
        self.session.add(document)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            # Only the source constraint can clash here: one message delivered twice at once.
            raise Conflict("document.duplicate_delivery") from exc
        return document

    async def by_source(self, platform: str, chat_id: int, message_id: int) -> Document | None:
        found: Document | None = await self.session.scalar(
            _by_source_query(),
            {"platform": platform, "chat_id": chat_id, "message_id": message_id},
        )
        return found

    async def in_batch(self, batch: str) -> list[Document]:
        result = await self.session.scalars(
            select(Document).where(_d.batch == batch).order_by(_d.source_message_id, _d.id)
        )
        return list(result)

    async def original_of(self, organization_id: int, sha256: str) -> Document | None:
        """The first live document of this organization that holds a file with this hash."""
        found: Document | None = await self.session.scalar(
            _original_query(), {"organization_id": organization_id, "sha256": sha256}
        )
        return found

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

    async def income_counts(self, *, uploaded_by: int, since: datetime) -> dict[int | None, int]:
        """Live documents marked as income, per organization (for /status)."""
        rows = await self.session.execute(
            select(_d.organization_id, func.count())
            .where(
                _d.uploaded_by == uploaded_by,
                _d.created_at >= since,
                _d.direction == "income",
                _d.state.not_in(
                    [
                        DocumentState.DUPLICATE.value,
                        DocumentState.MERGED.value,
                        DocumentState.WITHDRAWN.value,
                    ]
                ),
            )
            .group_by(_d.organization_id)
        )
        return {org: count for org, count in rows}

    async def add_file(self, stored: StoredFile) -> StoredFile:
        # Written with the rest at commit (or at the next query): one flush, not one each.
        self.session.add(stored)
        return stored

    async def files(self, document_id: int) -> list[StoredFile]:
        result = await self.session.scalars(_files_query(), {"document_id": document_id})
        return list(result)

    async def next_number(self, organization_id: int) -> int:
        """The organization's next document number; one UPDATE, so two uploads never share."""
        number = await self.session.scalar(
            _next_number_statement(), {"organization_id": organization_id}
        )
        assert number is not None
        return int(number)

    async def remove_file(self, stored: StoredFile) -> None:
        """Detaches a page from its document (the bytes stay in the file store)."""
        await self.session.delete(stored)

    # --- review (issue 4) ---

    async def save(self, document: Document) -> None:
        """Flushes a change; a concurrent write (stale version) becomes `Conflict`."""
        self.session.add(document)
        try:
            await self.session.flush()
        except StaleDataError as exc:
            await self.session.rollback()
            raise Conflict("review.already_handled") from exc

    async def review_report(self, person_id: int) -> list[ReportRow]:
        """Read from the per-organization queue rows (kept by triggers, migrations 0016 and
        0019): one row per organization, not every open document."""
        # All at once: iterating fetches row by row through the async adapter. The columns
        # come in ReportRow's order and no count is NULL: each row becomes a ReportRow as
        # it is, no call per value.
        rows = (await self.session.execute(_review_report_query(), {"person_id": person_id})).all()
        return list(map(ReportRow._make, rows))

    async def kept_queues(self) -> dict[int, tuple[int, datetime | None, int, int]]:
        """The queue rows as kept, those with nothing waiting left out (for tests and checks)."""
        q = tables.organization_queues.c
        rows = await self.session.execute(
            select(q.organization_id, q.waiting, q.oldest, q.returned, q.retake).where(
                (q.waiting != 0) | (q.returned != 0) | (q.retake != 0)
            )
        )
        return {
            org: (waiting, oldest, returned, retake)
            for org, waiting, oldest, returned, retake in rows
        }

    async def fresh_counts(self) -> dict[tuple[int, str, bool], tuple[int, datetime | None]]:
        """What `document_counts` must hold, aggregated afresh (for tests and checks)."""
        retake = (_d.state == DocumentState.RETURNED.value) & func.coalesce(_d.return_auto, False)
        rows = await self.session.execute(
            select(
                _d.organization_id,
                _d.state,
                retake,
                func.count(),
                func.min(case((_d.state.in_(_REVIEW), _d.created_at))),
            )
            .where(_d.organization_id.is_not(None))
            .group_by(_d.organization_id, _d.state, retake)
        )
        return {
            (org, DocumentState(state).value, bool(auto)): (int(count), _utc(oldest))
            for org, state, auto, count, oldest in rows
        }

    async def fresh_counts_by_state(self) -> dict[str, int]:
        """Documents by state counted afresh over the whole table (for tests and checks)."""
        rows = await self.session.execute(select(_d.state, func.count()).group_by(_d.state))
        counts = {state.value: 0 for state in DocumentState}
        counts.update({DocumentState(state).value: int(count) for state, count in rows})
        return counts

    async def kept_counts(self) -> dict[tuple[int, str, bool], tuple[int, datetime | None]]:
        """The counters as kept (rows counted down to zero left out)."""
        c = tables.document_counts.c
        rows = await self.session.execute(
            select(c.organization_id, c.state, c.retake, c.count, c.oldest).where(c.count != 0)
        )
        return {
            (org, state, bool(auto)): (int(count), oldest)
            for org, state, auto, count, oldest in rows
        }

    async def next_to_file(self, organization_id: int, after_id: int | None) -> Document | None:
        query: Any = _to_file_in_order(organization_id).limit(1)
        if after_id is not None:
            # Oldest first by (created_at, id); skipping continues after that position.
            after = select(_d.created_at).where(_d.id == after_id).scalar_subquery()
            query = query.where(
                (_d.created_at > after) | ((_d.created_at == after) & (_d.id > after_id))
            )
        found: Document | None = await self.session.scalar(query)
        return found

    async def to_file_queue(self, organization_id: int, limit: int) -> list[Document]:
        result = await self.session.scalars(_to_file_in_order(organization_id).limit(limit))
        return list(result)

    async def returned_to(self, uploaded_by: int, limit: int) -> list[Document]:
        """Documents returned to this sender and still waiting for their answer, oldest first."""
        result = await self.session.scalars(
            select(Document)
            .where(_d.uploaded_by == uploaded_by, _d.state == DocumentState.RETURNED.value)
            .order_by(_d.updated_at, _d.id)
            .limit(limit)
        )
        return list(result)
