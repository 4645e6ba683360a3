"""The one way a message the bot starts leaves it: the outbox.

Notices, reminders, a return to its client, a reading's result: whoever sends, the outbox
ends the caller's read-only transaction first (SQLite must hold no lock across a network
call), keeps under Telegram's limits (about 30 messages a second overall and one a second
per chat; past that it answers 429), and applies the one rule for a chat that refuses us:
blocked (or gone) marks the person unreachable, so nobody writes to them again until they
write to us. The session's `RetryAfter` middleware still waits out a 429 that comes anyway.

Answers to the update being handled (`message.answer`, a card) are not the outbox's: they
go back to a person who is writing to us this very moment.

Idempotency stays with the caller: the deadline tick records a notice as sent *before*
sending it (`bot.scheduler`), and gives it back when the outbox says `FAILED`.
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
from aiogram.types import InlineKeyboardMarkup, ReplyParameters

from core.people import mark_unreachable
from core.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


class Delivery(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot (or never started it): stop writing
    REJECTED = "rejected"  # Telegram refused this message for good: do not retry it
    FAILED = "failed"  # may pass (network, server, 429 beyond our patience): retry later


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


Call = Callable[[Bot], Awaitable[object]]  # one Bot API call that sends the message


class Outbox:
    """`send` for a text, `deliver` for anything else (a file with its card, say).

    `person_id` names whose chat it is: a refusal marks them unreachable. `uow`, when the
    caller is inside a unit of work, has its read-only transaction ended before the call
    (commit writes first: sending with unsaved writes is a bug, and raises).
    """

    def __init__(
        self,
        bot: Bot,
        uow_factory: UnitOfWorkFactory | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.bot = bot
        self.uow_factory = uow_factory
        self.limiter = limiter or RateLimiter()

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        person_id: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        uow: UnitOfWork | None = None,
    ) -> Delivery:
        reply = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )

        async def call(bot: Bot) -> object:
            return await bot.send_message(
                chat_id, text, reply_markup=markup, reply_parameters=reply
            )

        return await self.deliver(chat_id, call, person_id=person_id, uow=uow)

    async def deliver(
        self,
        chat_id: int,
        call: Call,
        *,
        person_id: int | None = None,
        uow: UnitOfWork | None = None,
    ) -> Delivery:
        if uow is not None:
            if uow.holds_unsaved_writes():
                raise RuntimeError("a message sent with unsaved writes: commit them first")
            await uow.release_if_clean()
        await self.limiter.wait(chat_id)
        delivery = await self._call(chat_id, call)
        if delivery is Delivery.BLOCKED and person_id is not None:
            await self._unreachable(person_id, uow)
        return delivery

    async def _call(self, chat_id: int, call: Call) -> Delivery:
        try:
            await call(self.bot)
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

    async def _unreachable(self, person_id: int, uow: UnitOfWork | None) -> None:
        if uow is not None:
            await mark_unreachable(uow, person_id)
        elif self.uow_factory is not None:
            async with self.uow_factory() as fresh:
                await mark_unreachable(fresh, person_id)
