from datetime import datetime, time

import pytest

from core.deadlines import ISRAEL_TZ, DigestSettings, next_digest_time


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ISRAEL_TZ)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-11-04 08:29", "2026-11-04 08:30"),  # Wednesday, before the digest
        ("2026-11-04 08:30", "2026-11-05 08:30"),  # strictly after
        ("2026-11-05 12:00", "2026-11-06 08:30"),  # Friday is a working morning
        ("2026-11-06 09:00", "2026-11-08 08:30"),  # no digest on Shabbat
        ("2026-09-20 09:00", "2026-09-22 08:30"),  # nor on Yom Kippur (Monday)
        ("2026-09-10 09:00", "2026-09-11 08:30"),  # eve of Rosh Hashanah still gets one
        ("2026-09-11 09:00", "2026-09-14 08:30"),  # Rosh Hashanah Sat+Sun
        ("2026-09-28 09:00", "2026-09-29 08:30"),  # chol hamoed: offices work
    ],
)
def test_default_digest_mornings(after: str, expected: str) -> None:
    assert next_digest_time(at(after)) == at(expected)


def test_an_office_without_friday_digests_and_another_hour() -> None:
    settings = DigestSettings(send_at=time(7, 45), weekdays=frozenset({6, 0, 1, 2, 3}))
    assert next_digest_time(at("2026-11-05 08:00"), settings) == at("2026-11-08 07:45")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        next_digest_time(datetime(2026, 11, 4, 10, 0))
