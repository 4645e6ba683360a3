from __future__ import annotations

from sqlalchemy import select

from core.domain import Invite
from storage.repositories.base import Repository


class InviteRepository(Repository):
    async def add(self, invite: Invite) -> Invite:
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def by_hash(self, token_hash: str) -> Invite | None:
        # Looked up by the hash of the token: timing reveals nothing about live tokens.
        return await self.session.scalar(select(Invite).where(Invite.token_hash == token_hash))
