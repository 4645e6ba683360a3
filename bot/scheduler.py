"""The deadline tick: every minute, what reminders and digests are due, sent once.

The database is the source of truth: each tick recomputes what is due from the profiles,
the due dates and the sent-notice log, so a restart neither repeats nor skips anything.

Mark before send: the tick records a notice's keys and commits *before* it sends, then
gives the keys back if the send failed for a reason that may pass. A crash between the
commit and the send loses that one message; the other order (send, then record) would
send it twice after a crash, and a duplicate nag is worse than a missed one. Recording in
the same transaction as the sending is not possible (a Bot API call is not transactional),
and SQLite must not hold its write lock across network calls anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.sender import Delivery, RateLimiter, Send, TelegramSender
from core import reporting
from core.people import mark_unreachable
from core.ports import Clock
from handlers.deadlines import render_notice
from storage.uow import SqlUnitOfWorkFactory

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)
TIMEZONE = "Asia/Jerusalem"
TICK_JOB = "deadlines.tick"


@dataclass
class TickReport:
    deliveries: Counter[Delivery] = field(default_factory=Counter)
    notices: list[reporting.Notice] = field(default_factory=list)  # claimed this tick


class DeadlineTicker:
    """One tick = one pass over the database; safe to call from a test with a fake clock."""

    def __init__(
        self, uow_factory: SqlUnitOfWorkFactory, send: Send, clock: Clock, concurrency: int = 100
    ) -> None:
        self.uow_factory = uow_factory
        self.send = send
        self.clock = clock
        self.concurrency = concurrency
        self._running = asyncio.Lock()

    async def tick(self) -> TickReport:
        report = TickReport()
        if self._running.locked():
            return report  # the previous tick is still sending: it will catch up
        async with self._running:
            now = self.clock.now()
            async with self.uow_factory() as uow:
                due = await reporting.due_notices(uow, now)
                if not due:
                    return report
                report.notices = await reporting.claim(uow, due, now)
            gate = asyncio.Semaphore(self.concurrency)

            async def deliver(notice: reporting.Notice) -> Delivery:
                async with gate:
                    text = render_notice(notice)
                    return await self.send(notice.recipient.chat_id, text)

            outcomes = await asyncio.gather(*(deliver(n) for n in report.notices))
            failed = []
            for notice, outcome in zip(report.notices, outcomes, strict=True):
                report.deliveries[outcome] += 1
                if outcome is Delivery.FAILED:
                    failed.append(notice)
                elif outcome is Delivery.BLOCKED:
                    async with self.uow_factory() as uow:
                        await mark_unreachable(uow, notice.recipient.person_id)
            if failed:
                async with self.uow_factory() as uow:
                    await reporting.unclaim(uow, failed)
            if report.notices:
                log.info("deadline tick at %s: %s", now.isoformat(), dict(report.deliveries))
            return report


def build_scheduler(ticker: DeadlineTicker, *, seconds: float = 60) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=TIMEZONE)
    # One job under a stable name; coalesce so a sleeping laptop does not tick ten times.
    scheduler.add_job(
        ticker.tick,
        IntervalTrigger(seconds=seconds, timezone=TIMEZONE),
        id=TICK_JOB,
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    return scheduler


async def run_scheduler(app: App, limiter: RateLimiter | None = None) -> None:
    """Runs the tick until cancelled (a task in `app.tasks`, so `App.close` stops it)."""
    sender = (
        TelegramSender(app.bot, limiter) if limiter else TelegramSender(app.bot, outbox=app.outbox)
    )
    ticker = DeadlineTicker(app.uow_factory, sender.send, app.clock)
    scheduler = build_scheduler(ticker)
    scheduler.start()
    try:
        try:
            await ticker.tick()  # at once on start: catch up with what fell due while down
        except Exception:
            log.exception("the first deadline tick failed; the scheduler keeps ticking")
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            scheduler.shutdown(wait=False)


def start_scheduler(app: App) -> asyncio.Task[None]:
    return asyncio.create_task(run_scheduler(app), name="scheduler")
