from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from core.domain import Invite
from storage import tables
from storage.repositories.base import Repository


class InviteRepository(Repository):
    async def add(self, invite: Invite) -> Invite:
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def by_hash(self, token_hash: str) -> Invite | None:
        # Looked up by the hash of the token: timing reveals nothing about live tokens.
        return await self.session.scalar(
            select(Invite).where(tables.invites.c.token_hash == token_hash)
        )

    async def take_use(self, invite_id: int, now: datetime) -> bool:
        """Counts one use if the invite still has one left, in a single conditional UPDATE:
        of many people opening a single-use link at once, exactly one gets True. On
        PostgreSQL the losers wait for the winner's row lock and then see the new count."""
        i = tables.invites.c
        result = await self.session.execute(
            update(tables.invites)
            .where(
                i.id == invite_id,
                i.revoked_at.is_(None),
                i.expires_at > now,
                or_(i.max_uses.is_(None), i.uses < i.max_uses),
            )
            .values(uses=i.uses + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, invite_id: int) -> Invite | None:
        return await self.session.get(Invite, invite_id)

    async def active(
        self,
        now: datetime,
        *,
        office_id: int | None = None,
        organization_ids: list[int] | None = None,
    ) -> list[Invite]:
        """Unrevoked, unexpired invites of an office and/or some organizations."""
        scope: list[Any] = []
        if office_id is not None:
            scope.append(tables.invites.c.office_id == office_id)
        if organization_ids:
            scope.append(tables.invites.c.organization_id.in_(organization_ids))
        if not scope:
            return []
        result = await self.session.scalars(
            select(Invite)
            .where(
                or_(*scope),
                tables.invites.c.revoked_at.is_(None),
                tables.invites.c.expires_at > now,
            )
            .order_by(tables.invites.c.id)
        )
        return [i for i in result if i.max_uses is None or i.uses < i.max_uses]
