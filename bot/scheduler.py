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
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.chat_leases import RedisLock
from bot.sender import Delivery, RateLimiter, Send, TelegramSender
from core import reporting
from core.people import known, mark_unreachable
from core.ports import Clock
from handlers.deadlines import notice_markup, render_notice
from storage.uow import SqlUnitOfWorkFactory

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)
TIMEZONE = "Asia/Jerusalem"
TICK_JOB = "deadlines.tick"
TICK_LOCK = "tayuk:scheduler:tick"


@dataclass
class TickReport:
    deliveries: Counter[Delivery] = field(default_factory=Counter)
    notices: list[reporting.Notice] = field(default_factory=list)  # claimed this tick


class DeadlineTicker:
    """One tick = one pass over the database; safe to call from a test with a fake clock."""

    def __init__(
        self,
        uow_factory: SqlUnitOfWorkFactory,
        send: Send,
        clock: Clock,
        concurrency: int = 100,
        lock: RedisLock | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.send = send
        self.clock = clock
        self.concurrency = concurrency
        self._running = asyncio.Lock()
        # Several replicas: one ticks at a time (the others skip that minute). Only saves
        # work: the claim in the database is what keeps a notice from going out twice.
        self.lock = lock

    async def tick(self) -> TickReport:
        if self.lock is None:
            return await self._tick()
        if not await self.lock.acquire(TICK_LOCK):
            return TickReport()  # another replica is ticking
        try:
            return await self._tick()
        finally:
            await self.lock.release(TICK_LOCK)

    async def _tick(self) -> TickReport:
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
                    text, markup = render_notice(notice), notice_markup(notice)
                    return await self.send(notice.recipient.chat_id, text, markup=markup)

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


AUTO_FILED_JOB = "smart_filing.auto_filed"
AUTO_FILED_AT = (8, 30)  # Israel time: the morning list of what was filed with no tap


async def send_auto_filed(app: App) -> int:
    """Each office member gets the list of what was auto-filed since yesterday in the
    organizations they review, with an undo for each (issue 17); once a day, whatever the
    number of processes (the key is claimed first). Returns how many lists went out."""
    from core.domain import SentNotice
    from handlers.ready import daily_list
    from handlers.texts import Texts

    now = app.clock.now()
    async with app.uow_factory() as uow:
        recipients = {r.person_id: r for r in await uow.reporting.office_recipients()}
    sent = 0
    for recipient in recipients.values():
        key = f"autofiled:{recipient.person_id}:{now.date().isoformat()}"
        async with app.uow_factory() as uow:
            person = await uow.people.get(recipient.person_id)
            if person is None:
                continue
            listed = await daily_list(uow, known(person), Texts(recipient.language), app.clock)
            if listed is None:
                continue
            notice = SentNotice(key=key, person_id=recipient.person_id, sent_at=now)
            claimed = await uow.reporting.claim([notice])
            await uow.commit()
        if key not in claimed:
            continue
        text, markup = listed
        # The outbox paces the chat and marks a person who blocked the bot unreachable.
        delivery = await app.outbox.send(
            recipient.chat_id, text, person_id=recipient.person_id, markup=markup
        )
        if delivery is Delivery.SENT:
            sent += 1
        else:
            log.warning("the auto-filed list to person %s: %s", recipient.person_id, delivery)
    return sent


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
    lock = None if app.redis is None else RedisLock(app.redis, seconds=300)
    sender = (
        TelegramSender(app.bot, limiter) if limiter else TelegramSender(app.bot, outbox=app.outbox)
    )
    ticker = DeadlineTicker(app.uow_factory, sender.send, app.clock, lock=lock)
    scheduler = build_scheduler(ticker)
    hour, minute = AUTO_FILED_AT
    scheduler.add_job(
        send_auto_filed,
        CronTrigger(hour=hour, minute=minute, timezone=TIMEZONE),
        args=[app],
        id=AUTO_FILED_JOB,
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
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
