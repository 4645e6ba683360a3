"""Messages the bot starts (reminders, digests), sent within Telegram's limits.

Telegram allows a bot about 30 messages a second overall and one a second per chat; past
that it answers 429. The limiter keeps under both (25/s by default, for headroom), and the
session's `RetryAfter` middleware still waits out any 429 that comes anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

log = logging.getLogger(__name__)


class Delivery(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot (or never started it): stop writing
    REJECTED = "rejected"  # Telegram refused this message for good: do not retry it
    FAILED = "failed"  # may pass (network, server, 429 beyond our patience): retry later


Send = Callable[[int, str], Awaitable[Delivery]]


class RateLimiter:
    """Hands out send slots: `per_second` overall, one per `per_chat` seconds to a chat.

    Slots are reserved under a lock and waited for outside it, so many senders queue up
    in order without holding each other. A last gate spaces the actual releases too: when
    the event loop stalls, the senders whose slots passed meanwhile would otherwise all
    leave at once, a burst the server counts against us.
    """

    def __init__(
        self,
        per_second: float = 25.0,
        per_chat: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0 or per_chat < 0:
            raise ValueError("limits must be positive")
        self.interval = 1.0 / per_second
        self.per_chat = per_chat
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._next_slot = 0.0
        self._chat_free_at: dict[int, float] = {}
        self._gate = asyncio.Lock()
        self._last_release = float("-inf")

    async def wait(self, chat_id: int) -> None:
        async with self._lock:
            now = self._monotonic()
            at = max(now, self._next_slot, self._chat_free_at.get(chat_id, 0.0))
            self._next_slot = at + self.interval
            self._chat_free_at[chat_id] = at + self.per_chat
            if len(self._chat_free_at) > 10_000:  # forget chats whose pause is over
                self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > now}
        if at > now:
            await self._sleep(at - now)
        async with self._gate:  # held for one interval at most
            gap = self._last_release + self.interval - self._monotonic()
            if gap > 0:
                await self._sleep(gap)
            self._last_release = self._monotonic()


class TelegramSender:
    def __init__(self, bot: Bot, limiter: RateLimiter | None = None) -> None:
        self.bot = bot
        self.limiter = limiter or RateLimiter()

    async def send(self, chat_id: int, text: str) -> Delivery:
        await self.limiter.wait(chat_id)
        try:
            await self.bot.send_message(chat_id, text)
        except TelegramForbiddenError:
            return Delivery.BLOCKED
        except TelegramBadRequest as error:
            if "chat not found" in error.message.lower():
                return Delivery.BLOCKED
            log.warning("message to chat %s refused: %s", chat_id, error.message)
            return Delivery.REJECTED
        except (TelegramRetryAfter, TelegramNetworkError, TelegramServerError) as error:
            log.warning("message to chat %s failed, will retry: %s", chat_id, error)
            return Delivery.FAILED
        return Delivery.SENT
