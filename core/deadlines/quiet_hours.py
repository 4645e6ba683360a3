"""When the bot may write to people: not at night, not on Shabbat or holidays.

The rule (every part configurable per office):
- nights, 21:00 to 08:00 Israel time;
- rest days (Shabbat and statutory holidays), the whole day;
- their eves (every Friday, and each holiday eve) from 14:00.
Sunset moves through the year; 14:00 stays clear of it in every season, so no
astronomy. Together with the night rule, Shabbat is quiet from Friday 14:00 until
Sunday 08:00, and a holiday from 14:00 on its eve until 08:00 the day after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.deadlines.calendar import ISRAEL_TZ, is_rest_day, is_rest_eve

_MAX_JUMPS = 100  # each jump crosses a night or a day; holiday runs are short


@dataclass(frozen=True)
class QuietHours:
    night_start: time = time(21, 0)
    night_end: time = time(8, 0)  # equal to night_start: no night rule
    rest_days: bool = True
    eve_from: time | None = time(14, 0)  # None: eves are ordinary days


DEFAULT_QUIET_HOURS = QuietHours()


def is_quiet(moment: datetime, quiet: QuietHours = DEFAULT_QUIET_HOURS) -> bool:
    return next_allowed_moment(moment, quiet) != moment


def next_allowed_moment(when: datetime, quiet: QuietHours = DEFAULT_QUIET_HOURS) -> datetime:
    """The first moment at or after `when` that is outside quiet hours, in Israel time."""
    if when.tzinfo is None:
        raise ValueError("next_allowed_moment needs an aware datetime")
    local = when.astimezone(ISRAEL_TZ)
    for _ in range(_MAX_JUMPS):
        day, clock = local.date(), local.time()
        if _quiet_all_day(day, clock, quiet):
            local = _at(day + timedelta(days=1), time(0))
        elif _in_night(clock, quiet):
            ends_tomorrow = quiet.night_start > quiet.night_end and clock >= quiet.night_start
            local = _at(day + timedelta(days=ends_tomorrow), quiet.night_end)
        else:
            return local
    raise RuntimeError(f"no allowed moment found after {when}")


def _quiet_all_day(day: date, clock: time, quiet: QuietHours) -> bool:
    """Quiet from now until midnight: a rest day, or its eve after `eve_from`."""
    if quiet.rest_days and is_rest_day(day):
        return True
    return quiet.eve_from is not None and clock >= quiet.eve_from and is_rest_eve(day)


def _in_night(clock: time, quiet: QuietHours) -> bool:
    start, end = quiet.night_start, quiet.night_end
    if start > end:  # across midnight
        return clock >= start or clock < end
    return start <= clock < end


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=ISRAEL_TZ)
