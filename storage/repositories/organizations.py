from __future__ import annotations

from sqlalchemy import String, literal, select, type_coerce, union_all

from core.domain import (
    AccessLevel,
    OfficeAccess,
    OfficeMember,
    OfficeRole,
    Organization,
    OrganizationMember,
)
from storage import tables
from storage.repositories.base import Repository


class OrganizationRepository(Repository):
    async def get(self, organization_id: int) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def add(self, organization: Organization) -> Organization:
        self.session.add(organization)
        await self.session.flush()
        return organization

    async def add_member(self, member: OrganizationMember) -> OrganizationMember:
        self.session.add(member)
        await self.session.flush()
        return member

    async def membership(self, organization_id: int, person_id: int) -> OrganizationMember | None:
        return await self.session.scalar(
            select(OrganizationMember).where(
                tables.organization_members.c.organization_id == organization_id,
                tables.organization_members.c.person_id == person_id,
                tables.organization_members.c.removed_at.is_(None),
            )
        )

    async def client_memberships(self, person_id: int) -> list[OrganizationMember]:
        result = await self.session.scalars(
            select(OrganizationMember)
            .where(
                tables.organization_members.c.person_id == person_id,
                tables.organization_members.c.removed_at.is_(None),
            )
            .order_by(tables.organization_members.c.id)
        )
        return list(result)

    async def for_person(self, person_id: int, minimum: AccessLevel) -> list[Organization]:
        """Organizations a person reaches as a client with at least `minimum`."""
        levels = [level.value for level in AccessLevel if level.at_least(minimum)]
        result = await self.session.scalars(
            select(Organization)
            .join(
                OrganizationMember,
                tables.organization_members.c.organization_id == tables.organizations.c.id,
            )
            .where(
                tables.organization_members.c.person_id == person_id,
                tables.organization_members.c.removed_at.is_(None),
                tables.organization_members.c.access.in_(levels),
            )
            .order_by(tables.organizations.c.name, tables.organizations.c.id)
        )
        return list(result)

    async def through_offices(self, person_id: int) -> list[Organization]:
        """Organizations that granted access to an office the person is an active member of."""
        result = await self.session.scalars(
            select(Organization)
            .join(
                OfficeAccess, tables.office_access.c.organization_id == tables.organizations.c.id
            )
            .join(
                OfficeMember, tables.office_members.c.office_id == tables.office_access.c.office_id
            )
            .where(
                tables.office_members.c.person_id == person_id,
                tables.office_members.c.removed_at.is_(None),
                tables.office_access.c.revoked_at.is_(None),
            )
            .distinct()
            .order_by(tables.organizations.c.name, tables.organizations.c.id)
        )
        return list(result)

    async def grant_office(self, grant: OfficeAccess) -> OfficeAccess:
        self.session.add(grant)
        await self.session.flush()
        return grant

    async def standing_of(
        self, organization_id: int, person_id: int
    ) -> tuple[AccessLevel | None, list[OfficeRole]]:
        """In one query: the person's client access, and their roles in offices with access."""
        om = tables.organization_members.c
        oa = tables.office_access.c
        fm = tables.office_members.c
        as_client = select(
            literal("client").label("kind"), type_coerce(om.access, String).label("value")
        ).where(
            om.organization_id == organization_id,
            om.person_id == person_id,
            om.removed_at.is_(None),
        )
        through_office = (
            select(literal("office").label("kind"), type_coerce(fm.role, String).label("value"))
            .select_from(tables.office_access)
            .join(tables.office_members, fm.office_id == oa.office_id)
            .where(
                oa.organization_id == organization_id,
                oa.revoked_at.is_(None),
                fm.person_id == person_id,
                fm.removed_at.is_(None),
            )
        )
        access: AccessLevel | None = None
        roles: list[OfficeRole] = []
        for kind, value in await self.session.execute(union_all(as_client, through_office)):
            if kind == "client":
                access = AccessLevel(value)
            else:
                roles.append(OfficeRole(value))
        return access, roles

    async def offices_with_access(self, organization_id: int) -> list[OfficeAccess]:
        result = await self.session.scalars(
            select(OfficeAccess).where(
                tables.office_access.c.organization_id == organization_id,
                tables.office_access.c.revoked_at.is_(None),
            )
        )
        return list(result)

    async def for_office(self, office_id: int) -> list[Organization]:
        """Organizations whose grant to this office is in force."""
        result = await self.session.scalars(
            select(Organization)
            .join(
                OfficeAccess, tables.office_access.c.organization_id == tables.organizations.c.id
            )
            .where(
                tables.office_access.c.office_id == office_id,
                tables.office_access.c.revoked_at.is_(None),
            )
            .distinct()
            .order_by(tables.organizations.c.name, tables.organizations.c.id)
        )
        return list(result)
