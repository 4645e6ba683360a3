"""A simulated November and December 2026: a fake clock, the real tick, the real database.

An office with a monthly client (Falafel Ltd: company, employees) and a bi-monthly one
(Hummus Bros), the office's default settings (cutoff 5 days before the due date, reminders
7, 3 and 1 days before the cutoff at 09:00, digest at 08:30). The tick runs every 30
minutes; the bot "restarts" twice (new ticker, same database).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import func, select

from bot.scheduler import DeadlineTicker
from bot.sender import Delivery
from core import reporting
from core.deadlines import ISRAEL_TZ, is_quiet
from core.domain import DocumentState
from storage import tables
from storage.uow import SqlUnitOfWorkFactory
from tests.deadline_world import (
    ACCOUNTANT_CHAT,
    BIMONTHLY_CLIENT_CHAT,
    MONTHLY_CLIENT_CHAT,
    FakeClock,
    World,
    add_document,
    at,
    build,
)

STEP = timedelta(minutes=30)


@dataclass
class Sent:
    at: datetime
    chat_id: int
    text: str


class RecordingSender:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[Sent] = []

    async def send(
        self, chat_id: int, text: str, *, markup: InlineKeyboardMarkup | None = None
    ) -> Delivery:
        self.sent.append(Sent(self.clock.now(), chat_id, text))
        return Delivery.SENT


# Worked out by hand from the 2026 table (see tests/deadlines/test_simulation.py):
# - 2026-10 reports (due Mon 16.11, cutoff Wed 11.11): 4.11, 8.11, 10.11 at 09:00, for
#   Falafel's VAT, advances and withholding and Hummus's 09-10 VAT and advances.
# - 2026-11 VAT and advances (due 15.12, cutoff 10.12): 3.12, 7.12, 9.12; withholding (due
#   16.12, cutoff Fri 11.12): 4.12, 8.12, 10.12. VAT 2026-11 is marked filed on 8.12, so
#   the 9.12 reminder speaks of the advances only.
# - Hummus's 11-12 reports are due 18.1.2027: their reminders start in January.
EXPECTED_REMINDERS = [
    (at("2026-11-04 09:00"), MONTHLY_CLIENT_CHAT, "10/2026", {"VAT", "advances", "withholding"}),
    (at("2026-11-04 09:00"), BIMONTHLY_CLIENT_CHAT, "09-10/2026", {"VAT", "advances"}),
    (at("2026-11-08 09:00"), MONTHLY_CLIENT_CHAT, "10/2026", {"VAT", "advances", "withholding"}),
    (at("2026-11-08 09:00"), BIMONTHLY_CLIENT_CHAT, "09-10/2026", {"VAT", "advances"}),
    (at("2026-11-10 09:00"), MONTHLY_CLIENT_CHAT, "10/2026", {"VAT", "advances", "withholding"}),
    (at("2026-11-10 09:00"), BIMONTHLY_CLIENT_CHAT, "09-10/2026", {"VAT", "advances"}),
    (at("2026-12-03 09:00"), MONTHLY_CLIENT_CHAT, "11/2026", {"VAT", "advances"}),
    (at("2026-12-04 09:00"), MONTHLY_CLIENT_CHAT, "11/2026", {"withholding"}),
    (at("2026-12-07 09:00"), MONTHLY_CLIENT_CHAT, "11/2026", {"VAT", "advances"}),
    (at("2026-12-08 09:00"), MONTHLY_CLIENT_CHAT, "11/2026", {"withholding"}),
    (at("2026-12-09 09:00"), MONTHLY_CLIENT_CHAT, "11/2026", {"advances"}),
    (at("2026-12-10 09:00"), MONTHLY_CLIENT_CHAT, "11/2026", {"withholding"}),
]
REPORT_NAMES = {
    "VAT": "• VAT:",
    "advances": "• Income-tax advances:",
    "withholding": "• Salary withholding (102):",
}


def expected_digests() -> list[datetime]:
    """Sunday to Friday at 08:30; November and December 2026 have no statutory holiday."""
    day, found = at("2026-11-01 08:30"), []
    while day < at("2027-01-01 00:00"):
        if day.weekday() != 5:  # Saturday
            found.append(day)
        day = (day + timedelta(days=1)).replace(hour=8, minute=30)
    return found


async def run(
    uow_factory: SqlUnitOfWorkFactory,
    world: World,
    clock: FakeClock,
    sender: RecordingSender,
    until: datetime,
    events: dict[datetime, Callable[[], Awaitable[object]]],
    restarts: set[datetime],
) -> None:
    ticker = DeadlineTicker(uow_factory, sender.send, clock)
    while clock.now() < until:
        now = clock.now()
        if now in restarts:
            ticker = DeadlineTicker(uow_factory, sender.send, clock)  # memory gone, DB kept
        if now in events:
            await events[now]()
        await ticker.tick()
        clock.advance(STEP)


async def test_november_and_december_send_exactly_the_planned_reminders_and_digests(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    clock = FakeClock(at("2026-11-01 00:00"))
    sender = RecordingSender(clock)

    async def file_vat() -> None:
        async with uow_factory() as uow:
            await reporting.mark_filed(
                uow, world.accountant, world.monthly_org, "vat", "2026-11", clock.now()
            )

    events: dict[datetime, Callable[[], Awaitable[object]]] = {
        # Falafel has a document we sent back on 2.11; Hummus sends one on 5.11.
        at("2026-11-02 10:00"): lambda: add_document(
            uow_factory,
            world.monthly_org,
            world.monthly_client,
            DocumentState.RETURNED,
            clock.now(),
        ),
        at("2026-11-05 12:00"): lambda: add_document(
            uow_factory,
            world.bimonthly_org,
            world.bimonthly_client,
            DocumentState.TO_FILE,
            clock.now(),
        ),
        at("2026-12-08 12:00"): file_vat,
    }
    restarts = {at("2026-11-08 08:30"), at("2026-11-08 09:00"), at("2026-12-04 09:00")}
    await run(uow_factory, world, clock, sender, at("2027-01-01 00:00"), events, restarts)

    assert not [s for s in sender.sent if is_quiet(s.at)]
    reminders = [s for s in sender.sent if s.chat_id != ACCOUNTANT_CHAT]
    assert [(s.at, s.chat_id) for s in reminders] == [(a, c) for a, c, _, _ in EXPECTED_REMINDERS]
    for sent, (_, _, period, reports) in zip(reminders, EXPECTED_REMINDERS, strict=True):
        assert period in sent.text
        shown = {name for name, line in REPORT_NAMES.items() if line in sent.text}
        assert shown == reports, sent.text

    by_time = {(s.at, s.chat_id): s.text for s in reminders}
    # Dana has a returned document open: no gentle note; the last one is urgent.
    dana_first = by_time[(at("2026-11-04 09:00"), MONTHLY_CLIENT_CHAT)]
    assert dana_first.startswith("Reminder from the office for Falafel Ltd")
    assert "Documents we returned to you, waiting for your answer: 1." in dana_first
    assert by_time[(at("2026-11-10 09:00"), MONTHLY_CLIENT_CHAT)].startswith("Last reminder")
    # Yossi: nothing sent before 5.11, then a document and nothing open: gentle.
    assert "not received documents" in by_time[(at("2026-11-04 09:00"), BIMONTHLY_CLIENT_CHAT)]
    for day in ("2026-11-08", "2026-11-10"):
        gentle = by_time[(at(f"{day} 09:00"), BIMONTHLY_CLIENT_CHAT)]
        assert (
            gentle.startswith("Thank you")
            and "Documents we have from you for this period: 1." in gentle
        )

    digests = [s for s in sender.sent if s.chat_id == ACCOUNTANT_CHAT]
    assert [s.at for s in digests] == expected_digests()
    by_day = {s.at.astimezone(ISRAEL_TZ).date().isoformat(): s.text for s in digests}
    assert "Due in the coming week" not in by_day["2026-11-01"]
    assert "Falafel Ltd: VAT 10/2026, due 16 Nov 2026" in by_day["2026-11-09"]
    assert "Hummus Bros: VAT 09-10/2026, due 16 Nov 2026" in by_day["2026-11-09"]
    # Under each VAT report: whether its period can be exported, and whether it was (books).
    falafel_vat = by_day["2026-11-09"].split("Falafel Ltd: VAT 10/2026")[1].split("\n")[1]
    assert falafel_vat.strip() == "ready to export · not exported yet"
    assert "Returned documents" not in by_day["2026-11-05"]  # only 2 days so far
    assert "Falafel Ltd: 1" in by_day["2026-11-06"].split("Returned documents")[1]
    assert "Hummus Bros: 1" in by_day["2026-11-06"].split("Documents to file:")[1]
    # Filed on 8.12: the 9.12 digest lists the advances and withholding, not the VAT.
    assert "Falafel Ltd: VAT 11/2026" in by_day["2026-12-08"]
    assert "Falafel Ltd: VAT 11/2026" not in by_day["2026-12-09"]
    assert "Falafel Ltd: Income-tax advances 11/2026" in by_day["2026-12-09"]

    async with uow_factory() as uow:
        assert uow.session is not None
        rows = await uow.session.scalar(select(func.count()).select_from(tables.sent_notices))
    # Each reminder key once per report, each digest once: nothing recorded twice.
    assert rows == sum(len(r[3]) for r in EXPECTED_REMINDERS) + len(expected_digests())


async def test_a_failed_send_is_retried_on_the_next_tick_and_a_blocked_client_is_marked(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    clock = FakeClock(at("2026-11-04 09:00"))
    outcomes = {MONTHLY_CLIENT_CHAT: [Delivery.FAILED, Delivery.SENT]}
    delivered: list[int] = []

    async def send(
        chat_id: int, text: str, *, markup: InlineKeyboardMarkup | None = None
    ) -> Delivery:
        if chat_id == BIMONTHLY_CLIENT_CHAT:
            return Delivery.BLOCKED
        outcome = (
            outcomes.get(chat_id, [Delivery.SENT]).pop(0)
            if chat_id in outcomes
            else (Delivery.SENT)
        )
        if outcome is Delivery.SENT:
            delivered.append(chat_id)
        return outcome

    ticker = DeadlineTicker(uow_factory, send, clock)
    first = await ticker.tick()
    assert first.deliveries[Delivery.FAILED] == 1 and first.deliveries[Delivery.BLOCKED] == 1
    clock.advance(timedelta(minutes=1))
    second = await ticker.tick()
    # Dana's reminder comes again; Yossi, who blocked the bot, is not tried again.
    assert [n.recipient.chat_id for n in second.notices] == [MONTHLY_CLIENT_CHAT]
    assert delivered.count(MONTHLY_CLIENT_CHAT) == 1
    async with uow_factory() as uow:
        yossi = await uow.people.get(world.bimonthly_client)
        assert yossi is not None and yossi.reachable is False
    clock.advance(timedelta(minutes=1))
    assert (await ticker.tick()).notices == []
