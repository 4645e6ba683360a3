"""The deadline tick's `Send`: texts through the outbox (`handlers.outbox`), which owns
the rate limit and what a refusal means."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from handlers.outbox import Delivery as Delivery
from handlers.outbox import Outbox
from handlers.outbox import RateLimiter as RateLimiter


class Send(Protocol):
    """A chat, a text and its buttons (`markup=`, None for a text without one-tap answers)."""

    def __call__(
        self, chat_id: int, text: str, /, *, markup: InlineKeyboardMarkup | None = None
    ) -> Awaitable[Delivery]: ...


class TelegramSender:
    """A text to a chat; the tick marks a blocked recipient itself (its `Send` may be a
    test's recorder), so this outbox has no units of work of its own."""

    def __init__(
        self, bot: Bot, limiter: RateLimiter | None = None, *, outbox: Outbox | None = None
    ) -> None:
        self.outbox = outbox or Outbox(bot, limiter=limiter)

    async def send(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> Delivery:
        return await self.outbox.send(chat_id, text, markup=markup)
