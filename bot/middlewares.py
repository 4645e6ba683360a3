"""Per-update dependencies: one unit of work, the person behind the update, their texts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from core.people import Sender, identify
from handlers.texts import Texts
from storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory

PLATFORM = "telegram"

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
# The update's unit of work, so a Bot API call can end a read-only transaction first.
CURRENT_UOW: ContextVar[SqlUnitOfWork | None] = ContextVar("current_uow", default=None)


class UnitOfWorkMiddleware(BaseMiddleware):
    """Inner middleware: only updates a handler matched open a transaction.

    The unit of work rolls back unless the use case committed.
    """

    def __init__(self, uow_factory: SqlUnitOfWorkFactory) -> None:
        self.uow_factory = uow_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.uow_factory() as uow:
            CURRENT_UOW.set(uow)
            data["uow"] = uow
            user: User | None = data.get("event_from_user")
            chat = data.get("event_chat")
            if user is not None and not user.is_bot:
                sender = Sender(
                    platform=PLATFORM,
                    external_id=user.id,
                    chat_id=chat.id if chat is not None else user.id,
                    display_name=user.full_name,
                    username=user.username,
                    language_code=user.language_code,
                )
                person, _ = await identify(uow, sender)
                # A person who writes to us can be written to again. (Only set when it
                # changes: an untouched session commits without a flush.)
                if not person.reachable:
                    person.reachable = True
                # Ends the short first transaction, so the handler starts with no lock held.
                await uow.commit()
                data["person"] = person
                data["t"] = Texts(person.language)
            return await handler(event, data)


class ChatOrderMiddleware(BaseMiddleware):
    """Handles one chat's updates one at a time, in the order they came.

    aiogram handles updates concurrently; without this, a photo sent right after
    `/start <invite>` could be handled before the person has joined.
    """

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chat = data.get("event_chat")
        if chat is None:
            return await handler(event, data)
        key = chat.id
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                return await handler(event, data)
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]
