"""What each organization owes, and when: the database's side of `core.deadlines`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core.deadlines import (
    ISRAEL_TZ,
    DueDate,
    Obligation,
    Period,
    ReminderPolicy,
    ReportingProfile,
    ReportKind,
    cutoff_date,
    obligation_due_date,
    obligations_between,
)
from core.domain import DocumentState, OfficeSchedule, Organization, ReportingSettings
from core.ports import UnitOfWork
from core.reporting.profiles import owes, policy_of, profile_of
from core.turns import taking_turns

# What the office still has to work on (brief: received, to file, typed in by hand).
TO_FILE_STATES = (DocumentState.RECEIVED, DocumentState.TO_FILE, DocumentState.NEEDS_MANUAL)
LOOK_BACK = timedelta(days=100)  # a period this old is past its due date, even extended
OVERDUE_SHOWN = timedelta(days=30)  # /deadlines still shows unfiled reports this late


@dataclass(frozen=True)
class Deadline:
    organization: Organization
    obligation: Obligation
    due: DueDate
    cutoff: date  # the office wants the client's documents by this day
    filed: bool
    documents_to_file: int = 0


@dataclass
class Books:
    """What the database knows about a set of organizations' reports.

    The deadline tick asks it about every organization each minute, and most organizations
    share a profile: an organization without due-date overrides gets its profile's plan,
    worked out once per `Books` (1,000 organizations: about two thirds of the tick's processor
    time).
    """

    orgs: dict[int, Organization]
    office_of: dict[int, int]
    schedules: dict[int, OfficeSchedule]
    settings: dict[int, ReportingSettings]
    overrides: dict[int, dict[tuple[ReportKind, Period], date]]
    filed: set[tuple[int, str, str]]
    _plans: dict[tuple[object, ...], tuple[tuple[Obligation, DueDate], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _policies: dict[int | None, ReminderPolicy] = field(
        default_factory=dict, repr=False, compare=False
    )

    def policy(self, org_id: int) -> ReminderPolicy:
        office = self.office_of.get(org_id)
        if office not in self._policies:
            self._policies[office] = policy_of(
                self.schedules.get(office) if office is not None else None
            )
        return self._policies[office]

    def is_filed(self, org_id: int, obligation: Obligation) -> bool:
        return (org_id, obligation.kind.value, obligation.period.label) in self.filed

    def obligations(
        self, org_id: int, start: date, end: date
    ) -> tuple[tuple[Obligation, DueDate], ...]:
        """Obligations (annual ones of the year before too) with their due dates."""
        org = self.orgs[org_id]
        profile = profile_of(org, self.settings.get(org_id))
        overrides = self.overrides.get(org_id)
        if overrides:
            return _plan(org, profile, start, end, overrides)
        key = (profile, org.dealer_type, start, end)
        if key not in self._plans:
            self._plans[key] = _plan(org, profile, start, end, None)
        return self._plans[key]


def _plan(
    org: Organization,
    profile: ReportingProfile,
    start: date,
    end: date,
    overrides: dict[tuple[ReportKind, Period], date] | None,
) -> tuple[tuple[Obligation, DueDate], ...]:
    """What `org` (of `profile`; only its dealer type counts) owes, and by when."""
    found = obligations_between(profile, start, end)
    last_year = date(start.year - 1, 1, 1)
    found += [o for o in obligations_between(profile, last_year, last_year) if o.kind.is_annual]
    return tuple(
        (o, obligation_due_date(o, overrides=overrides))
        for o in dict.fromkeys(found)
        if owes(org, o)
    )


async def load_books(
    uow: UnitOfWork,
    orgs: list[Organization],
    offices: dict[int, list[Organization]] | None = None,
    schedules: dict[int, OfficeSchedule] | None = None,
) -> Books:
    """`offices` and `schedules`, when the caller has them, save two queries per tick."""
    ids = [org.id for org in orgs if org.id is not None]
    office_of: dict[int, int] = {}
    if offices is None:
        offices = await uow.reporting.office_organizations(ids)
    for office_id in sorted(offices):  # the oldest office's settings rule for shared clients
        for org in offices[office_id]:
            if org.id is not None:
                office_of.setdefault(org.id, office_id)
    overrides: dict[int, dict[tuple[ReportKind, Period], date]] = defaultdict(dict)
    for row in await uow.reporting.overrides_for(ids):
        key = (ReportKind(row.kind), Period.parse(row.period))
        overrides[row.organization_id][key] = date.fromisoformat(row.due)
    return Books(
        orgs={org.id: org for org in orgs if org.id is not None},
        office_of=office_of,
        schedules=(
            schedules
            if schedules is not None
            else await uow.reporting.schedules_for(sorted(set(office_of.values())))
        ),
        settings=await uow.reporting.settings_for(ids),
        overrides=dict(overrides),
        filed={(r.organization_id, r.kind, r.period) for r in await uow.reporting.filed_for(ids)},
    )


def local_day(now: datetime) -> date:
    return now.astimezone(ISRAEL_TZ).date()


async def due_between(
    uow: UnitOfWork, orgs: list[Organization], today: date, until: date, since: date
) -> list[Deadline]:
    """Reports due in [since, until]; filed ones only when they are not yet behind us."""
    if not orgs:
        return []
    books = await load_books(uow, orgs)
    counts = await uow.reporting.document_counts(list(books.orgs))
    found = []
    async for org_id, org in taking_turns(books.orgs.items()):
        to_file = sum(counts.get((org_id, state), 0) for state in TO_FILE_STATES)
        policy = books.policy(org_id)
        # Reports due before the business was opened here were not this office's to file.
        opened = local_day(org.created_at) if org.created_at else None
        for obligation, due in books.obligations(org_id, since - LOOK_BACK, until):
            filed = books.is_filed(org_id, obligation)
            if not since <= due.date <= until or (filed and due.date < today):
                continue
            if opened is not None and due.date < opened <= today:
                continue
            cutoff = cutoff_date(due.date, policy.cutoff_days)
            found.append(Deadline(org, obligation, due, cutoff, filed, to_file))
    return sorted(found, key=lambda d: (d.due.date, d.organization.name, d.obligation.kind))


async def deadlines_for_accountant(
    uow: UnitOfWork, person_id: int, now: datetime, horizon: timedelta = timedelta(days=35)
) -> list[Deadline]:
    """Coming due dates, and unfiled late ones, of the organizations the person's offices serve."""
    today = local_day(now)
    orgs = await uow.organizations.through_offices(person_id)
    return await due_between(uow, orgs, today, today + horizon, today - OVERDUE_SHOWN)


async def deadlines_for_client(
    uow: UnitOfWork, person_id: int, now: datetime, horizon: timedelta = timedelta(days=70)
) -> list[Deadline]:
    """The client's next due dates: far enough ahead to reach a bi-monthly reporter's next."""
    today = local_day(now)
    memberships = await uow.organizations.client_memberships(person_id)
    orgs = [
        org
        for m in memberships
        if (org := await uow.organizations.get(m.organization_id)) is not None
    ]
    return await due_between(uow, orgs, today, today + horizon, today)
