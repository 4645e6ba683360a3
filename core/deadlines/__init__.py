"""Tax calendar and reminders: reporting obligations, due dates, quiet hours, schedules.

Pure domain code: no database, no messaging, no scheduler. Every function that needs
the time takes it as an argument (a `core.ports.Clock` supplies it in production).
"""

from core.deadlines.calendar import (
    ISRAEL_TZ,
    add_working_days,
    holiday_name,
    is_chol_hamoed,
    is_rest_day,
    is_rest_eve,
    is_statutory_holiday,
    is_working_day,
    previous_working_day,
    working_days_between,
)
from core.deadlines.digest import DigestSettings, next_digest_time
from core.deadlines.due_dates import DueDate, DueSource, Overrides, due_date, obligation_due_date
from core.deadlines.periods import (
    Obligation,
    Period,
    ReportingProfile,
    ReportKind,
    obligations_between,
    periods_between,
)
from core.deadlines.quiet_hours import (
    DEFAULT_QUIET_HOURS,
    QuietHours,
    is_quiet,
    next_allowed_moment,
)
from core.deadlines.reminders import (
    DEFAULT_POLICY,
    Reminder,
    ReminderPolicy,
    Tone,
    cutoff_date,
    due_reminders,
    plan_reminders,
    reminder_key,
    reminder_tone,
)
from core.deadlines.rules import computed_due_date, statutory_date
from core.deadlines.table import PublishedTables, TableEntry, TableError, shipped_tables

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_QUIET_HOURS",
    "ISRAEL_TZ",
    "DigestSettings",
    "DueDate",
    "DueSource",
    "Obligation",
    "Overrides",
    "Period",
    "PublishedTables",
    "QuietHours",
    "Reminder",
    "ReminderPolicy",
    "ReportKind",
    "ReportingProfile",
    "TableEntry",
    "TableError",
    "Tone",
    "add_working_days",
    "computed_due_date",
    "cutoff_date",
    "due_date",
    "due_reminders",
    "holiday_name",
    "is_chol_hamoed",
    "is_quiet",
    "is_rest_day",
    "is_rest_eve",
    "is_statutory_holiday",
    "is_working_day",
    "next_allowed_moment",
    "next_digest_time",
    "obligation_due_date",
    "obligations_between",
    "periods_between",
    "plan_reminders",
    "previous_working_day",
    "reminder_key",
    "reminder_tone",
    "shipped_tables",
    "statutory_date",
    "working_days_between",
]
