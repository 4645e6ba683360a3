"""Which reminders, digests and held-back answers are due now, and claiming them before
they are sent.

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
    Reminder,
    ReminderPolicy,
    ReportKind,
    Tone,
    cutoff_date,
    due_reminders,
    is_quiet,
    next_allowed_moment,
    next_digest_time,
    plan_reminders,
    reminder_tone,
)
from core.domain import DocumentState, OfficeSchedule, Organization, Recipient, SentNotice
from core.permissions import Action, may
from core.ports import UnitOfWork
from core.reporting.deadlines import (
    LOOK_BACK,
    TO_FILE_STATES,
    Books,
    Deadline,
    due_between,
    load_books,
    local_day,
)
from core.reporting.profiles import digest_settings_of, policy_of, quiet_of
from core.turns import taking_turns

# Not documents the client sent: copies, pieces of another document, taken back.
NOT_SENT_STATES = (DocumentState.DUPLICATE, DocumentState.MERGED, DocumentState.WITHDRAWN)
SENT_LOG_SLACK = timedelta(days=21)  # quiet-hour pushes and a holiday week, with room
DIGEST_HORIZON = timedelta(days=7)
RETURNED_STALE = timedelta(days=3)
ANSWER_LOOK_BACK = timedelta(days=7)  # past any run of quiet days (a holiday and Shabbat)


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
    missing: tuple[tuple[str, str, str], ...] = ()  # (vendor's name, month, vendor's key)

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
    books = await load_books(uow, orgs, offices, schedules)
    reminders = await _due_reminders(uow, books, now, sent)
    digests = await _due_digests(uow, offices, schedules, now, sent)
    answers = await _due_answers(uow, schedules, now, sent)
    return [*reminders, *digests, *answers]


def _reminders_now(
    books: Books, org_id: int, now: datetime
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
    uow: UnitOfWork, books: Books, now: datetime, sent: dict[int, set[str]]
) -> list[ReminderNotice]:
    by_org: dict[int, list[Recipient]] = defaultdict(list)
    for recipient in await uow.reporting.client_recipients():
        if recipient.organization_id in books.orgs:
            by_org[recipient.organization_id].append(recipient)
    due: list[tuple[Recipient, list[Reminder]]] = []
    async for org_id, recipients in taking_turns(sorted(by_org.items())):
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
) -> dict[int, tuple[tuple[str, str, str], ...]]:
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
    found: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for month, org_ids in sorted(months.items()):
        for org_id, absent in (
            await expected.missing_in(sorted(org_ids), month, now, uow)
        ).items():
            found[org_id] += [(e.name, month, e.vendor) for e in absent]
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
            d for d in await due_between(uow, orgs, day, day + DIGEST_HORIZON, day) if not d.filed
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
        accountant = document.last_return.by if document.last_return else None
        recipient = recipients.get(accountant) if accountant is not None else None
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
                        notice.missing,
                    )
                )
        elif notice.keys[0] in won:
            kept.append(notice)
    return kept


async def unclaim(uow: UnitOfWork, notices: list[Notice]) -> None:
    """A send failed for a reason that may pass: the next tick tries again. Commits."""
    await uow.reporting.unclaim([key for n in notices for key in n.keys])
    await uow.commit()
