"""Use cases of the books: a period's VAT picture, exports, the account mapping, rates and
closing a period. Each re-checks permission against the database."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from core.books import movein, openfrmt, pcn874, spreadsheet
from core.books.accounts import AccountPlan, Bookkeeping, MappingError, check_mapping
from core.books.accounts import parse_mapping_csv as _parse_csv
from core.books.entries import Entry, Filed, MissingRate, VatPicture, entry_of, period_day
from core.books.records import ClosedPeriod, ExportFormat, ExportRecord
from core.books.spool import EntrySpool
from core.categories import chart
from core.deadlines.periods import Period
from core.domain import AuditEntry, Document, DocumentState, Organization, VatFrequency
from core.errors import Conflict, NotAllowed, NotFound, TayukError
from core.permissions import Action, may, require, require_in_office
from core.ports import UnitOfWork

_ISRAEL = ZoneInfo("Asia/Jerusalem")
# A document's date is never after its arrival, and input VAT is claimed within six months:
# documents of a period arrived after its start (or, moved there, up to this much before).
_LOOKBACK = timedelta(days=200)
EXTENSIONS = {
    ExportFormat.CSV: "csv",
    ExportFormat.XLSX: "xlsx",
    ExportFormat.OPENFRMT: "zip",
    ExportFormat.PCN874: "txt",
    ExportFormat.MOVEIN: "dat",
}


class BooksError(TayukError):
    key = "books.error"


def period_of(organization: Organization, day: date) -> Period:
    if organization.vat_frequency is VatFrequency.BIMONTHLY:
        return Period.bimonth(day.year, day.month)
    return Period.month(day.year, day.month)


def document_period(organization: Organization, document: Document) -> Period:
    return period_of(organization, period_day(document))


def recent_periods(organization: Organization, today: date, closed: set[str]) -> list[Period]:
    """The periods to offer, the open one to report first: the last period that ended,
    or once that is closed the current one; then the others, newest first."""
    current = period_of(organization, today)
    found = [current]
    while len(found) < 5:
        previous = found[-1].start - timedelta(days=1)
        found.append(period_of(organization, previous))
    first = found[1] if found[1].label not in closed else current
    return [first, *(p for p in found if p != first)]


@dataclass
class PeriodBooks:
    organization: Organization
    period: Period
    entries: list[Entry]
    picture: VatPicture
    closed: bool
    exports: list[ExportRecord]
    missing_rates: list[MissingRate] = field(default_factory=list)
    office_id: int | None = None


async def _office_for(uow: UnitOfWork, person_id: int | None, organization_id: int) -> int | None:
    """The office whose chart and accounts apply: the person's, among those serving it."""
    grants = [
        g.office_id
        for g in await uow.organizations.offices_with_access(organization_id)
        if g.revoked_at is None
    ]
    if person_id is not None:
        mine = {m.office_id for m in await uow.offices.memberships(person_id)}
        for office_id in grants:
            if office_id in mine:
                return office_id
    return grants[0] if grants else None


async def _organization(uow: UnitOfWork, organization_id: int) -> Organization:
    organization = await uow.organizations.get(organization_id)
    if organization is None:
        raise NotFound()
    return organization


_PERIOD_STATES = (
    DocumentState.FILED,
    DocumentState.TO_FILE,
    DocumentState.NEEDS_MANUAL,
    DocumentState.RETURNED,
)
_SortKey = tuple[date, int]


def _currency(document: Filed) -> str:
    found = document.fields.get("currency")
    return str(found.get("value") or "ILS").upper() if isinstance(found, dict) else "ILS"


@dataclass
class _Scan:
    """One streamed read of the period's documents: the filed ones as entries in entry
    order (in a list for the VAT picture, spooled to disk for an export), the rates they
    need and the ones missing, and the picture with the counts still waiting."""

    organization: Organization
    office_id: int | None
    shares: dict[str, Fraction]
    rates: dict[tuple[str, date], Decimal]
    entries: list[Entry]
    picture: VatPicture
    missing: list[MissingRate]
    spool: EntrySpool | None = None


async def _scan(
    uow: UnitOfWork,
    person_id: int | None,
    organization_id: int,
    period: Period,
    *,
    spool: EntrySpool | None = None,
) -> _Scan:
    """Reads the period once, in one statement (one snapshot on PostgreSQL too). With a
    `spool`, the entries go there (on disk past a small buffer) instead of the list.

    10,000 documents on SQLite (bench/export.py --through-database), CPU s at load ~20:
    the ORM's Document objects, read again in chunks by each writer pass: csv 1.32,
    xlsx 2.38, openfrmt 2.71, pcn874 2.22; this read of five columns with the entries
    spooled: 0.41, 0.55-0.59, 0.61-0.67, 0.52 (peak 3.2-3.9 MB, ~3.0-3.2 at 1,000)."""
    if person_id is not None:
        await require(uow, person_id, Action.EXPORT, organization_id)
    organization = await _organization(uow, organization_id)
    office_id = await _office_for(uow, person_id, organization_id)
    shares = chart(await uow.categories.office_shares(office_id)) if office_id else chart({})
    since = datetime.combine(period.start - _LOOKBACK, datetime.min.time()).astimezone()
    rates: dict[tuple[str, date], Decimal] = {}
    known = {"ILS"}
    found: list[tuple[_SortKey, Entry]] = []
    missing: list[tuple[_SortKey, MissingRate]] = []
    tally = VatPicture()
    waiting = returned = 0
    # Only a period of the organization's own frequency holds documents.
    own_period = period_of(organization, period.start) == period
    async for row in uow.books.period_rows_since(organization_id, _PERIOD_STATES, since):
        placed = period_day(row)
        if not (own_period and period.start <= placed <= period.end):
            continue
        if row.state is DocumentState.TO_FILE or row.state is DocumentState.NEEDS_MANUAL:
            waiting += 1
            continue
        if row.state is DocumentState.RETURNED:
            returned += 1
            continue
        currency = _currency(row)
        if currency not in known:  # rates are read once per currency met
            known.add(currency)
            rates.update(await uow.books.rates({currency}))
        key = (placed, row.id)
        moved = "_vat_period_day" in row.fields
        try:
            entry = entry_of(row, shares, rates, day=None if moved else placed)
        except MissingRate as exc:
            missing.append((key, exc))
            continue
        if spool is not None:
            spool.add(key, entry)
        else:
            found.append((key, entry))
    found.sort(key=lambda pair: pair[0])
    missing.sort(key=lambda pair: pair[0])
    entries = [entry for _, entry in found]
    if spool is None:
        for entry in entries:
            tally.add(entry)
    tally.to_file, tally.returned = waiting, returned
    return _Scan(
        organization,
        office_id,
        shares,
        rates,
        entries,
        tally,
        [exc for _, exc in missing],
        spool,
    )


async def load_period(
    uow: UnitOfWork, person_id: int | None, organization_id: int, period: Period
) -> PeriodBooks:
    """Filed documents of the period as entries, oldest first, and the VAT picture.
    `person_id` None is the command line, run by whoever runs the server."""
    scan = await _scan(uow, person_id, organization_id, period)
    closed = period.label in await uow.books.closed_periods(organization_id)
    exports = await uow.books.exports_for(organization_id, period.label)
    return PeriodBooks(
        scan.organization,
        period,
        scan.entries,
        scan.picture,
        closed,
        exports,
        scan.missing,
        scan.office_id,
    )


def file_name(organization: Organization, period: Period, fmt: ExportFormat) -> str:
    if fmt is ExportFormat.MOVEIN:
        return "MOVEIN.DAT"
    who = organization.business_number or str(organization.id)
    label = period.label.replace("/", "-")
    return f"{fmt.value}-{who}-{label}.{EXTENSIONS[fmt]}"


@dataclass(frozen=True)
class _Job:
    fmt: ExportFormat
    entries: Callable[[], Iterable[Entry]]  # each call reads the entries again, in order
    count: int
    picture: VatPicture
    organization: Organization
    period: Period
    plan: AccountPlan
    bookkeeping: Bookkeeping
    primary_id: int
    produced: datetime
    labels: Mapping[str, str]
    right_to_left: bool
    convention: movein.MoveinConvention


def _write(job: _Job, out: BinaryIO) -> dict[str, Any]:
    """Writes one export; returns what the export record keeps about it."""
    entries, period = job.entries, job.period
    vat_number = (job.organization.business_number or "").zfill(9)
    if job.fmt is ExportFormat.CSV:
        spreadsheet.write_csv(out, entries(), job.labels)
    elif job.fmt is ExportFormat.XLSX:
        spreadsheet.write_xlsx(
            out,
            entries(),
            job.labels,
            right_to_left=job.right_to_left,
            to_file=job.picture.to_file,
            returned=job.picture.returned,
        )
    elif job.fmt is ExportFormat.OPENFRMT:
        result = openfrmt.write(
            out,
            entries,
            company=openfrmt.Company(vat_number, job.organization.name),
            plan=job.plan,
            bookkeeping=job.bookkeeping,
            start=period.start,
            end=period.end,
            produced=job.produced,
            primary_id=job.primary_id,
        )
        return {
            "folder": result.folder,
            "primary_id": job.primary_id,
            "records": result.records,
            "bookkeeping": job.bookkeeping.value,
            "replaced": result.replaced,
        }
    elif job.fmt is ExportFormat.PCN874:
        totals = pcn874.write(
            out,
            entries,
            vat_number=vat_number,
            report_month=period.report_month,
            produced=job.produced,
        )
        return {
            "lines": totals.lines,
            "other_vat": totals.other_vat,
            "equipment_vat": totals.equipment_vat,
        }
    else:
        try:
            movein.write(out, entries(), plan=job.plan, convention=job.convention, count=job.count)
        except movein.AccountTooLong as exc:
            raise BooksError("books.account_too_long", account=exc.account) from None
        except ValueError:
            raise BooksError("books.too_many_for_convention") from None
        return {"convention": job.convention.value}
    return {}


async def export(
    uow: UnitOfWork,
    person_id: int | None,
    organization_id: int,
    period: Period,
    fmt: ExportFormat,
    out: BinaryIO,
    now: datetime,
    *,
    labels: Mapping[str, str] | None = None,
    right_to_left: bool = True,
    convention: movein.MoveinConvention = movein.MoveinConvention.NONE,
    primary_id: int | None = None,
) -> ExportRecord:
    """Writes the period's export to `out` (readable and seekable) and records it."""
    # The period is read once, in one statement; its entries wait on disk for the writer,
    # so memory holds only their sort keys.
    spool = EntrySpool()
    try:
        return await _export(
            uow, person_id, organization_id, period, fmt, out, now, spool,
            labels=labels, right_to_left=right_to_left, convention=convention,
            primary_id=primary_id,
        )  # fmt: skip
    finally:
        spool.close()


async def _export(
    uow: UnitOfWork,
    person_id: int | None,
    organization_id: int,
    period: Period,
    fmt: ExportFormat,
    out: BinaryIO,
    now: datetime,
    spool: EntrySpool,
    *,
    labels: Mapping[str, str] | None,
    right_to_left: bool,
    convention: movein.MoveinConvention,
    primary_id: int | None,
) -> ExportRecord:
    books = await _scan(uow, person_id, organization_id, period, spool=spool)
    if books.missing:
        first = books.missing[0]
        raise BooksError(
            "books.missing_rate",
            currency=first.currency,
            day=first.day.isoformat(),
            count=len(books.missing),
        )
    organization = books.organization
    labels = labels or {}
    names = {
        k.removeprefix("category."): v for k, v in labels.items() if k.startswith("category.")
    }
    names.update(
        {k.removeprefix("account."): v for k, v in labels.items() if k.startswith("account.")}
    )
    mappings = await uow.books.mappings(books.office_id) if books.office_id else {}
    plan = AccountPlan.of(mappings, names)
    entries = spool
    document_ids = spool.document_ids()
    bookkeeping = await uow.books.bookkeeping(organization_id)
    pid = primary_id or secrets.randbelow(9 * 10**14) + 10**14
    job = _Job(
        fmt,
        entries,
        len(document_ids),
        books.picture,
        organization,
        period,
        plan,
        bookkeeping,
        pid,
        now.astimezone(_ISRAEL),
        labels,
        right_to_left,
        convention,
    )
    start = out.tell()
    # Writing is CPU work: off the event loop, so the bot answers others meanwhile.
    details = await asyncio.to_thread(_write, job, out)
    out.seek(start)
    digest = hashlib.sha256()
    while chunk := out.read(1 << 16):
        digest.update(chunk)
    out.seek(start)
    record = ExportRecord(
        organization_id=organization_id,
        period=period.label,
        format=fmt,
        sha256=digest.hexdigest(),
        file_name=file_name(organization, period, fmt),
        document_count=len(document_ids),
        document_ids=document_ids,
        details=details,
        created_by=person_id,
        created_at=now,
    )
    await uow.books.add_export(record)
    await uow.audit.add(
        AuditEntry(
            action="books.exported",
            actor_id=person_id,
            organization_id=organization_id,
            details={
                "period": period.label,
                "format": fmt.value,
                "sha256": record.sha256,
                "documents": len(document_ids),
            },
            at=now,
        )
    )
    await uow.commit()
    return record


async def close_period(
    uow: UnitOfWork, person_id: int, organization_id: int, period: Period, now: datetime
) -> bool:
    """Closes the period; False when it already was."""
    await require(uow, person_id, Action.CLOSE_PERIOD, organization_id)
    await _organization(uow, organization_id)
    done = await uow.books.close(
        ClosedPeriod(organization_id, period.label, closed_by=person_id, closed_at=now)
    )
    if done:
        await uow.audit.add(
            AuditEntry(
                action="books.period_closed",
                actor_id=person_id,
                organization_id=organization_id,
                details={"period": period.label},
                at=now,
            )
        )
    await uow.commit()
    return done


async def reopen_period(
    uow: UnitOfWork,
    person_id: int,
    organization_id: int,
    period: Period,
    reason: str,
    now: datetime,
) -> bool:
    await require(uow, person_id, Action.REOPEN_PERIOD, organization_id)
    reason = reason.strip()[:500]
    if not reason:
        raise BooksError("books.reason_needed")
    done = await uow.books.reopen(organization_id, period.label)
    if done:
        await uow.audit.add(
            AuditEntry(
                action="books.period_reopened",
                actor_id=person_id,
                organization_id=organization_id,
                details={"period": period.label, "reason": reason},
                at=now,
            )
        )
    await uow.commit()
    return done


async def ensure_open(uow: UnitOfWork, document: Document) -> None:
    """A document of a closed period may not be edited or approved (Conflict)."""
    if document.organization_id is None:
        return
    closed = await uow.books.closed_periods(document.organization_id)
    if not closed:
        return
    organization = await _organization(uow, document.organization_id)
    label = document_period(organization, document).label
    if label in closed:
        raise Conflict("books.period_closed", period=label)


async def late_for(uow: UnitOfWork, document: Document) -> Period | None:
    """For a document whose period is closed: the next open period it may go to."""
    if document.organization_id is None:
        return None
    closed = await uow.books.closed_periods(document.organization_id)
    organization = await _organization(uow, document.organization_id)
    period = document_period(organization, document)
    if period.label not in closed:
        return None
    while period.label in closed:
        following = period.end + timedelta(days=1)
        period = period_of(organization, following)
    return period


async def move_to_open_period(
    uow: UnitOfWork, person_id: int, document_id: int, now: datetime
) -> Period:
    """Input VAT may be claimed later: the late document counts in the next open period."""
    document = await uow.documents.get(document_id)
    if document is None or document.organization_id is None:
        raise NotFound()
    await require(uow, person_id, Action.REVIEW, document.organization_id)
    target = await late_for(uow, document)
    if target is None:
        raise Conflict("books.period_not_closed")
    document.fields = {**document.fields, "_vat_period_day": target.start.isoformat()}
    document.updated_at = now
    await uow.audit.add(
        AuditEntry(
            action="document.vat_period_moved",
            actor_id=person_id,
            organization_id=document.organization_id,
            document_id=document.id,
            details={"to": target.label},
            at=now,
        )
    )
    await uow.documents.save(document)
    await uow.commit()
    return target


async def move_waiting(
    uow: UnitOfWork, person_id: int, organization_id: int, period: Period, now: datetime
) -> tuple[int, Period | None]:
    """Every document of a closed period still waiting for the office goes to the next
    open period (input VAT may be claimed later); how many, and where."""
    await require(uow, person_id, Action.REVIEW, organization_id)
    organization = await _organization(uow, organization_id)
    closed = await uow.books.closed_periods(organization_id)
    if period.label not in closed:
        raise Conflict("books.period_not_closed")
    target = period
    while target.label in closed:
        target = period_of(organization, target.end + timedelta(days=1))
    since = datetime.combine(period.start - _LOOKBACK, datetime.min.time()).astimezone()
    waiting = [
        d
        for d in await uow.books.documents_since(
            organization_id, [DocumentState.TO_FILE, DocumentState.NEEDS_MANUAL], since
        )
        if document_period(organization, d) == period
    ]
    for document in waiting:
        document.fields = {**document.fields, "_vat_period_day": target.start.isoformat()}
        document.updated_at = now
        await uow.audit.add(
            AuditEntry(
                action="document.vat_period_moved",
                actor_id=person_id,
                organization_id=organization_id,
                document_id=document.id,
                details={"from": period.label, "to": target.label},
                at=now,
            )
        )
        await uow.documents.save(document)
    await uow.commit()
    return len(waiting), target


async def period_status(
    uow: UnitOfWork, organization: Organization, period: Period
) -> tuple[bool, bool]:
    """(ready: nothing of the period waits for the office or the client, exported)."""
    assert organization.id is not None
    since = datetime.combine(period.start - _LOOKBACK, datetime.min.time()).astimezone()
    waiting = await uow.books.documents_since(
        organization.id,
        [DocumentState.TO_FILE, DocumentState.NEEDS_MANUAL, DocumentState.RETURNED],
        since,
    )
    ready = not any(document_period(organization, d) == period for d in waiting)
    exported = bool(await uow.books.exports_for(organization.id, period.label))
    return ready, exported


# --- mapping, bookkeeping, rates ---------------------------------------------------------


async def set_mapping(
    uow: UnitOfWork,
    person_id: int,
    office_id: int,
    kind: str,
    key: str,
    account: str,
    now: datetime,
) -> None:
    await require_in_office(uow, person_id, Action.MANAGE_TEAM, office_id)
    try:
        check_mapping(kind, key, account)
    except MappingError as exc:
        raise BooksError(f"books.invalid_{exc.problem}") from None
    if kind == "supplier":
        key = re.sub(r"\D", "", key).zfill(9)
    await uow.books.set_mapping(office_id, kind, key, account)
    await _audit_office(uow, person_id, office_id, now, {kind: {key: account}})
    await uow.commit()


async def import_mapping(
    uow: UnitOfWork, person_id: int, office_id: int, raw: bytes, now: datetime
) -> int:
    """The office's chart from a CSV (kind,key,account); all rows or none."""
    await require_in_office(uow, person_id, Action.MANAGE_TEAM, office_id)
    try:
        rows = _parse_csv(raw)
    except MappingError as exc:
        raise BooksError(f"books.invalid_{exc.problem}_line", line=exc.line) from None
    except UnicodeDecodeError:
        raise BooksError("books.invalid_file") from None
    for (kind, key), account in rows.items():
        await uow.books.set_mapping(office_id, kind, key, account)
    await _audit_office(uow, person_id, office_id, now, {"imported": len(rows)})
    await uow.commit()
    return len(rows)


async def _audit_office(
    uow: UnitOfWork, person_id: int, office_id: int, now: datetime, details: dict[str, Any]
) -> None:
    await uow.audit.add(
        AuditEntry(
            action="office.accounts_set",
            actor_id=person_id,
            office_id=office_id,
            details=details,
            at=now,
        )
    )


async def set_bookkeeping(
    uow: UnitOfWork, person_id: int, organization_id: int, bookkeeping: Bookkeeping, now: datetime
) -> None:
    await require(uow, person_id, Action.EXPORT, organization_id)
    await uow.books.set_bookkeeping(organization_id, bookkeeping)
    await uow.audit.add(
        AuditEntry(
            action="books.bookkeeping_set",
            actor_id=person_id,
            organization_id=organization_id,
            details={"bookkeeping": bookkeeping.value},
            at=now,
        )
    )
    await uow.commit()


async def set_rate(
    uow: UnitOfWork, person_id: int, currency: str, day: date, raw_rate: str, now: datetime
) -> Decimal:
    """A Bank of Israel representative rate, as an office member read it."""
    if not await uow.offices.memberships(person_id):
        raise NotAllowed()
    currency = currency.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency) or currency == "ILS":
        raise BooksError("books.invalid_currency")
    try:
        rate = Decimal(raw_rate.strip().replace(",", "."))
    except InvalidOperation:
        raise BooksError("books.invalid_rate") from None
    if not rate.is_finite() or not Decimal("0.0001") <= rate <= Decimal(10000):
        raise BooksError("books.invalid_rate")
    await uow.books.set_rate(currency, day, rate, person_id)
    await uow.audit.add(
        AuditEntry(
            action="books.rate_set",
            actor_id=person_id,
            details={"currency": currency, "day": day.isoformat(), "rate": str(rate)},
            at=now,
        )
    )
    await uow.commit()
    return rate


async def exportable_organizations(uow: UnitOfWork, person_id: int) -> list[Organization]:
    found = await uow.organizations.through_offices(person_id)
    unique = {o.id: o for o in found if o.id is not None}
    return [o for o in unique.values() if await may(uow, person_id, Action.EXPORT, o.id or 0)]
