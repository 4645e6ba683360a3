"""Due dates computed from the statutory rules, for months without a published table.

Base day in the month after the period: VAT and advances the 15th, withholding the
16th (the Authority's practice; the law says 15th), PCN874 the 23rd. Then:

1. Holidays (Income Tax Ordinance 172B/175(f) and the VAT equivalent): if in the
   five days before the due day at least three were rest days (Shabbat, statutory
   holidays, chol hamoed), the due day becomes the fourth weekday after the run of
   rest days that reaches into those five days.
2. Weekend (the Director's decision): a due day on Friday, Saturday or Sunday
   moves to Monday.
3. A due day that is itself a rest day or chol hamoed moves to the next day.

"Weekday" is read as a day the Authority works: Sunday to Thursday, not a holiday
and not chol hamoed. Rule 1 looks at the statutory day; after that, while a move
lands on a day a report cannot fall on (Friday to Sunday, a holiday, chol hamoed),
all three rules apply again from there, so a Monday that is a holiday settles, and
a move into a festival week ends four weekdays after the festival. A date that
lands on an ordinary Monday to Thursday stays. The Authority still moves dates by
decree, so results are estimates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType

from core.deadlines.calendar import FRIDAY, SATURDAY, SUNDAY, is_chol_hamoed, is_rest_day
from core.deadlines.periods import Period, ReportKind

BASE_DAY: Mapping[ReportKind, int] = MappingProxyType(
    {
        ReportKind.VAT: 15,
        ReportKind.ADVANCES: 15,
        ReportKind.WITHHOLDING: 16,
        ReportKind.VAT_DETAILED: 23,
    }
)
# Annual returns: (month, day) of the year after the tax year.
ANNUAL_DUE: Mapping[ReportKind, tuple[int, int]] = MappingProxyType(
    {
        ReportKind.ANNUAL_INDIVIDUAL: (4, 30),
        ReportKind.ANNUAL_COMPANY: (5, 31),
    }
)

WINDOW_DAYS = 5
REST_DAYS_TO_MOVE = 3
WEEKDAYS_AFTER_REST = 4
_MAX_MOVES = 60  # a guard: the moves only go forward, and holiday runs are short


def statutory_date(kind: ReportKind, period: Period) -> date:
    """The day the law names, before any move."""
    if kind.is_annual:
        month, day = ANNUAL_DUE[kind]
        return date(period.end.year + 1, month, day)
    following = period.end + timedelta(days=1)
    return following.replace(day=BASE_DAY[kind])


def computed_due_date(kind: ReportKind, period: Period) -> date:
    """The statutory date with the moving rules applied until stable."""
    base = statutory_date(kind, period)
    if kind.is_annual:
        # Annual returns are not under the periodic weekend decision; only a rest
        # day moves them (Interpretation Law 10(c)). They are extended routinely anyway.
        while is_rest_day(base):
            base += timedelta(days=1)
        return base
    if rest_days_before(base) >= REST_DAYS_TO_MOVE:
        base = fourth_weekday_after_rest(base)
    return settle(base)


def settle(day: date) -> date:
    """Move `day` until it is a day a report can fall on: Monday to Thursday, no festival."""
    for _ in range(_MAX_MOVES):
        if is_tax_weekday(day) and day.weekday() != SUNDAY:
            return day
        if rest_days_before(day) >= REST_DAYS_TO_MOVE:
            day = fourth_weekday_after_rest(day)
        elif day.weekday() in (FRIDAY, SATURDAY, SUNDAY):
            day += timedelta(days=(7 - day.weekday()) % 7)  # the following Monday
        else:
            day += timedelta(days=1)  # a holiday or chol hamoed, Monday to Thursday
    raise RuntimeError(f"due date did not settle from {day}")


def _is_festival_rest(day: date) -> bool:
    """A rest day for the holiday rule: Shabbat, a statutory holiday or chol hamoed."""
    return is_rest_day(day) or is_chol_hamoed(day)


def is_tax_weekday(day: date) -> bool:
    """Sunday to Thursday, not a holiday and not chol hamoed."""
    return day.weekday() not in (FRIDAY, SATURDAY) and not _is_festival_rest(day)


def rest_days_before(day: date) -> int:
    """Rest days among the five days before `day`."""
    return sum(_is_festival_rest(day - timedelta(days=n)) for n in range(1, WINDOW_DAYS + 1))


def fourth_weekday_after_rest(day: date) -> date:
    """The fourth weekday after the run of rest days reaching into the window before `day`."""
    last_rest = next(
        day - timedelta(days=n)
        for n in range(1, WINDOW_DAYS + 1)
        if _is_festival_rest(day - timedelta(days=n))
    )
    # The run goes on "in sequence", possibly through the due day itself.
    while _is_festival_rest(last_rest + timedelta(days=1)):
        last_rest += timedelta(days=1)
    found, candidate = 0, last_rest
    while found < WEEKDAYS_AFTER_REST:
        candidate += timedelta(days=1)
        found += is_tax_weekday(candidate)
    return candidate
