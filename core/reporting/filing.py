"""Marking a report filed, and which reports an accountant may mark."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.deadlines import Obligation, Period, ReportKind
from core.domain import AuditEntry, FiledReport, Organization, Recipient
from core.errors import NotFound
from core.permissions import Action, may, require
from core.ports import UnitOfWork
from core.reporting.deadlines import OVERDUE_SHOWN, Deadline, due_between, local_day


async def organizations_to_file_for(uow: UnitOfWork, person_id: int) -> list[Organization]:
    """Organizations where the person may mark reports filed."""
    return [
        org
        for org in await uow.organizations.through_offices(person_id)
        if org.id is not None and await may(uow, person_id, Action.APPROVE, org.id)
    ]


async def open_reports(
    uow: UnitOfWork, person_id: int, organization_id: int, now: datetime
) -> list[Deadline]:
    """Reports of one organization that can be marked filed: not filed, due around now."""
    await require(uow, person_id, Action.APPROVE, organization_id)
    org = await uow.organizations.get(organization_id)
    if org is None:
        raise NotFound()
    today = local_day(now)
    found = await due_between(uow, [org], today, today + timedelta(days=45), today - OVERDUE_SHOWN)
    return [d for d in found if not d.filed]


@dataclass(frozen=True)
class Filed:
    organization: Organization
    obligation: Obligation
    newly: bool  # False: someone had already marked it
    clients: list[Recipient] = field(default_factory=list)  # to be told


async def mark_filed(
    uow: UnitOfWork, person_id: int, organization_id: int, kind: str, period: str, now: datetime
) -> Filed:
    await require(uow, person_id, Action.APPROVE, organization_id)
    org = await uow.organizations.get(organization_id)
    try:
        obligation = Obligation(Period.parse(period), ReportKind(kind))
    except ValueError:
        raise NotFound() from None
    if org is None:
        raise NotFound()
    report = FiledReport(
        organization_id=organization_id,
        kind=obligation.kind.value,
        period=obligation.period.label,
        filed_at=now,
        filed_by=person_id,
    )
    newly = await uow.reporting.add_filed(report)
    if not newly:
        return Filed(org, obligation, newly=False)
    await uow.audit.add(
        AuditEntry(
            action="report.filed",
            actor_id=person_id,
            organization_id=organization_id,
            details={"kind": obligation.kind.value, "period": obligation.period.label},
        )
    )
    clients = await uow.reporting.client_recipients([organization_id])
    await uow.commit()
    return Filed(org, obligation, newly=True, clients=clients)
