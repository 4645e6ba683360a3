from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.deadlines import (
    ISRAEL_TZ,
    QuietHours,
    is_quiet,
    is_rest_day,
    next_allowed_moment,
    working_days_between,
)
from core.deadlines.calendar import add_working_days, previous_working_day


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ISRAEL_TZ)


@pytest.mark.parametrize(
    ("when", "allowed"),
    [
        ("2026-11-05 20:59", "2026-11-05 20:59"),  # Thursday evening, just before the night
        ("2026-11-05 21:00", "2026-11-06 08:00"),  # the night starts
        ("2026-11-05 23:30", "2026-11-06 08:00"),
        ("2026-11-04 07:59", "2026-11-04 08:00"),  # morning, before the day starts
        ("2026-11-04 08:00", "2026-11-04 08:00"),
        ("2026-11-06 13:59", "2026-11-06 13:59"),  # Friday before 14:00
        ("2026-11-06 14:00", "2026-11-08 08:00"),  # Friday afternoon: Shabbat is near
        ("2026-11-07 10:00", "2026-11-08 08:00"),  # Shabbat
        ("2026-11-07 20:00", "2026-11-08 08:00"),  # Saturday evening after Shabbat ended
        ("2026-11-07 21:30", "2026-11-08 08:00"),  # Saturday night
        ("2026-09-20 13:59", "2026-09-20 13:59"),  # eve of Yom Kippur, before 14:00
        ("2026-09-20 14:00", "2026-09-22 08:00"),  # eve of Yom Kippur
        ("2026-09-21 12:00", "2026-09-22 08:00"),  # Yom Kippur (a Monday)
        ("2026-09-11 15:00", "2026-09-14 08:00"),  # Friday eve of Rosh Hashanah (Sat+Sun)
        ("2026-04-21 16:00", "2026-04-23 08:00"),  # eve of Independence Day (Wednesday)
        ("2026-09-29 10:00", "2026-09-29 10:00"),  # chol hamoed Sukkot: an ordinary day
        ("2026-10-02 10:00", "2026-10-02 10:00"),  # Hoshana Rabba, a Friday, morning
        ("2026-10-02 14:00", "2026-10-04 08:00"),  # ... Shemini Atzeret on Shabbat
    ],
)
def test_default_quiet_hours(when: str, allowed: str) -> None:
    assert next_allowed_moment(at(when), QuietHours()) == at(allowed)
    assert is_quiet(at(when)) is (when != allowed)


def test_the_result_is_in_israel_time_whatever_the_input_zone() -> None:
    moment = datetime(2026, 11, 5, 19, 30, tzinfo=UTC)  # 21:30 in Israel
    found = next_allowed_moment(moment)
    assert found == at("2026-11-06 08:00")
    assert found.tzinfo is ISRAEL_TZ


def test_daylight_saving_changes_keep_wall_clock_hours() -> None:
    # Summer time starts on Friday 27.3.2026 and ends on Sunday 25.10.2026.
    spring = next_allowed_moment(at("2026-03-26 23:00"))
    assert (spring.time(), spring.utcoffset()) == (time(8, 0), timedelta(hours=3))
    autumn = next_allowed_moment(at("2026-10-24 22:00"))
    assert (autumn.time(), autumn.utcoffset()) == (time(8, 0), timedelta(hours=2))


def test_an_office_can_change_every_part() -> None:
    late_office = QuietHours(night_start=time(22, 0), night_end=time(7, 0), eve_from=None)
    assert next_allowed_moment(at("2026-11-05 21:30"), late_office) == at("2026-11-05 21:30")
    assert next_allowed_moment(at("2026-11-06 16:00"), late_office) == at("2026-11-06 16:00")
    assert next_allowed_moment(at("2026-11-06 06:30"), late_office) == at("2026-11-06 07:00")
    assert next_allowed_moment(at("2026-11-07 10:00"), late_office) == at("2026-11-08 07:00")
    open_on_shabbat = QuietHours(rest_days=False, eve_from=None)
    assert next_allowed_moment(at("2026-11-07 10:00"), open_on_shabbat) == at("2026-11-07 10:00")
    early_friday = QuietHours(eve_from=time(12, 0))
    assert next_allowed_moment(at("2026-11-06 12:00"), early_friday) == at("2026-11-08 08:00")


def test_a_night_window_inside_one_day_and_no_night_at_all() -> None:
    small_hours = QuietHours(night_start=time(0, 0), night_end=time(6, 0))
    assert next_allowed_moment(at("2026-11-04 23:30"), small_hours) == at("2026-11-04 23:30")
    assert next_allowed_moment(at("2026-11-04 05:00"), small_hours) == at("2026-11-04 06:00")
    no_night = QuietHours(night_start=time(0, 0), night_end=time(0, 0))
    assert next_allowed_moment(at("2026-11-04 03:00"), no_night) == at("2026-11-04 03:00")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        next_allowed_moment(datetime(2026, 11, 4, 10, 0))


def test_rest_days_are_shabbat_and_statutory_holidays_only() -> None:
    assert is_rest_day(date(2026, 11, 7))  # Saturday
    assert is_rest_day(date(2026, 5, 22))  # Shavuot, a Friday
    assert not is_rest_day(date(2026, 11, 6))  # Friday
    assert not is_rest_day(date(2026, 9, 29))  # chol hamoed
    assert not is_rest_day(date(2026, 7, 23))  # Tisha B'Av
    assert not is_rest_day(date(2026, 3, 3))  # Purim


def test_working_days() -> None:
    # Sun 20.9.2026 .. Thu 24.9: Yom Kippur on Monday leaves four.
    assert working_days_between(date(2026, 9, 20), date(2026, 9, 25)) == 4
    assert working_days_between(date(2026, 9, 25), date(2026, 9, 20)) == -4
    assert add_working_days(date(2026, 9, 20), 1) == date(2026, 9, 22)
    assert add_working_days(date(2026, 9, 22), -1) == date(2026, 9, 20)
    assert previous_working_day(date(2026, 9, 13)) == date(2026, 9, 11)  # RH Sat+Sun
