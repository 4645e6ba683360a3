"""Reporting use cases, one module per job; the calendar itself is `core.deadlines`.

- `profiles`: what an organization reports and an office's settings, for the calendar;
- `deadlines`: coming due dates of each organization;
- `filing`: marking a report filed;
- `overrides`: due dates the accountant moved;
- `schedule`: the office's cutoff and quiet hours;
- `notices`: which reminders, digests and held-back answers are due now.

Callers use `reporting.mark_filed(...)` and the like: the names are gathered here.
"""

from core.reporting.deadlines import (
    Deadline,
    deadlines_for_accountant,
    deadlines_for_client,
    local_day,
)
from core.reporting.filing import Filed, mark_filed, open_reports, organizations_to_file_for
from core.reporting.notices import (
    AnswerNotice,
    DigestNotice,
    Notice,
    ReminderNotice,
    claim,
    due_notices,
    unclaim,
)
from core.reporting.overrides import (
    PERIODS_OFFERED,
    clear_due_date_override,
    due_date_choices,
    parse_day,
    set_due_date_override,
)
from core.reporting.profiles import digest_settings_of, owes, policy_of, profile_of, quiet_of
from core.reporting.schedule import (
    CUTOFF_DAYS_MAX,
    office_schedule,
    offices_to_schedule,
    parse_clock,
    update_office_schedule,
)

__all__ = [
    "CUTOFF_DAYS_MAX",
    "PERIODS_OFFERED",
    "AnswerNotice",
    "Deadline",
    "DigestNotice",
    "Filed",
    "Notice",
    "ReminderNotice",
    "claim",
    "clear_due_date_override",
    "deadlines_for_accountant",
    "deadlines_for_client",
    "digest_settings_of",
    "due_date_choices",
    "due_notices",
    "local_day",
    "mark_filed",
    "office_schedule",
    "offices_to_schedule",
    "open_reports",
    "organizations_to_file_for",
    "owes",
    "parse_clock",
    "parse_day",
    "policy_of",
    "profile_of",
    "quiet_of",
    "set_due_date_override",
    "unclaim",
    "update_office_schedule",
]
