"""Tells a person something on the platform they use, in their language."""

from __future__ import annotations

from typing import Any

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
            identities = await uow.people.identities(person_id)
        chats = [i.chat_id for i in identities if i.platform == "telegram"]
        if person is None or not person.reachable or not chats:
            return False
        text = Texts(person.language)(text_key, **params)
        return await self.outbox.send(chats[0], text, person_id=person_id) is Delivery.SENT
