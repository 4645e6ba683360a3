"""Runs the bot: migrations, the HTTP side, the worker, and long polling or a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot import log_redaction
from bot.app import App, build_app, prepare, run_polling, set_commands, started
from bot.logs import secrets_of
from bot.loop_watch import LoopWatch
from bot.settings import Settings, webhook_secret

log = logging.getLogger(__name__)


def start_http(app: App, *, webhook: bool = True) -> None:
    """Health checks and /metrics (and the webhook in webhook mode) as a task of the app."""
    # Imported only when used: the web stack costs memory a polling bot may not need.
    import uvicorn

    from bot.web import build_web

    server = uvicorn.Server(
        uvicorn.Config(
            build_web(app, webhook=webhook),
            host=app.settings.http.host,
            port=app.settings.http.port,
            log_level="warning",
            lifespan="off",
        )
    )
    app.tasks.append(asyncio.create_task(server.serve(), name="http"))


async def serve(app: App, stop: asyncio.Event) -> None:
    settings = app.settings
    secret = webhook_secret(settings.telegram)  # refuses a webhook without a secret
    if secret is not None and not settings.http.enabled:
        raise SystemExit("webhook mode needs the HTTP side: set TAYUK_HTTP_ENABLED=true")
    if settings.http.enabled:
        start_http(app)
    if settings.worker.enabled:
        from bot.worker import start_worker

        app.tasks.append(start_worker(app))
    if app.inbox.leases is not None:
        app.tasks.append(asyncio.create_task(app.inbox.keep_leases(), name="chat-leases"))
    from bot.scheduler import start_scheduler  # reminders and digests (issue 6)

    app.tasks.append(start_scheduler(app))
    if settings.telegram.webhook_url and secret is not None:
        await prepare(app)
        await set_commands(app.bot)
        await app.inbox.replay()
        started(app)  # as a polling bot does: full collections no longer walk start-up's
        await app.bot.set_webhook(
            settings.telegram.webhook_url,
            secret_token=secret.get_secret_value(),
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
        await stop.wait()
        await app.inbox.drain(settings.inbox.drain_seconds)
    else:
        await run_polling(app, stop)


async def _main(settings: Settings, *, worker_only: bool = False) -> None:
    if not worker_only:
        webhook_secret(settings.telegram)  # before anything starts
    app = build_app(settings)
    log_redaction.install(*secrets_of(settings))
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    stop = asyncio.Event()

    def on_signal() -> None:
        # The first signal stops taking updates and lets the taken ones finish; a second
        # one does not wait.
        if stop.is_set() or worker_only:
            main_task.cancel()
        else:
            log.info("stopping: finishing the updates already taken")
            stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal)
    if settings.loop_held_warn_ms > 0:
        app.loop_watch = LoopWatch(settings.loop_held_warn_ms / 1000)
    try:
        if worker_only:
            from bot.worker import start_worker

            await prepare(app)
            if settings.http.enabled:
                start_http(app, webhook=False)  # a worker's health and reading metrics
            if app.loop_watch is not None:
                app.loop_watch.start()
            await start_worker(app)
        else:
            await serve(app, stop)
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        if app.loop_watch is not None:
            app.loop_watch.stop()
        await app.close()


def run(settings: Settings) -> int:
    asyncio.run(_main(settings))
    return 0


def run_worker(settings: Settings) -> int:
    from bot.ocr.pool import lower_priority

    # A process that only reads runs at its readers' priority, from its start: a reading
    # process spawned later imports its models (seconds of CPU) before its own initializer
    # could lower it, and under load that import competed with the bots' answers.
    lower_priority(settings.ocr.nice)
    asyncio.run(_main(settings, worker_only=True))
    return 0
