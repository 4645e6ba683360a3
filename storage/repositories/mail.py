from __future__ import annotations

from sqlalchemy import select

from core.mail import InboundMail, MailAddress, MailSender, MailState
from storage import tables
from storage.repositories.base import Repository

_a = tables.mail_addresses.c
_s = tables.mail_senders.c
_m = tables.inbound_mails.c


class MailRepository(Repository):
    """Forwarding addresses, allowed senders and the kept inbound mails."""

    async def address_by_local_part(self, local_part: str) -> MailAddress | None:
        return await self.session.scalar(
            select(MailAddress).where(_a.local_part == local_part.lower())
        )

    async def current_address(self, organization_id: int) -> MailAddress | None:
        return await self.session.scalar(
            select(MailAddress)
            .where(_a.organization_id == organization_id, _a.retired_at.is_(None))
            .order_by(_a.id.desc())
            .limit(1)
        )

    async def add_address(self, address: MailAddress) -> MailAddress:
        self.session.add(address)
        await self.session.flush()
        return address

    async def senders(self, organization_id: int) -> list[MailSender]:
        result = await self.session.scalars(
            select(MailSender).where(_s.organization_id == organization_id).order_by(_s.id)
        )
        return list(result)

    async def sender(self, organization_id: int, address: str) -> MailSender | None:
        return await self.session.scalar(
            select(MailSender).where(
                _s.organization_id == organization_id, _s.address == address.lower()
            )
        )

    async def add_sender(self, sender: MailSender) -> MailSender:
        self.session.add(sender)
        await self.session.flush()
        return sender

    async def add_inbound(self, mail: InboundMail) -> InboundMail:
        self.session.add(mail)
        await self.session.flush()
        return mail

    async def inbound(self, mail_id: int) -> InboundMail | None:
        return await self.session.get(InboundMail, mail_id)

    async def inbound_by_key(self, external_key: str) -> InboundMail | None:
        return await self.session.scalar(
            select(InboundMail).where(_m.external_key == external_key)
        )

    async def held(self, organization_ids: list[int]) -> list[InboundMail]:
        if not organization_ids:
            return []
        result = await self.session.scalars(
            select(InboundMail)
            .where(
                _m.organization_id.in_(organization_ids),
                _m.state.in_([MailState.HELD.value, MailState.FAILED.value]),
            )
            .order_by(_m.id)
            .limit(50)
        )
        return list(result)
