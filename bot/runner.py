"""Runs the bot: migrations, the HTTP side, the worker, and long polling or a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot import log_redaction
from bot.app import App, build_app, prepare, run_polling, set_commands
from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve(app: App) -> None:
    settings = app.settings
    if settings.http.enabled:
        # Imported only when used: the web stack costs memory a polling bot may not need.
        import uvicorn

        from bot.web import build_web

        server = uvicorn.Server(
            uvicorn.Config(
                build_web(app),
                host=settings.http.host,
                port=settings.http.port,
                log_level="warning",
                lifespan="off",
            )
        )
        app.tasks.append(asyncio.create_task(server.serve(), name="http"))
    if settings.worker.enabled:
        from bot.worker import start_worker

        app.tasks.append(start_worker(app))
    from bot.scheduler import start_scheduler  # reminders and digests (issue 6)

    app.tasks.append(start_scheduler(app))
    if settings.telegram.webhook_url:
        await prepare(app)
        await set_commands(app.bot)
        secret = settings.telegram.webhook_secret
        await app.bot.set_webhook(
            settings.telegram.webhook_url,
            secret_token=secret.get_secret_value() if secret else None,
        )
        await asyncio.Event().wait()
    else:
        await run_polling(app)


async def _main(settings: Settings, *, worker_only: bool = False) -> None:
    app = build_app(settings)
    token = settings.telegram.token
    log_redaction.install(token.get_secret_value() if token else "")
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, main_task.cancel)
    try:
        if worker_only:
            from bot.worker import start_worker

            await prepare(app)
            await start_worker(app)
        else:
            await serve(app)
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        await app.close()


def run(settings: Settings) -> int:
    asyncio.run(_main(settings))
    return 0


def run_worker(settings: Settings) -> int:
    asyncio.run(_main(settings, worker_only=True))
    return 0
