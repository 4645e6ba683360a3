"""What a client sees with /status: this month's documents by state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.domain import DocumentState, Person
from core.permissions import Action, may
from core.ports import UnitOfWork

ISRAEL = ZoneInfo("Asia/Jerusalem")


def month_start(now: datetime) -> datetime:
    local = now.astimezone(ISRAEL)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


@dataclass(frozen=True)
class OrganizationStatus:
    organization_id: int | None
    name: str | None
    counts: dict[DocumentState, int]
    income: int = 0  # of them, marked as income (invoices the client issued)


async def month_status(uow: UnitOfWork, person: Person, now: datetime) -> list[OrganizationStatus]:
    assert person.id is not None
    counts = await uow.documents.count_by_state(uploaded_by=person.id, since=month_start(now))
    income = await uow.documents.income_counts(uploaded_by=person.id, since=month_start(now))
    by_org: dict[int | None, dict[DocumentState, int]] = {}
    for (org_id, state), count in counts.items():
        if state is DocumentState.MERGED:
            continue
        by_org.setdefault(org_id, {})[state] = count
    result = []
    for org_id, states in sorted(by_org.items(), key=lambda item: item[0] or 0):
        # Documents sent to an organization the person no longer reaches are not theirs to see.
        if org_id is not None and not await may(uow, person.id, Action.VIEW, org_id):
            continue
        org = await uow.organizations.get(org_id) if org_id is not None else None
        result.append(
            OrganizationStatus(org_id, org.name if org else None, states, income.get(org_id, 0))
        )
    return result
