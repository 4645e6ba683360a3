from __future__ import annotations

from sqlalchemy import select

from core.domain import Office, OfficeMember
from storage import tables
from storage.repositories.base import Repository


class OfficeRepository(Repository):
    async def get(self, office_id: int) -> Office | None:
        return await self.session.get(Office, office_id)

    async def by_name(self, name: str) -> Office | None:
        return await self.session.scalar(select(Office).where(tables.offices.c.name == name))

    async def add(self, office: Office) -> Office:
        self.session.add(office)
        await self.session.flush()
        return office

    async def add_member(self, member: OfficeMember) -> OfficeMember:
        self.session.add(member)
        await self.session.flush()
        return member

    async def membership(self, office_id: int, person_id: int) -> OfficeMember | None:
        return await self.session.scalar(
            select(OfficeMember).where(
                tables.office_members.c.office_id == office_id,
                tables.office_members.c.person_id == person_id,
                tables.office_members.c.removed_at.is_(None),
            )
        )

    async def memberships(self, person_id: int) -> list[OfficeMember]:
        result = await self.session.scalars(
            select(OfficeMember).where(
                tables.office_members.c.person_id == person_id,
                tables.office_members.c.removed_at.is_(None),
            )
        )
        return list(result)

    async def members(self, office_id: int) -> list[OfficeMember]:
        result = await self.session.scalars(
            select(OfficeMember)
            .where(
                tables.office_members.c.office_id == office_id,
                tables.office_members.c.removed_at.is_(None),
            )
            .order_by(tables.office_members.c.id)
        )
        return list(result)
