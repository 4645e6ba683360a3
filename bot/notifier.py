"""Tells a person something on the platform they use, in their language."""

from __future__ import annotations

from typing import Any

from core.people import telegram_chats
from handlers.outbox import Delivery, Outbox
from handlers.texts import Texts
from storage.uow import SqlUnitOfWorkFactory


class TelegramNotifier:
    def __init__(self, outbox: Outbox, uow_factory: SqlUnitOfWorkFactory) -> None:
        self.outbox = outbox
        self.uow_factory = uow_factory

    async def notify(self, person_id: int, text_key: str, **params: Any) -> bool:
        async with self.uow_factory() as uow:
            person = await uow.people.get(person_id)
            chats = await telegram_chats(uow, person_id)
        if person is None or not person.reachable or not chats:
            return False
        text = Texts(person.language)(text_key, **params)
        return await self.outbox.send(chats[0], text, person_id=person_id) is Delivery.SENT
