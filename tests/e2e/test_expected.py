"""Expected documents end to end (issue 17): a vendor billing every month is recognised from
the organization's history; last month's missing invoice is listed for the office and for
the client, who answers "there is none this month" with one tap."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from bot.scheduler import DeadlineTicker
from bot.sender import TelegramSender
from core import expected, reporting
from core.domain import Document, DocumentKind, DocumentState, OfficeRole
from core.reporting import ReminderNotice
from handlers.deadlines import render_notice
from local_api.client import TgUser
from storage import tables
from tests.e2e import smart_world
from tests.e2e.harness import Harness
from tests.e2e.smart_world import buttons

DANA = TgUser(id=5_000_017_301, first_name="Dana", language_code="en")
RACHEL = TgUser(id=5_000_017_302, first_name="Rachel", language_code="en")


async def bills_history(harness: Harness) -> tuple[int, str, int]:
    """Falafel Ltd's client Dana had Bezeq's invoice every month but the last; Azrieli's came;
    Paz Ltd once. Returns the organization, last month ("2026-10") and Dana's id."""
    office_id, org_id = await harness.office_and_org("Falafel Ltd")
    await smart_world.staff(harness, RACHEL, office_id, OfficeRole.STAFF)
    await harness.join(DANA, org_id)
    now = datetime.now(UTC)
    period = expected.previous_month(now.date())
    before = expected._months_before(period, 4)
    async with harness.app.uow_factory() as uow:
        found = await uow.people.by_identity("telegram", DANA.id)
        assert found is not None
        bills = [("Bezeq", "520000029", m) for m in before]  # monthly, not last month
        bills += [("Azrieli", "513000004", m) for m in [period, *before[:3]]]  # arrived
        bills += [("Paz Ltd", "510000003", before[0])]  # once: not expected
        for n, (name, number, month) in enumerate(bills):
            await uow.documents.add(
                Document(
                    uploaded_by=found[0].id or 0,
                    batch=f"x{n}",
                    source_platform="telegram",
                    source_chat_id=DANA.id,
                    source_message_id=800_000 + n,
                    organization_id=org_id,
                    kind=DocumentKind.TAX_INVOICE,
                    state=DocumentState.FILED,
                    fields={
                        "vendor_name": {"value": name, "confidence": 1.0},
                        "vendor_id": {"value": number, "confidence": 1.0},
                        "date": {"value": f"{month}-15", "confidence": 1.0},
                    },
                    created_at=now,
                    read_at=now,
                )
            )
        await uow.commit()

    return org_id, period, found[0].id or 0


async def test_a_missing_monthly_invoice_is_listed_and_the_client_says_none(
    harness: Harness,
) -> None:
    org_id, period, dana = await bills_history(harness)
    office = await harness.say(RACHEL, "/expected")
    assert "Falafel Ltd: nothing yet from Bezeq" in (office.text or "")
    assert "Azrieli" not in (office.text or "") and "Paz" not in (office.text or "")

    # The period's VAT picture lists it too.
    month = expected_month(period)
    periods = await harness.say(RACHEL, "/vat")
    label = next(b["text"] for b in periods.buttons() if f"{period[5:]}/{period[:4]}" in b["text"])
    picture = await harness.edited(RACHEL, harness.api.click(RACHEL, periods, label), periods)
    assert f"Expected, not received: an invoice from Bezeq for {month}" in (picture.text or "")
    assert "Azrieli" not in (picture.text or "")

    # The client's reminder for that period names it (read on a morning it is due).
    reminder = await first_reminder(harness, org_id, period)
    assert f"We have no invoice from Bezeq for {month} yet." in reminder
    assert "Azrieli" not in reminder and "/expected" in reminder

    client = await harness.say(DANA, "/expected")
    assert f"We have no invoice from Bezeq for {month} yet." in (client.text or "")
    assert buttons(client) == ["There is none from Bezeq this month"]
    client = await harness.edited(
        DANA, harness.api.click(DANA, client, "There is none from Bezeq this month"), client
    )
    assert f"Every expected invoice for {month} has arrived." in (client.text or "")

    office = await harness.say(RACHEL, "/expected")
    assert "Bezeq" not in (office.text or "")
    await said_none_once(harness, dana, period)


async def said_none_once(harness: Harness, dana: int, period: str) -> None:
    """The audit holds one "none this month", by the client, for the period."""
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        a = tables.audit_log.c
        said = (
            await uow.session.execute(
                select(a.actor_id, a.details).where(a.action == expected.NONE_THIS_MONTH)
            )
        ).one()
    assert said.actor_id == dana and said.details["period"] == period


async def first_reminder_morning(harness: Harness, org_id: int, period: str) -> datetime:
    """The first morning a client reminder about `period` is due."""
    year, month = (int(p) for p in period.split("-"))
    start = date(year + month // 12, month % 12 + 1, 1)
    for day in range(25):
        morning = datetime.combine(start + timedelta(days=day), time(7, 30), tzinfo=UTC)
        async with harness.app.uow_factory() as uow:
            notices = await reporting.due_notices(uow, morning)
        for notice in notices:
            if (
                isinstance(notice, ReminderNotice)
                and notice.organization.id == org_id
                and notice.reminders[0].obligation.period.start == date(year, month, 1)
            ):
                return morning
    raise AssertionError(f"no reminder for {period}")


async def first_reminder(harness: Harness, org_id: int, period: str) -> str:
    """The first client reminder about `period`, as the scheduler would render it."""
    morning = await first_reminder_morning(harness, org_id, period)
    async with harness.app.uow_factory() as uow:
        notices = await reporting.due_notices(uow, morning)
    [notice] = [
        n for n in notices if isinstance(n, ReminderNotice) and n.organization.id == org_id
    ]
    return render_notice(notice)


def expected_month(period: str) -> str:
    year, month = period.split("-")
    return f"{int(month):02d}/{year}"


class At:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


async def test_the_reminder_itself_takes_the_clients_none_this_month(harness: Harness) -> None:
    org_id, period, dana = await bills_history(harness)
    month = expected_month(period)
    morning = await first_reminder_morning(harness, org_id, period)
    sender = TelegramSender(harness.app.bot, outbox=harness.app.outbox)
    ticker = DeadlineTicker(harness.app.uow_factory, sender.send, At(morning))
    report = await ticker.tick()  # every notice due that morning, this reminder among them
    assert report.notices
    [reminder] = [
        m
        for m in await harness.api.wait_for_messages(DANA.id, len(report.notices), timeout=10)
        if f"We have no invoice from Bezeq for {month} yet." in (m.text or "")
    ]
    assert buttons(reminder) == ["There is none from Bezeq this month"]

    tapped = await harness.edited(
        DANA, harness.api.click(DANA, reminder, "There is none from Bezeq this month"), reminder
    )
    assert tapped.text == reminder.text and buttons(tapped) == []  # the reminder stays
    await said_none_once(harness, dana, period)
    client = await harness.say(DANA, "/expected")
    assert f"Every expected invoice for {month} has arrived." in (client.text or "")
