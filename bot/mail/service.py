"""`tayuk mail`: the receivers, and the loop that turns kept mails into documents.

Processing is a job in the database queue (kind `mail_intake`), queued in the same commit
that kept the raw message: a process killed mid-message loses nothing, and the next one
takes the job over when its lease runs out. `core.mail.MailIntake.process` is idempotent,
so a message is filed once however often its job runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.mail.auth import AuthResultsAuthenticator, DkimAuthenticator, skip_check
from bot.settings import Settings
from bot.worker import worker_name
from core import mail
from core.mail_parts import parse_mail
from core.ports import Clock
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
RETRY_AFTER = timedelta(seconds=30)


@dataclass
class MailProcessor:
    uow_factory: SqlUnitOfWorkFactory
    intake: mail.MailIntake
    clock: Clock
    lease: timedelta = timedelta(minutes=2)
    idle_sleep: float = 1.0
    retry_after: timedelta = RETRY_AFTER
    name: str = field(default_factory=worker_name)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Says a sender is waiting for its "250": filing waits (up to `max_yield` seconds a
    # mail), since a kept mail is safe and a sender kept waiting is not.
    yield_to: Callable[[], bool] | None = None
    max_yield: float = 0.5

    def kick(self, _mail_id: int | None = None) -> None:
        self.wake.set()

    async def run_once(self) -> bool:
        if self.yield_to is not None:
            loop = asyncio.get_running_loop()
            until = loop.time() + self.max_yield
            while self.yield_to() and loop.time() < until:  # noqa: ASYNC110 (a counter, polled)
                await asyncio.sleep(0.01)
        async with self.uow_factory() as uow:
            job = await uow.jobs.claim(
                worker=self.name,
                now=self.clock.now(),
                lease=self.lease,
                kinds=[mail.MAIL_JOB],
                fair=False,  # a kept mail has no organization yet: oldest first
            )
            await uow.commit()
        if job is None:
            return False
        assert job.id is not None
        mail_id = int(job.payload["mail_id"])
        accepted_by = job.payload.get("accepted_by")
        try:
            async with self.uow_factory() as uow:
                await self.intake.process(
                    uow,
                    mail_id,
                    self.clock.now(),
                    accepted_by=int(accepted_by) if accepted_by is not None else None,
                )
        except Exception as error:
            log.exception("mail %s attempt %s failed", mail_id, job.attempts)
            last = job.attempts >= job.max_attempts
            async with self.uow_factory() as uow:
                await uow.jobs.fail(
                    job.id,
                    worker=self.name,
                    now=self.clock.now(),
                    error=f"{type(error).__name__}: {error}"[:500],
                    retry_at=None if last else self.clock.now() + self.retry_after,
                )
                if last:
                    # Kept and shown to the office, never dropped.
                    kept = await uow.mail.inbound(mail_id)
                    if kept is not None:
                        kept.state = mail.MailState.FAILED.value
                        kept.reason = "mail.failed_processing"
                await uow.commit()
            return True
        async with self.uow_factory() as uow:
            await uow.jobs.complete(job.id, worker=self.name, now=self.clock.now())
            await uow.commit()
        return True

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("mail loop error")
                busy = False
            if not busy:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.idle_sleep):
                        await self.wake.wait()


def authenticator_for(settings: Settings) -> mail.Authenticator:
    if settings.mail.auth == "authres":
        if not settings.mail.authserv_id:
            raise SystemExit("TAYUK_MAIL_AUTH=authres needs TAYUK_MAIL_AUTHSERV_ID")
        return AuthResultsAuthenticator(settings.mail.authserv_id)
    if settings.mail.auth == "none":
        return skip_check
    return DkimAuthenticator(arc_forwarders=settings.mail.arc_forwarders.split(","))


def html_renderer() -> Any:
    from bot.mail.render import render_html  # weasyprint is heavy: loaded only here

    return render_html


async def run_mail(settings: Settings) -> None:
    from bot.file_stores import build_file_store
    from bot.mail.smtp import IntakeHandler, serve_smtp
    from bot.mailer import SmtpMailer
    from core.clock import SystemClock
    from storage import migrate
    from storage.database import create_engine, session_factory
    from storage.orm import start_mappers

    domain = settings.mail.domain
    if not domain:
        raise SystemExit("set TAYUK_MAIL_DOMAIN: the domain of the forwarding addresses")
    start_mappers()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database.url)
    await migrate.upgrade(engine)
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
    files = build_file_store(settings)
    clock = SystemClock()
    grace = timedelta(days=settings.mail.grace_days)
    bot = None
    if settings.telegram.token is not None:
        from aiogram import Bot

        from bot.telegram_session import make_session

        bot = Bot(
            settings.telegram.token.get_secret_value(),
            session=make_session(settings.telegram.api_url),
        )
    from bot.mail.notices import ChatOrMailNotices

    intake = mail.MailIntake(
        files=files,
        parse=functools.partial(parse_mail, render=html_renderer()),
        authenticate=authenticator_for(settings),
        domain=domain,
        grace=grace,
        notices=ChatOrMailNotices(bot, uow_factory, SmtpMailer(settings.smtp)),
    )
    processor = MailProcessor(
        uow_factory, intake, clock, lease=timedelta(seconds=settings.mail.lease_seconds)
    )
    # Several loops: each files its own mail while the others wait on the disk or database.
    others = [
        MailProcessor(uow_factory, intake, clock, lease=processor.lease, wake=processor.wake)
        for _ in range(settings.mail.processors - 1)
    ]
    tasks = [
        asyncio.create_task(each.run_forever(), name="mail-processor")
        for each in (processor, *others)
    ]
    server = None
    if settings.mail.smtp_enabled:
        handler = IntakeHandler(
            uow_factory, files, clock, domain=domain, grace=grace, on_kept=processor.kick
        )
        for each in (processor, *others):
            each.yield_to = lambda: handler.receiving > 0
        server = await serve_smtp(
            handler,
            settings.mail.smtp_host,
            settings.mail.smtp_port,
            max_bytes=settings.mail.max_message_mb * 1024 * 1024,
        )
        log.info("receiving mail on %s:%s", settings.mail.smtp_host, settings.mail.smtp_port)
    if settings.mail.imap_host:
        from bot.mail.imap import ImapPoller

        poller = ImapPoller(settings.mail, uow_factory, files, domain, on_kept=processor.kick)
        tasks.append(asyncio.create_task(poller.run_forever(), name="mail-imap"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    print("mail ready", flush=True)
    try:
        await stop.wait()
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if bot is not None:
            await bot.session.close()
        await engine.dispose()
