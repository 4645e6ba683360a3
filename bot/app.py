"""The composition root: everything the bot needs, built in one place from the settings."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.aiogram_lean import warm_up
from bot.albums import AlbumCollector, RedisAlbumCollector
from bot.chat_leases import ChatLeases
from bot.file_stores import build_file_store
from bot.inbox import InboxProcessor, MarkAnswered, poll
from bot.loop_watch import LoopWatch
from bot.mailer import SmtpMailer
from bot.metrics import CountSends, HandlerTimer
from bot.middlewares import ChatOrderMiddleware, UnitOfWorkMiddleware
from bot.notifier import TelegramNotifier
from bot.settings import Settings
from bot.telegram_session import make_session
from bot.uploads import UploadGate
from bot.webapp.config import web_links
from bot.worker import ReadingHealth
from core import suggestions
from core.clock import SystemClock
from core.ports import Clock
from handlers import access as access_handlers
from handlers import (
    books,
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
from handlers import duplicates as duplicate_handlers
from handlers import expected as expected_handlers
from handlers import mail as mail_handlers
from handlers import ready as ready_handlers
from handlers import review as review_handlers
from handlers import web_links as web_link_handlers
from handlers.outbox import Outbox
from handlers.texts import Texts
from storage import migrate
from storage.database import create_engine, session_factory
from storage.files import StoredFiles, make_private_dir
from storage.inbox import UpdateInbox
from storage.orm import start_mappers
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    uow_factory: SqlUnitOfWorkFactory
    files: StoredFiles
    clock: Clock
    bot: Bot
    dispatcher: Dispatcher
    albums: AlbumCollector[Any]
    inbox: InboxProcessor
    outbox: Outbox  # every message the bot starts (handlers.outbox)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    reading_health: ReadingHealth = field(default_factory=ReadingHealth)
    redis: Redis | None = None  # shared state of the replicas, when TAYUK_REDIS_URL is set
    # Started once start-up is over (`started`): imports and migrations hold the loop then,
    # as they must, and nobody waits on them.
    loop_watch: LoopWatch | None = None

    async def close(self) -> None:
        await self.inbox.cancel()  # what did not finish stays in the inbox for next time
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.albums.flush()
        await self.bot.session.close()
        if self.inbox.inbox.engine is not self.engine:
            await self.inbox.inbox.engine.dispose()
        await self.engine.dispose()
        await self.files.close()
        if self.redis is not None:
            await self.redis.aclose()
        # The category models' background retrainings and training process, if running.
        await suggestions.MODELS.close()


def database_url(settings: Settings) -> str:
    return settings.database.url


def build_dispatcher(
    uow_factory: SqlUnitOfWorkFactory, storage: BaseStorage | None = None, **services: Any
) -> Dispatcher:
    dispatcher = Dispatcher(
        storage=storage or MemoryStorage(), uow_factory=uow_factory, **services
    )
    dispatcher.update.outer_middleware(ChatOrderMiddleware())
    middleware = UnitOfWorkMiddleware(uow_factory)
    timer = HandlerTimer()
    dispatcher.message.middleware(timer)
    dispatcher.callback_query.middleware(timer)
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
                duplicate_handlers,  # smart filing: a likely duplicate's answers
                ready_handlers,  # smart filing: approve all ready, auto-filing
                expected_handlers,  # smart filing: recurring vendors' missing invoices
                review_handlers,  # before intake: a photo answering a return is not an upload
                categories,
                books,  # before intake: a chart file sent to /accounts is not an upload
                mail_handlers,
                web_link_handlers,
                intake,
                fallback,
                errors,
            )
        )
    )
    return dispatcher


@dataclass(frozen=True)
class HandlerSettingsView:
    """What the handlers read of the settings (they do not import them), read when asked."""

    settings: Settings

    @property
    def invite_ttl_days(self) -> int:
        return self.settings.invite_ttl_days

    @property
    def mail_domain(self) -> str | None:
        return self.settings.mail.domain

    @property
    def mail_grace_days(self) -> int:
        return self.settings.mail.grace_days

    @property
    def movein_convention(self) -> str:
        return self.settings.export.movein_convention


def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    start_mappers()
    warm_up()
    make_private_dir(settings.data_dir)
    engine = create_engine(
        database_url(settings),
        echo=settings.database.echo,
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
    )
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
    files = build_file_store(settings)
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
    bot.session.middleware(MarkAnswered())
    bot.session.middleware(CountSends())
    redis = connect_redis(settings)
    albums = album_collector(redis)
    outbox = Outbox(bot, uow_factory)
    the_clock = clock or SystemClock()
    dispatcher = build_dispatcher(
        uow_factory,
        fsm_storage(redis),
        files=files,
        clock=the_clock,
        albums=albums,
        uploads=UploadGate(
            downloads=settings.intake.downloads,
            burst=settings.intake.burst,
            per_minute=settings.intake.per_minute,
        ),
        settings=settings,
        handler_settings=HandlerSettingsView(settings),
        mailer=SmtpMailer(settings.smtp),
        outbox=outbox,
        notifier=TelegramNotifier(outbox, uow_factory),
        web_links=web_links(settings),
    )
    # SQLite: its own connection, so taking an update and marking one done do not queue
    # behind the handlers' transactions for the pool's one connection. (PostgreSQL's pool
    # has room enough.)
    inbox_engine = (
        create_engine(database_url(settings), echo=settings.database.echo)
        if engine.dialect.name == "sqlite"
        else engine
    )
    inbox = InboxProcessor(
        dispatcher,
        bot,
        UpdateInbox(inbox_engine),
        the_clock,
        max_attempts=settings.inbox.max_attempts,
        keep_done=timedelta(days=settings.inbox.keep_days),
        concurrency=settings.inbox.concurrency,
        leases=None if redis is None else ChatLeases(redis, settings.redis.chat_lease_seconds),
    )
    return App(
        settings,
        engine,
        uow_factory,
        files,
        the_clock,
        bot,
        dispatcher,
        albums,
        inbox,
        outbox,
        redis=redis,
    )


def connect_redis(settings: Settings) -> Redis | None:
    url = settings.redis.url
    if url is None or not url.get_secret_value():
        return None
    # redis-py's default pool fails a call at once ("Too many connections") when its 100
    # connections are in use: a burst of chats asking for their leases did that (issue 16).
    pool = BlockingConnectionPool.from_url(
        url.get_secret_value(),
        max_connections=settings.redis.max_connections,
        timeout=settings.redis.pool_timeout,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes both


def fsm_storage(redis: Redis | None) -> BaseStorage:
    """Conversation state (the /neworg steps, a field being edited) where every replica
    sees it; in memory for a single process."""
    if redis is None:
        return MemoryStorage()
    return RedisStorage(
        redis,
        # destiny: handlers.review keeps each accountant's live cards under a second key.
        key_builder=DefaultKeyBuilder(prefix="tayuk:fsm", with_bot_id=True, with_destiny=True),
        # A conversation left half-way is forgotten after a month.
        state_ttl=timedelta(days=30),
        data_ttl=timedelta(days=30),
    )


def album_collector(redis: Redis | None) -> AlbumCollector[Any]:
    if redis is None:
        return AlbumCollector()
    from handlers.intake import PartResult

    return RedisAlbumCollector[PartResult](
        redis,
        lambda part: json.dumps(dataclasses.asdict(part)),
        lambda raw: PartResult(**json.loads(raw)),
    )


async def set_commands(bot: Bot) -> None:
    # Everyone's menu is the client's; office members get theirs per chat (handlers.menu).
    for code in ("he", "en"):
        await bot.set_my_commands(menu.bot_commands(Texts(code), menu.DEFAULT), language_code=code)
    await bot.set_my_commands(menu.bot_commands(Texts("he"), menu.DEFAULT))


async def prepare(app: App) -> None:
    await migrate.upgrade(app.engine)


def started(app: App) -> None:
    """Start-up is over: what it made leaves the collector's sight, the loop is watched."""
    settle_memory()
    if app.loop_watch is not None:
        app.loop_watch.start()


def settle_memory() -> None:
    """Moves what start-up made out of the garbage collector's sight.

    Modules, models and compiled queries live as long as the process; without this every
    full collection walks them all again (pauses of 100-150 ms were measured under load).
    """
    gc.collect()
    gc.freeze()


async def run_polling(app: App, stop: asyncio.Event | None = None) -> None:
    """Migrate, finish what the last run left, then poll until `stop` (or cancelled).

    On `stop` no new update is taken and those taken get `inbox.drain_seconds` to finish.
    """
    stop = stop or asyncio.Event()
    await prepare(app)
    try:
        await set_commands(app.bot)
    except Exception:
        log.warning("could not set the command list", exc_info=True)
    await app.bot.delete_webhook(drop_pending_updates=False)
    await app.inbox.replay()
    started(app)
    await poll(
        app.bot,
        app.inbox,
        stop,
        polling_timeout=app.settings.inbox.polling_timeout,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
    )
    await app.inbox.drain(app.settings.inbox.drain_seconds)
