"""The computed due dates: the weekend rule, three rest days in five, and the 2026 table."""

from datetime import date, timedelta

import pytest

from core.deadlines import Period, ReportKind, TableEntry, computed_due_date, shipped_tables
from core.deadlines.calendar import is_chol_hamoed
from core.deadlines.rules import settle
from core.deadlines.table import COLUMNS

VAT, WITHHOLDING, DETAILED = ReportKind.VAT, ReportKind.WITHHOLDING, ReportKind.VAT_DETAILED


def test_the_rule_reproduces_every_2026_cell_not_set_by_decree() -> None:
    agree: list[TableEntry] = []
    disagree: list[TableEntry] = []
    for entry in shipped_tables().entries:
        computed = computed_due_date(COLUMNS[entry.column][0], Period.month(*entry.month))
        (agree if computed == entry.due else disagree).append(entry)
    # Every cell the rules explain agrees; every decreed cell really differs from them,
    # so the `decreed` markers in data/2026.toml are neither missing nor spurious.
    assert all(not e.decreed for e in agree)
    assert all(e.decreed for e in disagree)
    assert (len(agree), len(disagree)) == (23, 13)


@pytest.mark.parametrize(
    ("kind", "month", "expected"),
    [
        (VAT, (2026, 1), date(2026, 2, 16)),  # Sunday 15.2 -> Monday
        (VAT, (2026, 4), date(2026, 5, 18)),  # Friday 15.5 -> Monday
        (WITHHOLDING, (2026, 4), date(2026, 5, 18)),  # Saturday 16.5 -> Monday
        (DETAILED, (2026, 7), date(2026, 8, 24)),  # Sunday 23.8 -> Monday
        (VAT, (2026, 5), date(2026, 6, 15)),  # Monday stays
        (WITHHOLDING, (2026, 6), date(2026, 7, 16)),  # Thursday stays
        # The months the Authority moved by decree, as the rules alone would have them.
        (VAT, (2026, 2), date(2026, 3, 16)),  # published 26.3 (relief decree)
        (VAT, (2026, 3), date(2026, 4, 15)),  # published 27.4
        (VAT, (2026, 8), date(2026, 9, 15)),  # published 24.9: two rest days in five only
    ],
)
def test_weekend_rule_on_2026_dates(
    kind: ReportKind, month: tuple[int, int], expected: date
) -> None:
    assert computed_due_date(kind, Period.month(*month)) == expected


def test_three_rest_days_in_five_move_to_the_fourth_weekday_after_sukkot_2025() -> None:
    # Sukkot 7.10.2025 (Tue) .. Shemini Atzeret 14.10 (Tue): the five days before Wednesday
    # 15.10 are all rest days. Weekdays after them: Wed 15, Thu 16, Sun 19, Mon 20.
    assert computed_due_date(VAT, Period.month(2025, 9)) == date(2025, 10, 20)


def test_a_due_day_inside_passover_2025_waits_for_the_festival_to_end() -> None:
    # 15.4.2025 is chol hamoed; Sat 12, Sun 13 (Pesach) and Mon 14 were rest days. The run
    # goes on to the seventh day, Sat 19.4; weekdays after it: 20, 21, 22, 23.
    assert computed_due_date(VAT, Period.month(2025, 3)) == date(2025, 4, 23)


def test_sukkot_2027_week_pushes_september_reports_past_the_festival() -> None:
    # 15.10.2027 is a Friday -> Monday 18.10, which is chol hamoed (Sukkot 16.10 .. Shemini
    # Atzeret Sat 23.10). Moving on, the festival fills the five days before; weekdays after
    # Saturday 23.10: Sun 24, Mon 25, Tue 26, Wed 27.
    for kind in (VAT, WITHHOLDING, DETAILED):
        assert computed_due_date(kind, Period.month(2027, 9)) == date(2027, 10, 27), kind


def test_pcn874_in_passover_2027_week() -> None:
    # 23.4.2027 is a Friday of chol hamoed -> Monday 26.4, still chol hamoed; the festival
    # ends Wednesday 28.4 (seventh day). Weekdays after: Thu 29.4, Sun 2.5, Mon 3.5, Tue 4.5.
    assert computed_due_date(DETAILED, Period.month(2027, 3)) == date(2027, 5, 4)
    # VAT and withholding of that month fall before the festival: Thursday 15.4, and
    # Friday 16.4 -> Monday 19.4.
    assert computed_due_date(VAT, Period.month(2027, 3)) == date(2027, 4, 15)
    assert computed_due_date(WITHHOLDING, Period.month(2027, 3)) == date(2027, 4, 19)


def test_the_five_days_before_include_the_fifth() -> None:
    # Sukkot 2028: Hoshana Rabba Wed 11.10 and Shemini Atzeret Thu 12.10, then Shabbat 14.10.
    # Withholding's Monday 16.10 has them 5, 4 and 2 days before: three rest days.
    # VAT's Sunday 15.10 has four. Both go to the fourth weekday after Shabbat: Wed 18.10.
    assert computed_due_date(WITHHOLDING, Period.month(2028, 9)) == date(2028, 10, 18)
    assert computed_due_date(VAT, Period.month(2028, 9)) == date(2028, 10, 18)


def test_a_due_day_on_a_holiday_moves_past_it_without_a_new_count() -> None:
    # PCN874 for August 2025: Tuesday 23.9.2025 is Rosh Hashanah, and so is Wednesday;
    # the five days before the 23rd hold one rest day, so Thursday 25.9 it is (an ordinary
    # day, even though the five days before it now hold three).
    assert computed_due_date(DETAILED, Period.month(2025, 8)) == date(2025, 9, 25)


def test_a_monday_holiday_moves_the_weekend_shift_again() -> None:
    # Sunday 20.9.2026 -> Monday 21.9 is Yom Kippur -> Tuesday 22.9; the five days before
    # it hold only Shabbat and Yom Kippur, so it stays.
    assert settle(date(2026, 9, 20)) == date(2026, 9, 22)


def test_a_weekday_holiday_moves_to_the_next_day() -> None:
    # Wednesday 22.4.2026, Independence Day.
    assert settle(date(2026, 4, 22)) == date(2026, 4, 23)


def test_settled_dates_are_fixed_points() -> None:
    day = date(2025, 1, 1)
    while day < date(2028, 1, 1):
        settled = settle(day)
        assert settle(settled) == settled
        assert settled.weekday() in (0, 1, 2, 3) and settled >= day
        day += timedelta(days=1)


def test_chol_hamoed_includes_hoshana_rabba() -> None:
    days = {date(2026, 4, 3) + timedelta(n) for n in range(5)}
    days |= {date(2026, 9, 27) + timedelta(n) for n in range(6)}  # 2.10 is Hoshana Rabba
    found = {date(2026, 1, 1) + timedelta(n) for n in range(365)}
    assert {d for d in found if is_chol_hamoed(d)} == days


@pytest.mark.parametrize(
    ("kind", "year", "expected"),
    [
        (ReportKind.ANNUAL_INDIVIDUAL, 2026, date(2027, 4, 30)),  # a Friday: not a rest day
        (ReportKind.ANNUAL_COMPANY, 2026, date(2027, 5, 31)),
        (ReportKind.ANNUAL_INDIVIDUAL, 2027, date(2028, 4, 30)),  # a Sunday
        (ReportKind.ANNUAL_COMPANY, 2025, date(2026, 5, 31)),  # a Sunday
        (ReportKind.ANNUAL_INDIVIDUAL, 2032, date(2033, 5, 1)),  # 30.4.2033 is Shabbat
    ],
)
def test_annual_returns(kind: ReportKind, year: int, expected: date) -> None:
    assert computed_due_date(kind, Period.year(year)) == expected
