"""Runs demo mode in one process: the local Bot API server, the real bot (polling it, with its
reading worker and scheduler) on SQLite in a demo folder, and the web page.

Nothing here talks to Telegram: the bot's API URL is the local server on loopback. The demo
folder carries a marker file, and reset refuses to wipe a folder without it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import shutil
import signal
from pathlib import Path
from typing import Any

from bot.app import App, build_app, prepare, set_commands
from bot.settings import (
    DatabaseSettings,
    HttpSettings,
    Settings,
    SmtpSettings,
    TelegramSettings,
    WorkerSettings,
)
from local_api.server import LocalApiServer

from . import BOT_USERNAME, LANGUAGES
from .control import Control
from .seed import Seeded, seed

log = logging.getLogger(__name__)
DEMO_TOKEN = "123456789:LOCAL-demo-token"
MARKER = ".tayuk-demo"


def demo_settings(data_dir: Path, api_url: str, host: str, port: int) -> Settings:
    """Everything that could reach real data or the outside is set here, not read from the
    environment: the database, the data folder, the token, the API server, e-mail."""
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        telegram=TelegramSettings(
            _env_file=None,
            token=DEMO_TOKEN,
            api_url=api_url,
            bot_username=BOT_USERNAME,
            webhook_url=None,
            webhook_secret=None,
        ),
        database=DatabaseSettings(
            _env_file=None,
            url=f"sqlite+aiosqlite:///{data_dir / 'tayuk.db'}",
        ),
        smtp=SmtpSettings(_env_file=None, host=None),
        http=HttpSettings(_env_file=None, enabled=True, host=host, port=port),
        worker=WorkerSettings(_env_file=None, enabled=True, processes=1),
    )


def prepare_folder(data_dir: Path) -> None:
    """A fresh, empty demo folder; only a folder made by the demo is ever wiped."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            raise SystemExit(
                f"{data_dir} is not empty and was not made by the demo; choose another folder"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("Tayuk demo data: wiped on every start and reset.\n")


class Demo:
    def __init__(self, data_dir: Path, host: str, port: int, language: str = "he") -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.language = language
        self.server = LocalApiServer("127.0.0.1", 0, BOT_USERNAME)
        self.control: Control | None = None
        self.app: App | None = None
        self.seeded: Seeded | None = None
        self.generation = 0  # grows on every reset, so the page drops what it showed
        self.lock = asyncio.Lock()

    @property
    def page_url(self) -> str:
        return f"http://{self.host}:{self.port}/demo/"

    async def start(self) -> App:
        await self.server.start()
        self.control = Control(self.server.base_url, DEMO_TOKEN)
        prepare_folder(self.data_dir)
        app = build_app(demo_settings(self.data_dir, self.server.base_url, self.host, self.port))
        self.app = app
        await self._boot()
        return app

    async def _boot(self) -> None:
        app, control = self.app, self.control
        assert app is not None and control is not None
        await prepare(app)
        await set_commands(app.bot)
        await app.bot.delete_webhook(drop_pending_updates=False)
        app.tasks.append(
            asyncio.create_task(
                app.dispatcher.start_polling(
                    app.bot, handle_signals=False, close_bot_session=False, polling_timeout=10
                ),
                name="polling",
            )
        )
        from bot.scheduler import start_scheduler
        from bot.worker import start_worker

        app.tasks.append(start_worker(app))
        app.tasks.append(start_scheduler(app))
        self.seeded = await seed(app.uow_factory, app.clock, self.language)
        people = self.seeded.people()
        # Both people open their links, as they would tap them in Telegram.
        joins = (("accountant", self.seeded.owner_token), ("client", self.seeded.client_token))
        for who, token in joins:
            user = {**people[who], "language_code": self.language}
            await control.send_text(user, f"/start {token}")
            await control.wait_for_bot_messages(user["id"], 1)

    async def reset(self, language: str | None = None) -> None:
        """Starts over: a new bot, an empty database and file store, forgotten chats."""
        async with self.lock:
            if language in LANGUAGES:
                self.language = language
            old = self.app
            assert old is not None
            await self._stop_polling(old)
            await old.close()
            self.server.state.reset()
            prepare_folder(self.data_dir)
            fresh = build_app(old.settings)
            # The web app holds the App object it was built with: give it the new parts.
            for item in dataclasses.fields(App):
                setattr(old, item.name, getattr(fresh, item.name))
            old.tasks = []
            self.generation += 1
            await self._boot()

    @staticmethod
    async def _stop_polling(app: App) -> None:
        # Cancelling start_polling's task leaves aiogram's inner polling task running (it
        # would keep taking updates beside the next bot): ask the dispatcher to stop instead.
        with contextlib.suppress(RuntimeError):  # not polling
            async with asyncio.timeout(15):
                await app.dispatcher.stop_polling()

    async def close(self) -> None:
        if self.app is not None:
            await self._stop_polling(self.app)
            await self.app.close()
        if self.control is not None:
            await self.control.aclose()
        await self.server.stop()


async def serve(demo: Demo, ready: Any = None) -> None:
    import uvicorn

    from bot.demo.web import add_demo_routes
    from bot.web import build_web

    app = await demo.start()
    web = build_web(app)
    add_demo_routes(web, demo)
    server = uvicorn.Server(
        uvicorn.Config(web, host=demo.host, port=demo.port, log_level="warning", lifespan="off")
    )
    http = asyncio.create_task(server.serve(), name="http")
    # uvicorn tells only by a flag that it listens; the address is printed after that.
    while not server.started and not http.done():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if http.done():
        await http  # raises why it could not listen
    if demo.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"Warning: listening on {demo.host}: anyone who reaches it can use the demo.")
    print(
        f"\nTayuk demo: open {demo.page_url}\n"
        "  Demo mode: a local stand-in for Telegram on this computer; nothing is sent to "
        "Telegram.\n"
        f"  Demo data: {demo.data_dir} (wiped on start and reset). Stop with Ctrl+C.\n",
        flush=True,
    )
    try:
        await http
    finally:
        server.should_exit = True
        await demo.close()


async def _main(demo: Demo) -> None:
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, main_task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serve(demo)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_main(Demo(args.data_dir.resolve(), args.host, args.port, args.language)))
    return 0
