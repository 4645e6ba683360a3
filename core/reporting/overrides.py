"""Due dates the accountant moved (an extension by decree)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.deadlines import DueDate, Obligation, Period, ReportKind
from core.domain import AuditEntry, DueDateOverride
from core.errors import NotFound, TayukError
from core.permissions import Action, require
from core.ports import UnitOfWork
from core.reporting.deadlines import LOOK_BACK, OVERDUE_SHOWN, load_books, local_day

EXTENSION_LIMIT = timedelta(days=400)  # an override later than this after the period: a typo
PERIODS_OFFERED = 4


def parse_day(text: str) -> date | None:
    """DD.MM.YYYY or D.M.YY (dots, slashes or dashes); None when it is not a real date."""
    parts = text.strip().replace("/", ".").replace("-", ".").split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    day, month, year = (int(p) for p in parts)
    if len(parts[2]) == 2:
        year += 2000
    elif len(parts[2]) != 4:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


async def due_date_choices(
    uow: UnitOfWork, person_id: int, organization_id: int, now: datetime
) -> list[tuple[Obligation, DueDate]]:
    """Per report kind, the current and next few periods whose due date may be moved."""
    await require(uow, person_id, Action.APPROVE, organization_id)
    org = await uow.organizations.get(organization_id)
    if org is None or org.id is None:
        raise NotFound()
    today = local_day(now)
    books = await load_books(uow, [org])
    found = sorted(
        (
            (o, due)
            for o, due in books.obligations(org.id, today - LOOK_BACK, today + timedelta(days=200))
            if due.date >= today - OVERDUE_SHOWN and not books.is_filed(org.id, o)
        ),
        key=lambda pair: (list(ReportKind).index(pair[0].kind), pair[0].period.start),
    )
    kept: list[tuple[Obligation, DueDate]] = []
    for obligation, due in found:
        if sum(1 for o, _ in kept if o.kind is obligation.kind) < PERIODS_OFFERED:
            kept.append((obligation, due))
    return kept


def _obligation(kind: str, period: str) -> Obligation:
    try:
        return Obligation(Period.parse(period), ReportKind(kind))
    except ValueError:
        raise NotFound() from None


async def set_due_date_override(
    uow: UnitOfWork, person_id: int, organization_id: int, kind: str, period: str, day: date
) -> Obligation:
    """Moves one period's due date (an extension by decree). Commits."""
    await require(uow, person_id, Action.APPROVE, organization_id)
    obligation = _obligation(kind, period)
    if await uow.organizations.get(organization_id) is None:
        raise NotFound()
    if not obligation.period.end < day <= obligation.period.end + EXTENSION_LIMIT:
        raise TayukError("duedate.out_of_range", end=f"{obligation.period.end:%d.%m.%Y}")
    existing = await uow.reporting.override(
        organization_id, obligation.kind.value, obligation.period.label
    )
    previous = existing.due if existing else None
    if existing is None:
        await uow.reporting.add_override(
            DueDateOverride(
                organization_id=organization_id,
                kind=obligation.kind.value,
                period=obligation.period.label,
                due=day.isoformat(),
                set_by=person_id,
            )
        )
    else:
        existing.due, existing.set_by = day.isoformat(), person_id
        await uow.reporting.add_override(existing)
    await uow.audit.add(
        AuditEntry(
            action="due_date.set",
            actor_id=person_id,
            organization_id=organization_id,
            details={
                "kind": obligation.kind.value,
                "period": obligation.period.label,
                "due": day.isoformat(),
                "previous": previous,
            },
        )
    )
    await uow.commit()
    return obligation


async def clear_due_date_override(
    uow: UnitOfWork, person_id: int, organization_id: int, kind: str, period: str
) -> bool:
    """Back to the published (or computed) date. False when nothing was moved. Commits."""
    await require(uow, person_id, Action.APPROVE, organization_id)
    obligation = _obligation(kind, period)
    existing = await uow.reporting.override(
        organization_id, obligation.kind.value, obligation.period.label
    )
    if existing is None:
        return False
    previous = existing.due
    await uow.reporting.remove_override(existing)
    await uow.audit.add(
        AuditEntry(
            action="due_date.cleared",
            actor_id=person_id,
            organization_id=organization_id,
            details={
                "kind": obligation.kind.value,
                "period": obligation.period.label,
                "previous": previous,
            },
        )
    )
    await uow.commit()
    return True
