"""Reminder schedules for clients, and which reminders are due now. Pure: the caller
keeps the keys of what was sent (a database), so a restart never sends twice.

An office sets a cutoff (default 5 days before the due date) by which it wants the
client's documents, and reminders some days before the cutoff (default 7, 3, 1),
each at a morning hour (default 09:00) pushed out of quiet hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from core.deadlines.calendar import ISRAEL_TZ, previous_working_day
from core.deadlines.due_dates import DueDate
from core.deadlines.periods import Obligation, Period, ReportKind
from core.deadlines.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours, next_allowed_moment


class Tone(StrEnum):
    GENTLE = "gentle"  # the client already sent documents and nothing is open
    NORMAL = "normal"
    URGENT = "urgent"


@dataclass(frozen=True)
class ReminderPolicy:
    cutoff_days: int = 5  # before the due date
    offsets: tuple[int, ...] = (7, 3, 1)  # days before the cutoff
    send_at: time = time(9, 0)  # Israel time, then pushed out of quiet hours
    quiet: QuietHours = DEFAULT_QUIET_HOURS

    def __post_init__(self) -> None:
        if self.cutoff_days < 0 or any(offset < 0 for offset in self.offsets):
            raise ValueError("cutoff and reminder offsets are days before, not after")


DEFAULT_POLICY = ReminderPolicy()


@dataclass(frozen=True)
class Reminder:
    key: str  # stable across restarts and replanning: record it when sent
    org_id: int
    obligation: Obligation
    offset_days: int
    at: datetime
    cutoff: date
    due: date
    is_last: bool
    due_is_estimate: bool = False  # computed, not published: say "expected" in the text

    @property
    def closes_at(self) -> datetime:
        """The end of the cutoff day: after it, the reminder has no point."""
        return datetime.combine(self.cutoff + timedelta(days=1), time(0), tzinfo=ISRAEL_TZ)

    @property
    def obligation_key(self) -> str:
        return f"{self.org_id}:{self.obligation.kind}:{self.obligation.period.label}"


def reminder_key(org_id: int, kind: ReportKind, period: Period, offset_days: int) -> str:
    return f"{org_id}:{kind}:{period.label}:{offset_days}"


def cutoff_date(due: date, cutoff_days: int) -> date:
    """`cutoff_days` before the due date, brought back to a working day (never later)."""
    return previous_working_day(due - timedelta(days=cutoff_days))


def plan_reminders(
    org_id: int,
    obligation: Obligation,
    due: date | DueDate,
    policy: ReminderPolicy = DEFAULT_POLICY,
) -> list[Reminder]:
    """The reminders for one obligation, earliest first."""
    due_day = due.date if isinstance(due, DueDate) else due
    estimate = due.estimate if isinstance(due, DueDate) else False
    cutoff = cutoff_date(due_day, policy.cutoff_days)
    closes_at = datetime.combine(cutoff + timedelta(days=1), time(0), tzinfo=ISRAEL_TZ)
    by_moment: dict[datetime, int] = {}
    for offset in sorted(set(policy.offsets), reverse=True):
        wanted = datetime.combine(
            cutoff - timedelta(days=offset), policy.send_at, tzinfo=ISRAEL_TZ
        )
        moment = next_allowed_moment(wanted, policy.quiet)
        if moment < closes_at:
            # Two offsets pushed to the same moment (a holiday week): the closer one speaks.
            by_moment[moment] = offset
    moments = sorted(by_moment)
    return [
        Reminder(
            key=reminder_key(org_id, obligation.kind, obligation.period, by_moment[moment]),
            org_id=org_id,
            obligation=obligation,
            offset_days=by_moment[moment],
            at=moment,
            cutoff=cutoff,
            due=due_day,
            is_last=moment == moments[-1],
            due_is_estimate=estimate,
        )
        for moment in moments
    ]


def due_reminders(
    now: datetime,
    schedule: Iterable[Reminder],
    already_sent_keys: Set[str],
    quiet: QuietHours = DEFAULT_QUIET_HOURS,
) -> list[Reminder]:
    """Reminders to send at `now`: their time has come, they were not sent, the cutoff is
    still ahead, and `now` is not quiet. A reminder missed while the bot was down goes out
    once, late, unless a later one for the same obligation is also due: then only that
    one goes (three "days left" messages at once help nobody)."""
    if now.tzinfo is None:
        raise ValueError("due_reminders needs an aware datetime")
    latest: dict[tuple[int, Obligation], Reminder] = {}
    for reminder in schedule:
        if reminder.at <= now:
            group = (reminder.org_id, reminder.obligation)
            current = latest.get(group)
            if current is None or reminder.at > current.at:
                latest[group] = reminder
    found = [
        reminder
        for reminder in latest.values()
        if reminder.key not in already_sent_keys and now < reminder.closes_at
    ]
    if not found or next_allowed_moment(now, quiet) != now:
        return []
    return sorted(found, key=lambda reminder: (reminder.at, reminder.key))


def reminder_tone(reminder: Reminder, *, open_documents: int, documents_sent: int) -> Tone:
    """Gentle when the client sent documents for the period and nothing waits on them;
    otherwise urgent for the last reminder before the cutoff, normal before that."""
    if open_documents == 0 and documents_sent > 0:
        return Tone.GENTLE
    if reminder.is_last or reminder.offset_days <= 1:
        return Tone.URGENT
    return Tone.NORMAL
