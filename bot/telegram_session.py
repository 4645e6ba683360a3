"""Bot API calls that honour 429 answers instead of failing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.aiogram_lean import keep_response_model
from bot.middlewares import CURRENT_UOW

log = logging.getLogger(__name__)


class EndReadOnlyTransaction(BaseRequestMiddleware):
    """A Bot API call made while handling an update (an answer, an edit) first ends the
    update's transaction if it only read: SQLite holds its lock for a whole transaction,
    never across a network call. A transaction with writes is left alone (commit first).

    The outbox (`handlers.outbox`) ends its caller's transaction itself; this covers the
    replies a handler sends straight to the person writing.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        uow = CURRENT_UOW.get()
        if uow is not None:
            await uow.release_if_clean()
        return await make_request(bot, method)


class RetryAfter(BaseRequestMiddleware):
    def __init__(self, attempts: int = 5, max_wait: float = 60.0) -> None:
        self.attempts = attempts
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        keep_response_model(method.__returning__)
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.attempts or error.retry_after > self.max_wait:
                    raise
                log.warning("429 on %s, waiting %ss", type(method).__name__, error.retry_after)
                await asyncio.sleep(error.retry_after)
            except TelegramNetworkError:
                if attempt == self.attempts:
                    raise
                await asyncio.sleep(min(2**attempt * 0.25, 5))
        raise AssertionError("unreachable")


def make_session(api_url: str | None, **kwargs: Any) -> AiohttpSession:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_url), **kwargs)
        if api_url
        else AiohttpSession(**kwargs)
    )
    session.middleware(EndReadOnlyTransaction())
    session.middleware(RetryAfter())
    return session
