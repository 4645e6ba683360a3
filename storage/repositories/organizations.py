from __future__ import annotations

from sqlalchemy import select

from core.domain import (
    AccessLevel,
    OfficeAccess,
    OfficeMember,
    Organization,
    OrganizationMember,
)
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
                OrganizationMember.organization_id == organization_id,
                OrganizationMember.person_id == person_id,
                OrganizationMember.removed_at.is_(None),  # type: ignore[union-attr]
            )
        )

    async def client_memberships(self, person_id: int) -> list[OrganizationMember]:
        result = await self.session.scalars(
            select(OrganizationMember)
            .where(
                OrganizationMember.person_id == person_id,
                OrganizationMember.removed_at.is_(None),  # type: ignore[union-attr]
            )
            .order_by(OrganizationMember.id)
        )
        return list(result)

    async def for_person(self, person_id: int, minimum: AccessLevel) -> list[Organization]:
        """Organizations a person reaches as a client with at least `minimum`."""
        levels = [level.value for level in AccessLevel if level.at_least(minimum)]
        result = await self.session.scalars(
            select(Organization)
            .join(OrganizationMember, OrganizationMember.organization_id == Organization.id)  # type: ignore[arg-type]
            .where(
                OrganizationMember.person_id == person_id,
                OrganizationMember.removed_at.is_(None),  # type: ignore[union-attr]
                OrganizationMember.access.in_(levels),  # type: ignore[attr-defined]
            )
            .order_by(Organization.name, Organization.id)
        )
        return list(result)

    async def through_offices(self, person_id: int) -> list[Organization]:
        """Organizations that granted access to an office the person is an active member of."""
        result = await self.session.scalars(
            select(Organization)
            .join(OfficeAccess, OfficeAccess.organization_id == Organization.id)  # type: ignore[arg-type]
            .join(OfficeMember, OfficeMember.office_id == OfficeAccess.office_id)  # type: ignore[arg-type]
            .where(
                OfficeMember.person_id == person_id,
                OfficeMember.removed_at.is_(None),  # type: ignore[union-attr]
                OfficeAccess.revoked_at.is_(None),  # type: ignore[union-attr]
            )
            .distinct()
            .order_by(Organization.name, Organization.id)
        )
        return list(result)

    async def grant_office(self, grant: OfficeAccess) -> OfficeAccess:
        self.session.add(grant)
        await self.session.flush()
        return grant

    async def offices_with_access(self, organization_id: int) -> list[OfficeAccess]:
        result = await self.session.scalars(
            select(OfficeAccess).where(
                OfficeAccess.organization_id == organization_id,
                OfficeAccess.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        )
        return list(result)

    async def for_office(self, office_id: int) -> list[Organization]:
        """Organizations whose grant to this office is in force."""
        result = await self.session.scalars(
            select(Organization)
            .join(OfficeAccess, OfficeAccess.organization_id == Organization.id)  # type: ignore[arg-type]
            .where(
                OfficeAccess.office_id == office_id,
                OfficeAccess.revoked_at.is_(None),  # type: ignore[union-attr]
            )
            .distinct()
            .order_by(Organization.name, Organization.id)
        )
        return list(result)
