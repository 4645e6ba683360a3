"""Prometheus metrics (served at /metrics by bot.web).

Counters and histograms are kept by the code that does the work; the database figures
(documents by state, the reading queue) are read when Prometheus scrapes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain import JobState
from core.intake import READ_JOB
from storage import tables
from storage.repositories.documents import count_by_state

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # memory, CPU and open files of this process
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

UPDATES = Counter(
    "tayuk_updates_total", "Updates handled, by outcome", ["outcome"], registry=REGISTRY
)
UPDATE_SECONDS = Histogram(
    "tayuk_update_seconds", "Time to handle one update", buckets=_FAST, registry=REGISTRY
)
HANDLER_SECONDS = Histogram(
    "tayuk_handler_seconds",
    "Time in each handler",
    ["handler"],
    buckets=_FAST,
    registry=REGISTRY,
)
DOCUMENTS = Gauge("tayuk_documents", "Documents by state", ["state"], registry=REGISTRY)
READING_QUEUE = Gauge(
    "tayuk_reading_queue_depth", "Documents waiting to be read", registry=REGISTRY
)
READING_AGE = Gauge(
    "tayuk_reading_queue_oldest_seconds",
    "Age of the oldest document waiting to be read",
    registry=REGISTRY,
)
OCR_PAGE_SECONDS = Histogram(
    "tayuk_ocr_page_seconds",
    "Reading time per page",
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
    registry=REGISTRY,
)
SENDS = Counter(
    "tayuk_telegram_requests_total",
    "Bot API calls that put something in front of a person, by outcome",
    ["outcome"],
    registry=REGISTRY,
)
LOOP_HELD_SECONDS = Histogram(
    "tayuk_event_loop_held_seconds",
    "How late the event loop ran a 20 ms heartbeat: every chat of the process waited as long",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
ERRORS = Counter(
    "tayuk_errors_total", "Log records at ERROR or above, by logger", ["logger"], registry=REGISTRY
)

_SENDING = ("Send", "Edit", "Copy", "Forward")


class HandlerTimer(BaseMiddleware):
    """Inner middleware: the time each handler (by its function's name) takes."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        found = data.get("handler")
        name = getattr(getattr(found, "callback", None), "__name__", "unknown")
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            HANDLER_SECONDS.labels(name).observe(time.perf_counter() - started)


class CountSends(BaseRequestMiddleware):
    """Counts the Bot API sends and edits, and Telegram's 429s (flood control)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not type(method).__name__.startswith(_SENDING):
            return await make_request(bot, method)
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            SENDS.labels("429").inc()
            raise
        except Exception:
            SENDS.labels("error").inc()
            raise
        SENDS.labels("ok").inc()
        return response


class CountErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        ERRORS.labels(record.name).inc()


def install_error_counter() -> None:
    root = logging.getLogger()
    if not any(isinstance(h, CountErrors) for h in root.handlers):
        root.addHandler(CountErrors())


async def read_database_figures(engine: AsyncEngine, now: datetime) -> None:
    j = tables.jobs.c
    async with engine.connect() as conn:
        # From the counters /tofile reads (migration 0016), not a count of every document.
        by_state = await count_by_state(conn)
        DOCUMENTS.clear()
        for state, count in by_state.items():
            DOCUMENTS.labels(state).set(count)
        waiting = (
            await conn.execute(
                select(func.count(), func.min(j.created_at)).where(
                    j.kind == READ_JOB, j.state.in_([JobState.QUEUED, JobState.RUNNING])
                )
            )
        ).one()
    READING_QUEUE.set(int(waiting[0] or 0))
    oldest = waiting[1]
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    READING_AGE.set((now - oldest).total_seconds() if oldest is not None else 0)


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
