"""Reporting use cases: coming due dates, filed reports, and which reminders and digests
are due now. The calendar itself is `core.deadlines`; this module feeds it the database.

Keys in the sent-notice log (one row per person and message, unique):
- `r:{person}:{reminder key}` for a client reminder (the key from `core.deadlines`);
- `d:{person}:{office}:{day}` for an accountant's digest;
- `a:{person}:{audit entry}` for a client's answer held back by the quiet hours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from core import expected
from core.books.service import period_status
from core.deadlines import (
    DEFAULT_POLICY,
    ISRAEL_TZ,
    DigestSettings,
    DueDate,
    Obligation,
    Period,
    QuietHours,
    Reminder,
    ReminderPolicy,
    ReportingProfile,
    ReportKind,
    Tone,
    cutoff_date,
    due_reminders,
    is_quiet,
    next_allowed_moment,
    next_digest_time,
    obligation_due_date,
    obligations_between,
    plan_reminders,
    reminder_tone,
)
from core.domain import (
    AuditEntry,
    DealerType,
    DocumentState,
    DueDateOverride,
    FiledReport,
    OfficeSchedule,
    Organization,
    Recipient,
    ReportingSettings,
    SentNotice,
)
from core.errors import NotFound, TayukError
from core.permissions import Action, may, may_in_office, require, require_in_office
from core.ports import UnitOfWork

# What the office still has to work on (brief: received, to file, typed in by hand).
TO_FILE_STATES = (DocumentState.RECEIVED, DocumentState.TO_FILE, DocumentState.NEEDS_MANUAL)
# Not documents the client sent: copies, pieces of another document, taken back.
NOT_SENT_STATES = (DocumentState.DUPLICATE, DocumentState.MERGED, DocumentState.WITHDRAWN)
LOOK_BACK = timedelta(days=100)  # a period this old is past its due date, even extended
SENT_LOG_SLACK = timedelta(days=21)  # quiet-hour pushes and a holiday week, with room
DIGEST_HORIZON = timedelta(days=7)
RETURNED_STALE = timedelta(days=3)
ANSWER_LOOK_BACK = timedelta(days=7)  # past any run of quiet days (a holiday and Shabbat)
OVERDUE_SHOWN = timedelta(days=30)  # /deadlines still shows unfiled reports this late
VAT_KINDS = (ReportKind.VAT, ReportKind.VAT_DETAILED)


# --- profiles and office settings ---------------------------------------------------------


def profile_of(org: Organization, settings: ReportingSettings | None) -> ReportingProfile:
    """The settings row where the accountant filled it in, the dealer type otherwise."""
    is_company = settings.is_company if settings and settings.is_company is not None else None
    if is_company is None:
        is_company = org.dealer_type is DealerType.COMPANY
    return ReportingProfile(
        vat_frequency=org.vat_frequency,
        detailed_vat=bool(settings and settings.detailed_vat),
        has_employees=bool(settings and settings.has_employees),
        is_company=is_company,
    )


def owes(org: Organization, obligation: Obligation) -> bool:
    # An exempt dealer (עוסק פטור) files no periodic VAT report, only a yearly declaration.
    return not (org.dealer_type is DealerType.EXEMPT and obligation.kind in VAT_KINDS)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_of(schedule: OfficeSchedule | None) -> QuietHours:
    schedule = schedule or OfficeSchedule(office_id=0)
    return QuietHours(
        night_start=_clock(schedule.quiet_from), night_end=_clock(schedule.quiet_until)
    )


def policy_of(schedule: OfficeSchedule | None) -> ReminderPolicy:
    schedule = schedule or OfficeSchedule(office_id=0)
    offsets = tuple(int(part) for part in schedule.reminder_offsets.split(",") if part.strip())
    return ReminderPolicy(
        cutoff_days=schedule.cutoff_days,
        offsets=offsets,
        send_at=_clock(schedule.reminder_at),
        quiet=quiet_of(schedule),
    )


def digest_settings_of(schedule: OfficeSchedule | None) -> DigestSettings:
    return DigestSettings(send_at=_clock((schedule or OfficeSchedule(office_id=0)).digest_at))


# --- what each organization owes -------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    organization: Organization
    obligation: Obligation
    due: DueDate
    cutoff: date  # the office wants the client's documents by this day
    filed: bool
    documents_to_file: int = 0


@dataclass
class _Books:
    """What the database knows about a set of organizations' reports."""

    orgs: dict[int, Organization]
    office_of: dict[int, int]
    schedules: dict[int, OfficeSchedule]
    settings: dict[int, ReportingSettings]
    overrides: dict[int, dict[tuple[ReportKind, Period], date]]
    filed: set[tuple[int, str, str]]

    def policy(self, org_id: int) -> ReminderPolicy:
        office = self.office_of.get(org_id)
        return policy_of(self.schedules.get(office) if office is not None else None)

    def is_filed(self, org_id: int, obligation: Obligation) -> bool:
        return (org_id, obligation.kind.value, obligation.period.label) in self.filed

    def obligations(self, org_id: int, start: date, end: date) -> list[tuple[Obligation, DueDate]]:
        """Obligations (annual ones of the year before too) with their due dates."""
        org = self.orgs[org_id]
        profile = profile_of(org, self.settings.get(org_id))
        found = obligations_between(profile, start, end)
        last_year = date(start.year - 1, 1, 1)
        found += [
            o for o in obligations_between(profile, last_year, last_year) if o.kind.is_annual
        ]
        overrides = self.overrides.get(org_id)
        return [
            (o, obligation_due_date(o, overrides=overrides))
            for o in dict.fromkeys(found)
            if owes(org, o)
        ]


async def _books(
    uow: UnitOfWork,
    orgs: list[Organization],
    offices: dict[int, list[Organization]] | None = None,
    schedules: dict[int, OfficeSchedule] | None = None,
) -> _Books:
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
    return _Books(
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


async def _deadlines(
    uow: UnitOfWork, orgs: list[Organization], today: date, until: date, since: date
) -> list[Deadline]:
    """Reports due in [since, until]; filed ones only when they are not yet behind us."""
    if not orgs:
        return []
    books = await _books(uow, orgs)
    counts = await uow.reporting.document_counts(list(books.orgs))
    found = []
    for org_id, org in books.orgs.items():
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
    return await _deadlines(uow, orgs, today, today + horizon, today - OVERDUE_SHOWN)


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
    return await _deadlines(uow, orgs, today, today + horizon, today)


# --- filing -------------------------------------------------------------------------------


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
    found = await _deadlines(uow, [org], today, today + timedelta(days=45), today - OVERDUE_SHOWN)
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


# --- due dates the accountant moved, and the office's schedule ------------------------------

EXTENSION_LIMIT = timedelta(days=400)  # an override later than this after the period: a typo
PERIODS_OFFERED = 4
CUTOFF_DAYS_MAX = 20


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
    books = await _books(uow, [org])
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


async def offices_to_schedule(uow: UnitOfWork, person_id: int) -> list[int]:
    """Offices whose schedule the person may change (owners and admins)."""
    return [
        m.office_id
        for m in await uow.offices.memberships(person_id)
        if await may_in_office(uow, person_id, Action.MANAGE_TEAM, m.office_id)
    ]


async def office_schedule(uow: UnitOfWork, person_id: int, office_id: int) -> OfficeSchedule:
    """The office's schedule as in force: the saved row, or the defaults."""
    await require_in_office(uow, person_id, Action.MANAGE_TEAM, office_id)
    saved = (await uow.reporting.schedules_for([office_id])).get(office_id)
    return saved or OfficeSchedule(office_id=office_id)


def parse_clock(text: str) -> str | None:
    """ "21:00", "21.00" or "7:30" as "HH:MM"; None otherwise."""
    parts = text.strip().replace(".", ":").split(":")
    if len(parts) != 2 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        return None
    hours, minutes = int(parts[0]), int(parts[1])
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


async def update_office_schedule(
    uow: UnitOfWork,
    person_id: int,
    office_id: int,
    *,
    cutoff_days: int | None = None,
    quiet_from: str | None = None,
    quiet_until: str | None = None,
) -> OfficeSchedule:
    """Changes the cutoff and the night's quiet hours of one office. Commits."""
    await require_in_office(uow, person_id, Action.MANAGE_TEAM, office_id)
    if cutoff_days is not None and not 0 <= cutoff_days <= CUTOFF_DAYS_MAX:
        raise TayukError("schedule.bad_cutoff", most=CUTOFF_DAYS_MAX)
    night = [parse_clock(t) if t is not None else None for t in (quiet_from, quiet_until)]
    if (quiet_from is None) != (quiet_until is None) or (
        quiet_from is not None and (None in night or night[0] == night[1])
    ):
        raise TayukError("schedule.bad_quiet")
    saved = (await uow.reporting.schedules_for([office_id])).get(office_id)
    schedule = saved or OfficeSchedule(office_id=office_id)
    changes: dict[str, object] = {}
    if cutoff_days is not None and cutoff_days != schedule.cutoff_days:
        changes["cutoff_days"] = [schedule.cutoff_days, cutoff_days]
        schedule.cutoff_days = cutoff_days
    if night[0] is not None and night[1] is not None:
        if (night[0], night[1]) != (schedule.quiet_from, schedule.quiet_until):
            changes["quiet"] = [
                f"{schedule.quiet_from}-{schedule.quiet_until}",
                f"{night[0]}-{night[1]}",
            ]
        schedule.quiet_from, schedule.quiet_until = night[0], night[1]
    if not changes:
        return schedule
    await uow.reporting.save_schedule(schedule)
    await uow.audit.add(
        AuditEntry(
            action="office.schedule_changed",
            actor_id=person_id,
            office_id=office_id,
            details=changes,
        )
    )
    await uow.commit()
    return schedule


# --- reminders and digests -----------------------------------------------------------------


@dataclass(frozen=True)
class ReminderNotice:
    """One message to one client about one organization: every reminder due for it now."""

    recipient: Recipient
    organization: Organization
    reminders: tuple[Reminder, ...]
    tone: Tone
    documents_sent: int  # for the period, so far
    returned_waiting: int  # sent back to the client, waiting for their answer
    # Smart filing (issue 17): (vendor, "2026-10") expected for the period, not received.
    missing: tuple[tuple[str, str], ...] = ()

    @property
    def keys(self) -> list[str]:
        return [f"r:{self.recipient.person_id}:{r.key}" for r in self.reminders]


@dataclass(frozen=True)
class DigestNotice:
    recipient: Recipient
    day: date
    to_file: list[tuple[Organization, int]]
    due_soon: list[Deadline]
    returned: list[tuple[Organization, int]]
    # (organization id, period label) of a VAT report due soon -> (ready to export, exported)
    books: dict[tuple[int, str], tuple[bool, bool]] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [f"d:{self.recipient.person_id}:{self.recipient.office_id}:{self.day}"]


@dataclass(frozen=True)
class AnswerNotice:
    """A client answered a returned document in the quiet hours: the accountant who
    returned it is told when they end (told at once otherwise, by `core.review`)."""

    recipient: Recipient
    answer_id: int  # the audit entry of the answer
    client: str
    number: int  # the document's per-organization number
    organization: str

    @property
    def keys(self) -> list[str]:
        return [f"a:{self.recipient.person_id}:{self.answer_id}"]


Notice = ReminderNotice | DigestNotice | AnswerNotice


async def due_notices(uow: UnitOfWork, now: datetime) -> list[Notice]:
    """Every reminder and digest that should go out at `now` and has not gone out."""
    if now.tzinfo is None:
        raise ValueError("due_notices needs an aware datetime")
    offices = await uow.reporting.office_organizations()
    schedules = await uow.reporting.schedules_for(sorted(offices))
    if all(next_allowed_moment(now, quiet_of(schedules.get(o))) != now for o in offices):
        return []  # every office is quiet: most ticks of a night end here, after two queries
    # A reminder is sent no earlier than its cutoff less its offset, and still matters only
    # until the cutoff: keys older than the longest offset (plus quiet-hour pushes) are done.
    longest = max((max(policy_of(s).offsets, default=0) for s in schedules.values()), default=0)
    window = timedelta(days=max(longest, max(DEFAULT_POLICY.offsets))) + SENT_LOG_SLACK
    sent: dict[int, set[str]] = defaultdict(set)
    for key in await uow.reporting.sent_keys(now - window):
        kind, person, rest = key.split(":", 2)
        sent[int(person)].add(rest if kind == "r" else key)
    orgs = list({org.id: org for group in offices.values() for org in group}.values())
    books = await _books(uow, orgs, offices, schedules)
    reminders = await _due_reminders(uow, books, now, sent)
    digests = await _due_digests(uow, offices, schedules, now, sent)
    answers = await _due_answers(uow, schedules, now, sent)
    return [*reminders, *digests, *answers]


def _reminders_now(
    books: _Books, org_id: int, now: datetime
) -> tuple[ReminderPolicy, list[Reminder]]:
    """The planned reminders of an organization that could be due at `now`."""
    today = local_day(now)
    policy = books.policy(org_id)
    earliest = max(policy.offsets, default=0)
    planned = []
    for obligation, due in books.obligations(org_id, today - LOOK_BACK, today):
        if due.date < today or books.is_filed(org_id, obligation):
            continue
        if cutoff_date(due.date, policy.cutoff_days) - timedelta(days=earliest) > today:
            continue  # its first reminder is still ahead: no need to plan it
        planned += plan_reminders(org_id, obligation, due, policy)
    return policy, planned


async def _due_reminders(
    uow: UnitOfWork, books: _Books, now: datetime, sent: dict[int, set[str]]
) -> list[ReminderNotice]:
    by_org: dict[int, list[Recipient]] = defaultdict(list)
    for recipient in await uow.reporting.client_recipients():
        if recipient.organization_id in books.orgs:
            by_org[recipient.organization_id].append(recipient)
    due: list[tuple[Recipient, list[Reminder]]] = []
    for org_id, recipients in sorted(by_org.items()):
        policy, planned = _reminders_now(books, org_id, now)
        if not planned:
            continue
        for recipient in recipients:
            found = due_reminders(now, planned, sent[recipient.person_id], policy.quiet)
            if found:
                due.append((recipient, found))
    if not due:
        return []
    # What the client sent since the period began, and what waits on them.
    org_ids = sorted({r.organization_id for r, _ in due if r.organization_id is not None})
    returned = await uow.reporting.returned_before(org_ids, now)
    starts = {min(r.obligation.period.start for r in found) for _, found in due}
    sent_since: dict[date, dict[tuple[int, DocumentState], int]] = {}
    for start in starts:
        since = datetime.combine(start, time(0), tzinfo=ISRAEL_TZ)
        sent_since[start] = await uow.reporting.document_counts(org_ids, since)
    notices = []
    missing = await _missing_expected(uow, due, now)
    for recipient, found in due:
        target = recipient.organization_id
        assert target is not None
        counts = sent_since[min(r.obligation.period.start for r in found)]
        documents = sum(
            count
            for (org, state), count in counts.items()
            if org == target and state not in NOT_SENT_STATES
        )
        waiting = returned.get(target, 0)
        tones = {reminder_tone(r, open_documents=waiting, documents_sent=documents) for r in found}
        tone = next(t for t in (Tone.URGENT, Tone.NORMAL, Tone.GENTLE) if t in tones)
        notices.append(
            ReminderNotice(
                recipient,
                books.orgs[target],
                tuple(found),
                tone,
                documents,
                waiting,
                missing.get(target, ()),
            )
        )
    return notices


async def _missing_expected(
    uow: UnitOfWork, due: list[tuple[Recipient, list[Reminder]]], now: datetime
) -> dict[int, tuple[tuple[str, str], ...]]:
    """Smart filing (issue 17): per organization, the recurring vendors' invoices missing
    for the reminded months that are over (not for a yearly report)."""
    months: dict[str, set[int]] = defaultdict(set)
    for recipient, reminders in due:
        for reminder in reminders:
            period = reminder.obligation.period
            if (period.end - period.start).days > 70 or recipient.organization_id is None:
                continue
            day = period.start
            while day <= period.end:
                if day.strftime("%Y-%m") < now.strftime("%Y-%m"):  # its invoice may still come
                    months[day.strftime("%Y-%m")].add(recipient.organization_id)
                day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for month, org_ids in sorted(months.items()):
        for org_id, absent in (
            await expected.missing_in(sorted(org_ids), month, now, uow)
        ).items():
            found[org_id] += [(e.name, month) for e in absent]
    return {org_id: tuple(items) for org_id, items in found.items()}


def _digest_due(now: datetime, schedule: OfficeSchedule | None) -> date | None:
    """Today, when today's digest moment has come and `now` may carry a message."""
    settings = digest_settings_of(schedule)
    local = now.astimezone(ISRAEL_TZ)
    midnight = datetime.combine(local.date(), time(0), tzinfo=ISRAEL_TZ)
    moment = next_digest_time(midnight - timedelta(microseconds=1), settings)
    if moment.date() != local.date() or moment > now:
        return None
    if next_allowed_moment(now, quiet_of(schedule)) != now:
        return None  # a late digest waits out the quiet hours like everything else
    return local.date()


async def _due_digests(
    uow: UnitOfWork,
    offices: dict[int, list[Organization]],
    schedules: dict[int, OfficeSchedule],
    now: datetime,
    sent: dict[int, set[str]],
) -> list[DigestNotice]:
    """Digests for offices whose digest moment has come today (offices with clients only)."""
    days = {o: day for o in offices if (day := _digest_due(now, schedules.get(o))) is not None}
    if not days:
        return []
    waiting: dict[int, list[Recipient]] = defaultdict(list)
    for r in await uow.reporting.office_recipients():
        office_id = r.office_id
        if (
            office_id in days
            and f"d:{r.person_id}:{office_id}:{days[office_id]}" not in sent[r.person_id]
        ):
            waiting[office_id].append(r)
    notices = []
    for office_id, recipients in sorted(waiting.items()):
        day, orgs = days[office_id], offices[office_id]
        ids = [org.id for org in orgs if org.id is not None]
        counts = await uow.reporting.document_counts(ids)
        to_file = [
            (org, n)
            for org in orgs
            if (n := sum(counts.get((org.id or 0, s), 0) for s in TO_FILE_STATES))
        ]
        stale = await uow.reporting.returned_before(ids, now - RETURNED_STALE)
        returned = [(org, stale[org.id]) for org in orgs if org.id in stale]
        due_soon = [
            d for d in await _deadlines(uow, orgs, day, day + DIGEST_HORIZON, day) if not d.filed
        ]
        books = {
            (d.organization.id or 0, d.obligation.period.label): await period_status(
                uow, d.organization, d.obligation.period
            )
            for d in due_soon
            if d.obligation.kind in (ReportKind.VAT, ReportKind.VAT_DETAILED)
        }
        notices += [DigestNotice(r, day, to_file, due_soon, returned, books) for r in recipients]
    return notices


async def _due_answers(
    uow: UnitOfWork, schedules: dict[int, OfficeSchedule], now: datetime, sent: dict[int, set[str]]
) -> list[AnswerNotice]:
    """Clients' answers given in the returning accountant's quiet hours, now that those
    hours are over (answers given by day were told at once and are not looked at)."""
    told = {int(k.rsplit(":", 1)[1]) for keys in sent.values() for k in keys if k[:2] == "a:"}
    nights = {quiet_of(s) for s in schedules.values()} | {quiet_of(None)}
    # Cheap filters first: most answers come by day (told at once) or were told already.
    entries = [
        e
        for e in await uow.audit.since("document.answered", now - ANSWER_LOOK_BACK)
        if e.id not in told and e.at is not None and any(is_quiet(e.at, q) for q in nights)
    ]
    if not entries:
        return []
    recipients: dict[int, Recipient] = {}
    for r in await uow.reporting.office_recipients():  # ordered by office: the first rules
        recipients.setdefault(r.person_id, r)
    notices = []
    for entry in entries:
        if entry.id is None or entry.document_id is None or entry.at is None:
            continue
        document = await uow.documents.get(entry.document_id)
        if document is None or document.organization_id is None:
            continue
        if document.state not in TO_FILE_STATES:
            continue  # handled (or withdrawn) meanwhile: nothing left to tell
        accountant = (document.fields.get("_return") or {}).get("by")
        recipient = recipients.get(accountant) if isinstance(accountant, int) else None
        if recipient is None or f"a:{recipient.person_id}:{entry.id}" in sent[recipient.person_id]:
            continue
        quiet = quiet_of(schedules.get(recipient.office_id or 0))
        if not is_quiet(entry.at, quiet) or is_quiet(now, quiet):
            continue
        if not await may(uow, recipient.person_id, Action.REVIEW, document.organization_id):
            continue
        client = await uow.people.get(entry.actor_id) if entry.actor_id else None
        org = await uow.organizations.get(document.organization_id)
        notices.append(
            AnswerNotice(
                recipient,
                entry.id,
                client.display_name if client else "?",
                document.number or document.id or 0,
                org.name if org else "?",
            )
        )
    return notices


async def claim(uow: UnitOfWork, notices: list[Notice], now: datetime) -> list[Notice]:
    """Records the notices as sent before they are sent, and returns those this process won.

    A notice of several reminders keeps only the reminders it claimed. Commits.
    """
    rows = [
        SentNotice(
            key=key,
            person_id=n.recipient.person_id,
            organization_id=n.recipient.organization_id,
            sent_at=now,
        )
        for n in notices
        for key in n.keys
    ]
    won = await uow.reporting.claim(rows)
    await uow.commit()
    kept: list[Notice] = []
    for notice in notices:
        if isinstance(notice, ReminderNotice):
            mine = tuple(
                r for r in notice.reminders if f"r:{notice.recipient.person_id}:{r.key}" in won
            )
            if mine:
                kept.append(
                    ReminderNotice(
                        notice.recipient,
                        notice.organization,
                        mine,
                        notice.tone,
                        notice.documents_sent,
                        notice.returned_waiting,
                    )
                )
        elif notice.keys[0] in won:
            kept.append(notice)
    return kept


async def unclaim(uow: UnitOfWork, notices: list[Notice]) -> None:
    """A send failed for a reason that may pass: the next tick tries again. Commits."""
    await uow.reporting.unclaim([key for n in notices for key in n.keys])
    await uow.commit()
