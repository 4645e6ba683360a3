"""Two months of a running bot: a fake clock ticks every 15 minutes through November and
December 2026 for a monthly and a bi-monthly organization."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from core.deadlines import (
    ISRAEL_TZ,
    Reminder,
    ReminderPolicy,
    ReportingProfile,
    due_reminders,
    is_quiet,
    obligation_due_date,
    obligations_between,
    plan_reminders,
)
from core.domain import VatFrequency

START = datetime(2026, 11, 1, tzinfo=ISRAEL_TZ)
END = datetime(2027, 1, 1, tzinfo=ISRAEL_TZ)
STEP = timedelta(minutes=15)

MONTHLY_ORG = 1  # monthly, employees, company, the office's default policy
BIMONTHLY_ORG = 2  # bi-monthly, no employees; its office reminds 10, 4 and 1 days ahead
PROFILES = {
    MONTHLY_ORG: ReportingProfile(
        vat_frequency=VatFrequency.MONTHLY, has_employees=True, is_company=True
    ),
    BIMONTHLY_ORG: ReportingProfile(vat_frequency=VatFrequency.BIMONTHLY),
}
POLICIES = {MONTHLY_ORG: ReminderPolicy(), BIMONTHLY_ORG: ReminderPolicy(offsets=(10, 4, 1))}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ISRAEL_TZ)


# Worked out by hand from the 2026 table (not from the code):
# - 2026-10 (monthly): due Mon 16.11 -> cutoff Wed 11.11 -> 4.11, 8.11, 10.11 at 09:00.
# - 2026-09/10 (bi-monthly): due 16.11 -> cutoff 11.11 -> Sun 1.11 09:00; Sat 7.11 is
#   Shabbat -> Sun 8.11 08:00; Tue 10.11 09:00.
# - 2026-11 VAT and advances: due Tue 15.12 -> cutoff Thu 10.12 -> 3.12, 7.12, 9.12.
# - 2026-11 withholding: due Wed 16.12 -> cutoff Fri 11.12 -> Fri 4.12 09:00 (before the
#   14:00 Shabbat eve), 8.12, 10.12.
# - 2026-09 (due 19.10) has its cutoff behind us on 1.11; 2026-12, 2026-11/12 and the
#   annual returns remind only from January.
EXPECTED = [
    ("2:advances:2026-09/10:10", at("2026-11-01 09:00")),
    ("2:vat:2026-09/10:10", at("2026-11-01 09:00")),
    ("1:advances:2026-10:7", at("2026-11-04 09:00")),
    ("1:vat:2026-10:7", at("2026-11-04 09:00")),
    ("1:withholding:2026-10:7", at("2026-11-04 09:00")),
    ("2:advances:2026-09/10:4", at("2026-11-08 08:00")),
    ("2:vat:2026-09/10:4", at("2026-11-08 08:00")),
    ("1:advances:2026-10:3", at("2026-11-08 09:00")),
    ("1:vat:2026-10:3", at("2026-11-08 09:00")),
    ("1:withholding:2026-10:3", at("2026-11-08 09:00")),
    ("1:advances:2026-10:1", at("2026-11-10 09:00")),
    ("1:vat:2026-10:1", at("2026-11-10 09:00")),
    ("1:withholding:2026-10:1", at("2026-11-10 09:00")),
    ("2:advances:2026-09/10:1", at("2026-11-10 09:00")),
    ("2:vat:2026-09/10:1", at("2026-11-10 09:00")),
    ("1:advances:2026-11:7", at("2026-12-03 09:00")),
    ("1:vat:2026-11:7", at("2026-12-03 09:00")),
    ("1:withholding:2026-11:7", at("2026-12-04 09:00")),
    ("1:advances:2026-11:3", at("2026-12-07 09:00")),
    ("1:vat:2026-11:3", at("2026-12-07 09:00")),
    ("1:withholding:2026-11:3", at("2026-12-08 09:00")),
    ("1:advances:2026-11:1", at("2026-12-09 09:00")),
    ("1:vat:2026-11:1", at("2026-12-09 09:00")),
    ("1:withholding:2026-11:1", at("2026-12-10 09:00")),
]


class FakeClock:
    """A `core.ports.Clock` the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, step: timedelta) -> None:
        # Step in UTC so a daylight-saving change could never skip or repeat a tick.
        self._now = (self._now.astimezone(UTC) + step).astimezone(ISRAEL_TZ)


def build_schedules() -> dict[int, list[Reminder]]:
    """What the bot does on start: plan everything from the profiles and the tables."""
    schedules: dict[int, list[Reminder]] = {}
    for org_id, profile in PROFILES.items():
        obligations = obligations_between(profile, date(2026, 9, 1), date(2026, 12, 31))
        schedules[org_id] = [
            reminder
            for obligation in obligations
            for reminder in plan_reminders(
                org_id, obligation, obligation_due_date(obligation), POLICIES[org_id]
            )
        ]
    return schedules


@dataclass
class Run:
    sent: list[tuple[str, datetime]]
    sent_keys: set[str]  # what the database keeps across restarts


def run(
    clock: FakeClock,
    until: datetime,
    state: Run,
    *,
    restart_at: Callable[[datetime], bool] = lambda now: False,
) -> None:
    schedules = build_schedules()
    while clock.now() < until:
        now = clock.now()
        if restart_at(now):
            schedules = build_schedules()  # in-memory state forgotten, the keys kept
        for org_id, schedule in schedules.items():
            for reminder in due_reminders(now, schedule, state.sent_keys, POLICIES[org_id].quiet):
                assert not is_quiet(now)
                state.sent.append((reminder.key, now))
                state.sent_keys.add(reminder.key)
        clock.advance(STEP)


def test_two_months_of_ticks_send_exactly_the_planned_reminders_on_time() -> None:
    state = Run([], set())
    run(FakeClock(START), END, state)
    assert sorted(state.sent, key=lambda item: (item[1], item[0])) == EXPECTED
    assert len(state.sent_keys) == len(state.sent)  # nothing twice


def test_restarts_in_the_middle_send_nothing_twice_and_skip_nothing() -> None:
    restarts = {at("2026-11-08 08:15"), at("2026-11-08 09:00"), at("2026-12-04 09:00")}
    state = Run([], set())
    run(FakeClock(START), END, state, restart_at=lambda now: now in restarts)
    assert sorted(state.sent, key=lambda item: (item[1], item[0])) == EXPECTED


def test_a_process_that_stops_and_starts_again_with_only_the_keys() -> None:
    state = Run([], set())
    clock = FakeClock(START)
    run(clock, at("2026-11-08 08:15"), state)  # the first process
    state = Run(state.sent, set(state.sent_keys))  # a new one, fresh memory
    run(clock, END, state)
    assert sorted(state.sent, key=lambda item: (item[1], item[0])) == EXPECTED


def test_reminders_missed_while_down_go_out_once_at_the_next_allowed_tick() -> None:
    state = Run([], set())
    clock = FakeClock(START)
    run(clock, at("2026-11-07 12:00"), state)
    clock = FakeClock(at("2026-11-08 10:00"))  # down through Shabbat and Sunday morning
    run(clock, END, state)
    late = {key: when for key, when in state.sent if when == at("2026-11-08 10:00")}
    assert set(late) == {
        "2:advances:2026-09/10:4",
        "2:vat:2026-09/10:4",
        "1:advances:2026-10:3",
        "1:vat:2026-10:3",
        "1:withholding:2026-10:3",
    }
    assert sorted(key for key, _ in state.sent) == sorted(key for key, _ in EXPECTED)


def test_after_a_long_outage_the_stale_reminder_is_replaced_by_the_latest() -> None:
    state = Run([], set())
    clock = FakeClock(START)
    run(clock, at("2026-11-03 12:00"), state)
    clock = FakeClock(at("2026-11-09 12:00"))  # the 4.11 and 8.11 reminders were missed
    run(clock, END, state)
    keys = [key for key, _ in state.sent]
    assert "1:vat:2026-10:7" not in keys  # "seven days left" would be wrong by now
    assert ("1:vat:2026-10:3", at("2026-11-09 12:00")) in state.sent
    assert ("2:vat:2026-09/10:4", at("2026-11-09 12:00")) in state.sent
    assert len(keys) == len(set(keys)) == len(EXPECTED) - 3
