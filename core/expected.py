"""Expected documents (issue 17): vendors that bill an organization every month (rent,
phone, electricity, software, leasing), recognised from its history, and the month's
invoices still missing from them. The client may say "there is none this month"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.categories import vendor_key
from core.domain import AuditEntry, Document
from core.errors import NotFound
from core.permissions import Action, require
from core.ports import UnitOfWork

LOOK_BACK_MONTHS = 4  # the months before the period that are looked at
RECURRING_IN = 3  # a vendor seen in at least this many of them is expected every month
NONE_THIS_MONTH = "expected.none"  # the audit action of the client's "there is none"
PER_ORGANIZATION = 2000  # documents of half a year looked at, per organization


@dataclass(frozen=True)
class Expected:
    vendor: str  # core.categories.vendor_key
    name: str  # as last read


def month_of(document: Document) -> str | None:
    """ "2026-10": the document's own date when read, else when it arrived."""
    entry = document.fields.get("date")
    value = entry.get("value") if isinstance(entry, dict) else None
    if isinstance(value, str) and len(value) >= 7:
        return value[:7]
    return document.created_at.strftime("%Y-%m") if document.created_at else None


def months_over(start: date, end: date, now: datetime) -> list[str]:
    """The months ("2026-10") from `start` to `end` that have ended by `now`: their
    invoices are due."""
    months, day = [], start.replace(day=1)
    current = f"{now.year:04d}-{now.month:02d}"
    while day <= end:
        month = f"{day.year:04d}-{day.month:02d}"
        if month < current:
            months.append(month)
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def previous_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def _months_before(period: str, count: int) -> list[str]:
    year, month = (int(p) for p in period.split("-"))
    found = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        found.append(f"{year:04d}-{month:02d}")
    return found


def recurring(documents: list[Document], period: str) -> list[Expected]:
    """Vendors billing in at least `RECURRING_IN` of the `LOOK_BACK_MONTHS` before `period`."""
    window = set(_months_before(period, LOOK_BACK_MONTHS))
    months: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for document in sorted(documents, key=lambda d: d.created_at or datetime.min):
        vendor, month = vendor_key(document), month_of(document)
        if vendor is None or month not in window:
            continue
        months.setdefault(vendor, set()).add(month)
        entry = document.fields.get("vendor_name")
        name = entry.get("value") if isinstance(entry, dict) else None
        names[vendor] = str(name or names.get(vendor) or vendor.split(":", 1)[1])
    return sorted(
        (Expected(v, names[v]) for v, seen in months.items() if len(seen) >= RECURRING_IN),
        key=lambda e: e.name,
    )


async def missing(
    uow: UnitOfWork, organization_id: int, period: str, now: datetime
) -> list[Expected]:
    """The recurring vendors with no document for `period` and no "there is none"."""
    return (await missing_in([organization_id], period, now, uow))[organization_id]


async def missing_in(
    organization_ids: list[int], period: str, now: datetime, uow: UnitOfWork
) -> dict[int, list[Expected]]:
    """`missing` for many organizations in two queries (a thousand reminders at once)."""
    since = now - timedelta(days=31 * (LOOK_BACK_MONTHS + 2))
    documents = await uow.filing.candidates(
        organization_ids, since=since, limit=PER_ORGANIZATION * max(1, len(organization_ids))
    )
    by_org: dict[int, list[Document]] = {o: [] for o in organization_ids}
    for document in documents:
        if document.organization_id in by_org:
            by_org[document.organization_id].append(document)
    declared: set[tuple[int | None, str]] = {
        (e.organization_id, str(e.details.get("vendor")))
        for e in await uow.audit.since(NONE_THIS_MONTH, since)
        if e.details.get("period") == period
    }
    found: dict[int, list[Expected]] = {}
    for organization_id, history in by_org.items():
        arrived = {vendor_key(d) for d in history if month_of(d) == period}
        found[organization_id] = [
            e
            for e in recurring(history, period)
            if e.vendor not in arrived and (organization_id, e.vendor) not in declared
        ]
    return found


async def declare_none(
    uow: UnitOfWork, person_id: int, organization_id: int, vendor: str, period: str, now: datetime
) -> Expected:
    """The client says the vendor sent nothing for the period; the office sees who said it."""
    await require(uow, person_id, Action.UPLOAD, organization_id)
    found = next(
        (e for e in await missing(uow, organization_id, period, now) if e.vendor == vendor), None
    )
    if found is None:
        raise NotFound()
    await uow.audit.add(
        AuditEntry(
            action=NONE_THIS_MONTH,
            actor_id=person_id,
            organization_id=organization_id,
            details={"vendor": vendor, "name": found.name, "period": period},
            at=now,
        )
    )
    await uow.commit()
    return found
