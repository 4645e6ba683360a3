"""The composition root: everything the bot needs, built in one place from the settings."""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.aiogram_lean import warm_up
from bot.albums import AlbumCollector
from bot.mailer import SmtpMailer
from bot.middlewares import ChatOrderMiddleware, UnitOfWorkMiddleware
from bot.notifier import TelegramNotifier
from bot.settings import Settings
from bot.telegram_session import make_session
from core.clock import SystemClock
from core.ports import Clock
from handlers import access as access_handlers
from handlers import (
    categories,
    due_dates,
    errors,
    fallback,
    intake,
    language,
    menu,
    organizations,
    start,
    status,
    team,
)
from handlers import deadlines as deadline_handlers
from handlers import review as review_handlers
from handlers.texts import Texts
from storage import migrate
from storage.database import create_engine, session_factory
from storage.files import DiskFileStore
from storage.orm import start_mappers
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
COMMANDS = (
    "start",
    "status",
    "help",
    "lang",
    "org",
    "invite",
    "invites",
    "access",
    "team",
    "neworg",
    "joinlink",
    "deadlines",
    "filed",
    "duedate",
    "schedule",
    "tofile",
    "categories",
)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    uow_factory: SqlUnitOfWorkFactory
    files: DiskFileStore
    clock: Clock
    bot: Bot
    dispatcher: Dispatcher
    albums: AlbumCollector[Any]
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.albums.flush()
        await self.bot.session.close()
        await self.engine.dispose()


def database_url(settings: Settings) -> str:
    return settings.database.url


def build_dispatcher(uow_factory: SqlUnitOfWorkFactory, **services: Any) -> Dispatcher:
    dispatcher = Dispatcher(uow_factory=uow_factory, **services)
    dispatcher.update.outer_middleware(ChatOrderMiddleware())
    middleware = UnitOfWorkMiddleware(uow_factory)
    dispatcher.message.middleware(middleware)
    dispatcher.callback_query.middleware(middleware)
    dispatcher.include_routers(
        *(
            module.build_router()
            for module in (
                start,
                language,
                status,
                team,
                organizations,
                access_handlers,
                deadline_handlers,
                due_dates,
                review_handlers,  # before intake: a photo answering a return is not an upload
                categories,
                intake,
                fallback,
                errors,
            )
        )
    )
    return dispatcher


def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    start_mappers()
    warm_up()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url(settings), echo=settings.database.echo)
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
    files = DiskFileStore(settings.files_dir)
    token = settings.telegram.token
    if token is None:
        raise SystemExit(
            "TAYUK_TELEGRAM_TOKEN is not set. Put your bot's token in .env "
            "(see .env.example), or try Tayuk with the local Bot API server (README)."
        )
    bot = Bot(
        token.get_secret_value(),
        session=make_session(settings.telegram.api_url),
        default=DefaultBotProperties(link_preview_is_disabled=True),
    )
    albums: AlbumCollector[Any] = AlbumCollector()
    the_clock = clock or SystemClock()
    dispatcher = build_dispatcher(
        uow_factory,
        files=files,
        clock=the_clock,
        albums=albums,
        settings=settings,
        mailer=SmtpMailer(settings.smtp),
        notifier=TelegramNotifier(bot, uow_factory),
    )
    return App(settings, engine, uow_factory, files, the_clock, bot, dispatcher, albums)


async def set_commands(bot: Bot) -> None:
    # Everyone's menu is the client's; office members get theirs per chat (handlers.menu).
    for code in ("he", "en"):
        await bot.set_my_commands(menu.bot_commands(Texts(code), menu.DEFAULT), language_code=code)
    await bot.set_my_commands(menu.bot_commands(Texts("he"), menu.DEFAULT))


async def prepare(app: App) -> None:
    await migrate.upgrade(app.engine)


def settle_memory() -> None:
    """Moves what start-up made out of the garbage collector's sight.

    Modules, models and compiled queries live as long as the process; without this every
    full collection walks them all again (pauses of 100-150 ms were measured under load).
    """
    gc.collect()
    gc.freeze()


async def run_polling(app: App) -> None:
    """Migrate, then poll until cancelled."""
    await prepare(app)
    try:
        await set_commands(app.bot)
    except Exception:
        log.warning("could not set the command list", exc_info=True)
    await app.bot.delete_webhook(drop_pending_updates=False)
    settle_memory()
    await app.dispatcher.start_polling(app.bot, handle_signals=False, close_bot_session=False)
