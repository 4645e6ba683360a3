"""Israel's working calendar: rest days, holiday eves, intermediate festival days.

Dates come from the `holidays` package (category "public" are the statutory rest
days). The intermediate days of Passover and Sukkot (chol hamoed) are derived from
the public days around them rather than from the "optional" category, because
that category leaves out Hoshana Rabba and mixes in Purim, Sigd and the like.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

ISRAEL_TZ = ZoneInfo("Asia/Jerusalem")

SATURDAY = 5  # date.weekday(): Monday is 0
FRIDAY = 4
SUNDAY = 6

# Names in the `holidays` package's en_US locale; a test pins them, so an upstream
# rename fails loudly instead of silently dropping chol hamoed.
_FESTIVAL_SPANS = (
    ("Pesach", "Seventh day of Pesach"),
    ("Sukkot", "Simchat Torah / Shemini Atzeret"),
)


def _countries_one_by_one() -> None:
    """Israel's module without the other 250 countries'.

    `holidays` finds a country by importing `holidays.countries.<name>`, and that package
    imports every country's module first: 8 MB in each process (a bot replica, a worker)
    for one country (issue 16: a replica under 200 MB). Standing in an empty package with
    the same folder lets each country's module be imported when asked for, alone. Not if
    the package is imported already (its own would be whole anyway).
    """
    if "holidays.countries" in sys.modules:
        return
    spec = importlib.util.find_spec("holidays.countries")
    if spec is None or spec.submodule_search_locations is None:
        return
    package = types.ModuleType("holidays.countries")
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = "holidays.countries"
    sys.modules["holidays.countries"] = package


@lru_cache(maxsize=64)
def _statutory(year: int) -> dict[date, str]:
    _countries_one_by_one()
    found = holidays.country_holidays("IL", years=year, categories=("public",), language="en_US")
    return dict(found.items())


@lru_cache(maxsize=64)
def _chol_hamoed(year: int) -> frozenset[date]:
    by_name: dict[str, date] = {name: day for day, name in _statutory(year).items()}
    days: set[date] = set()
    for first, last in _FESTIVAL_SPANS:
        if first not in by_name or last not in by_name:
            raise LookupError(f"holidays has no {first!r} or {last!r} in {year}")
        day = by_name[first] + timedelta(days=1)
        while day < by_name[last]:
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)


def holiday_name(day: date) -> str | None:
    """The statutory holiday on `day` (English name), if any."""
    return _statutory(day.year).get(day)


def is_statutory_holiday(day: date) -> bool:
    return day in _statutory(day.year)


def is_chol_hamoed(day: date) -> bool:
    """An intermediate day of Passover or Sukkot (Hoshana Rabba included)."""
    return day in _chol_hamoed(day.year)


def is_rest_day(day: date) -> bool:
    """Shabbat or a statutory holiday. Friday is a short day, not a rest day."""
    return day.weekday() == SATURDAY or is_statutory_holiday(day)


def is_rest_eve(day: date) -> bool:
    """The day before a rest day (every Friday, and holiday eves) that is not one itself."""
    return not is_rest_day(day) and is_rest_day(day + timedelta(days=1))


def is_working_day(day: date) -> bool:
    """Offices work: not a rest day. Fridays and chol hamoed count as working days."""
    return not is_rest_day(day)


def working_days_between(start: date, end: date) -> int:
    """Working days in [start, end); negative when end is before start."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range((end - start).days) if is_working_day(start + timedelta(n)))


def add_working_days(day: date, count: int) -> date:
    """The `count`-th working day after `day` (before it when count is negative)."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def previous_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the closest working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day
