"""Tells a person something on the platform they use, in their language."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from handlers.texts import Texts
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


class TelegramNotifier:
    def __init__(self, bot: Bot, uow_factory: SqlUnitOfWorkFactory) -> None:
        self.bot = bot
        self.uow_factory = uow_factory

    async def notify(self, person_id: int, text_key: str, **params: Any) -> bool:
        async with self.uow_factory() as uow:
            person = await uow.people.get(person_id)
            identities = await uow.people.identities(person_id)
        chats = [i.chat_id for i in identities if i.platform == "telegram"]
        if person is None or not person.reachable or not chats:
            return False
        try:
            await self.bot.send_message(chats[0], Texts(person.language)(text_key, **params))
        except TelegramAPIError:
            log.info("could not notify person %s", person_id, exc_info=True)
            return False
        return True
