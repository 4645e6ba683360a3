"""When the accountant's morning digest goes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.deadlines.calendar import ISRAEL_TZ, is_rest_day

SUNDAY_TO_FRIDAY = frozenset({6, 0, 1, 2, 3, 4})  # date.weekday() numbers


@dataclass(frozen=True)
class DigestSettings:
    send_at: time = time(8, 30)
    weekdays: frozenset[int] = SUNDAY_TO_FRIDAY  # date.weekday(); drop 4 for no Friday digest
    skip_rest_days: bool = True  # holidays falling on one of `weekdays`


def next_digest_time(after: datetime, settings: DigestSettings | None = None) -> datetime:
    """The first digest moment strictly after `after`, in Israel time."""
    settings = settings or DigestSettings()
    if after.tzinfo is None:
        raise ValueError("next_digest_time needs an aware datetime")
    if not settings.weekdays:
        raise ValueError("digest has no weekdays")
    local = after.astimezone(ISRAEL_TZ)
    day = local.date()
    if local.time() >= settings.send_at:
        day += timedelta(days=1)
    # A year is enough to pass any holiday run with any non-empty weekday set.
    for _ in range(370):
        if day.weekday() in settings.weekdays and not (
            settings.skip_rest_days and is_rest_day(day)
        ):
            moment = datetime.combine(day, settings.send_at, tzinfo=ISRAEL_TZ)
            if moment > after:
                return moment
        day += timedelta(days=1)
    raise RuntimeError("no digest day within a year")
