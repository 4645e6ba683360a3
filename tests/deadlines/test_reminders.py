from datetime import date, datetime, time

from core.deadlines import (
    ISRAEL_TZ,
    DueDate,
    DueSource,
    Obligation,
    Period,
    QuietHours,
    Reminder,
    ReminderPolicy,
    ReportKind,
    Tone,
    cutoff_date,
    due_reminders,
    plan_reminders,
    reminder_tone,
)

VAT_NOVEMBER = Obligation(Period.month(2026, 11), ReportKind.VAT)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ISRAEL_TZ)


def test_default_schedule_is_7_3_1_days_before_a_cutoff_5_days_before_the_due_date() -> None:
    due = DueDate(date(2026, 12, 15), DueSource.TABLE, estimate=False)
    plan = plan_reminders(7, VAT_NOVEMBER, due)
    assert [(r.key, r.at) for r in plan] == [
        ("7:vat:2026-11:7", at("2026-12-03 09:00")),
        ("7:vat:2026-11:3", at("2026-12-07 09:00")),
        ("7:vat:2026-11:1", at("2026-12-09 09:00")),
    ]
    assert {r.cutoff for r in plan} == {date(2026, 12, 10)}
    assert [r.is_last for r in plan] == [False, False, True]
    assert plan[0].closes_at == at("2026-12-11 00:00")
    assert not plan[0].due_is_estimate


def test_reminders_of_a_computed_due_date_say_it_is_an_estimate() -> None:
    due = DueDate(date(2027, 2, 15), DueSource.RULE, estimate=True)
    plan = plan_reminders(7, Obligation(Period.month(2027, 1), ReportKind.VAT), due)
    assert [r.due_is_estimate for r in plan] == [True, True, True]


def test_keys_are_stable_when_the_plan_is_made_again() -> None:
    first = plan_reminders(7, VAT_NOVEMBER, date(2026, 12, 15))
    again = plan_reminders(
        7, Obligation(Period.parse("2026-11"), ReportKind.VAT), date(2026, 12, 15)
    )
    assert [r.key for r in first] == [r.key for r in again]
    assert plan_reminders(7, VAT_NOVEMBER, date(2026, 12, 15)) == first


def test_a_cutoff_on_a_rest_day_comes_earlier_never_later() -> None:
    assert cutoff_date(date(2026, 11, 12), 5) == date(2026, 11, 6)  # Sat 7.11 -> Fri 6.11
    assert cutoff_date(date(2026, 9, 18), 5) == date(2026, 9, 11)  # RH 13.9, Sat 12.9 -> Fri
    assert cutoff_date(date(2026, 11, 16), 5) == date(2026, 11, 11)


def test_a_reminder_on_shabbat_goes_out_on_sunday_morning() -> None:
    # Cutoff Sunday 8.11: one day before is Shabbat.
    plan = plan_reminders(1, VAT_NOVEMBER, date(2026, 11, 13), ReminderPolicy(offsets=(1,)))
    assert [r.at for r in plan] == [at("2026-11-08 08:00")]


def test_offsets_pushed_to_the_same_moment_become_one_reminder() -> None:
    # Cutoff Monday 14.9.2026, after Rosh Hashanah on Saturday and Sunday: the 1- and
    # 2-day reminders both land on Monday 08:00; the closer one stays.
    policy = ReminderPolicy(cutoff_days=0, offsets=(3, 2, 1))
    plan = plan_reminders(1, VAT_NOVEMBER, date(2026, 9, 14), policy)
    assert [(r.offset_days, r.at, r.is_last) for r in plan] == [
        (3, at("2026-09-11 09:00"), False),
        (1, at("2026-09-14 08:00"), True),
    ]


def test_a_reminder_pushed_past_the_cutoff_is_dropped() -> None:
    # Cutoff Friday 6.11 at 15:00 is already Shabbat's eve: the same-day reminder would
    # land on Sunday, after the cutoff.
    policy = ReminderPolicy(cutoff_days=0, offsets=(2, 0), send_at=time(15, 0))
    plan = plan_reminders(1, VAT_NOVEMBER, date(2026, 11, 6), policy)
    assert [(r.offset_days, r.at) for r in plan] == [(2, at("2026-11-04 15:00"))]
    assert plan[0].is_last


def _plan() -> list[Reminder]:
    return plan_reminders(7, VAT_NOVEMBER, date(2026, 12, 15))


def test_nothing_is_due_before_its_time() -> None:
    assert due_reminders(at("2026-12-03 08:59"), _plan(), set()) == []


def test_a_reminder_is_due_from_its_time_until_sent() -> None:
    plan = _plan()
    assert [r.key for r in due_reminders(at("2026-12-03 09:00"), plan, set())] == [
        "7:vat:2026-11:7"
    ]
    assert due_reminders(at("2026-12-03 09:15"), plan, {"7:vat:2026-11:7"}) == []


def test_a_missed_reminder_goes_out_once_when_the_bot_is_back() -> None:
    plan = _plan()
    assert [r.key for r in due_reminders(at("2026-12-04 11:00"), plan, set())] == [
        "7:vat:2026-11:7"
    ]


def test_after_a_long_outage_only_the_latest_reminder_of_an_obligation_goes_out() -> None:
    plan = _plan()
    due = due_reminders(at("2026-12-08 10:00"), plan, set())
    assert [r.key for r in due] == ["7:vat:2026-11:3"]
    # Once it is sent, the older one it replaced does not come back.
    assert due_reminders(at("2026-12-08 10:15"), plan, {"7:vat:2026-11:3"}) == []


def test_no_reminder_after_the_cutoff() -> None:
    plan = _plan()
    assert [r.key for r in due_reminders(at("2026-12-10 20:45"), plan, set())] == [
        "7:vat:2026-11:1"
    ]
    assert due_reminders(at("2026-12-11 08:00"), plan, set()) == []
    # The cutoff day ends at midnight, whatever the quiet hours.
    never_quiet = QuietHours(
        night_start=time(0), night_end=time(0), rest_days=False, eve_from=None
    )
    assert len(due_reminders(at("2026-12-10 23:59"), plan, set(), never_quiet)) == 1
    assert due_reminders(at("2026-12-11 00:00"), plan, set(), never_quiet) == []


def test_nothing_goes_out_in_quiet_hours_even_if_overdue() -> None:
    plan = _plan()
    assert due_reminders(at("2026-12-03 21:00"), plan, set()) == []
    assert due_reminders(at("2026-12-04 14:30"), plan, set()) == []  # Friday afternoon
    assert [r.key for r in due_reminders(at("2026-12-06 08:00"), plan, set())] == [
        "7:vat:2026-11:7"
    ]


def test_tone() -> None:
    first, _, last = _plan()
    assert reminder_tone(first, open_documents=0, documents_sent=4) is Tone.GENTLE
    assert reminder_tone(last, open_documents=0, documents_sent=4) is Tone.GENTLE
    assert reminder_tone(first, open_documents=0, documents_sent=0) is Tone.NORMAL
    assert reminder_tone(first, open_documents=2, documents_sent=4) is Tone.NORMAL
    assert reminder_tone(last, open_documents=2, documents_sent=4) is Tone.URGENT
    assert reminder_tone(last, open_documents=0, documents_sent=0) is Tone.URGENT


def test_the_order_of_the_schedule_does_not_matter() -> None:
    plan = _plan()
    now = at("2026-12-08 10:00")
    assert due_reminders(now, list(reversed(plan)), set()) == due_reminders(now, plan, set())
