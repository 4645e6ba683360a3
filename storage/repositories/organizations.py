from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Select,
    String,
    bindparam,
    literal,
    select,
    type_coerce,
    union_all,
)

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

_om = tables.organization_members.c
_oa = tables.office_access.c
_fm = tables.office_members.c
_o = tables.organizations.c


# The statements every upload and every review action runs, built once: building one
# (operators, coercions, its cache key) cost more CPU than SQLite took to run it. The
# person and the organization are bound parameters.


@functools.cache
def _standing_query() -> CompoundSelect[Any]:
    organization_id: BindParameter[int] = bindparam("organization_id")
    person_id: BindParameter[int] = bindparam("person_id")
    as_client = select(
        literal("client").label("kind"), type_coerce(_om.access, String).label("value")
    ).where(
        _om.organization_id == organization_id,
        _om.person_id == person_id,
        _om.removed_at.is_(None),
    )
    through_office = (
        select(literal("office").label("kind"), type_coerce(_fm.role, String).label("value"))
        .select_from(tables.office_access)
        .join(tables.office_members, _fm.office_id == _oa.office_id)
        .where(
            _oa.organization_id == organization_id,
            _oa.revoked_at.is_(None),
            _fm.person_id == person_id,
            _fm.removed_at.is_(None),
        )
    )
    return union_all(as_client, through_office)


@functools.cache
def _for_person_query(minimum: AccessLevel) -> Select[Any]:
    levels = [level.value for level in AccessLevel if level.at_least(minimum)]
    return (
        select(Organization)
        .join(OrganizationMember, _om.organization_id == _o.id)
        .where(
            _om.person_id == bindparam("person_id"),
            _om.removed_at.is_(None),
            _om.access.in_(levels),
        )
        .order_by(_o.name, _o.id)
    )


@functools.cache
def _through_offices_query() -> Select[Any]:
    return (
        select(Organization)
        .join(OfficeAccess, _oa.organization_id == _o.id)
        .join(OfficeMember, _fm.office_id == _oa.office_id)
        .where(
            _fm.person_id == bindparam("person_id"),
            _fm.removed_at.is_(None),
            _oa.revoked_at.is_(None),
        )
        .distinct()
        .order_by(_o.name, _o.id)
    )


@functools.cache
def _reachable_ids_query(minimum: AccessLevel) -> CompoundSelect[Any]:
    """`for_person` then `through_offices`, ids only, in one statement."""
    org_id, name = _o.id.label("org_id"), _o.name.label("org_name")
    as_client = _for_person_query(minimum).with_only_columns(
        org_id, literal(0).label("part"), name
    )
    through_office = _through_offices_query().with_only_columns(
        org_id, literal(1).label("part"), name
    )
    return union_all(as_client.order_by(None), through_office.order_by(None)).order_by(
        "part", "org_name", "org_id"
    )


@functools.cache
def _offices_with_access_query() -> Select[Any]:
    return select(OfficeAccess).where(
        _oa.organization_id == bindparam("organization_id"), _oa.revoked_at.is_(None)
    )


class OrganizationRepository(Repository):
    async def get(self, organization_id: int) -> Organization | None:
        return await self._get(Organization, organization_id)

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
        result = await self.session.scalars(_for_person_query(minimum), {"person_id": person_id})
        return list(result)

    async def through_offices(self, person_id: int) -> list[Organization]:
        """Organizations that granted access to an office the person is an active member of."""
        result = await self.session.scalars(_through_offices_query(), {"person_id": person_id})
        return list(result)

    async def reachable_ids(self, person_id: int, minimum: AccessLevel) -> list[int]:
        """The ids of `for_person`, then of `through_offices` not already given."""
        ids = await self.session.scalars(_reachable_ids_query(minimum), {"person_id": person_id})
        return list(dict.fromkeys(ids))

    async def grant_office(self, grant: OfficeAccess) -> OfficeAccess:
        self.session.add(grant)
        await self.session.flush()
        return grant

    async def standing_of(
        self, organization_id: int, person_id: int
    ) -> tuple[AccessLevel | None, list[OfficeRole]]:
        """In one query: the person's client access, and their roles in offices with access."""
        rows = await self.session.execute(
            _standing_query(), {"organization_id": organization_id, "person_id": person_id}
        )
        access: AccessLevel | None = None
        roles: list[OfficeRole] = []
        for kind, value in rows:
            if kind == "client":
                access = AccessLevel(value)
            else:
                roles.append(OfficeRole(value))
        return access, roles

    async def offices_with_access(self, organization_id: int) -> list[OfficeAccess]:
        result = await self.session.scalars(
            _offices_with_access_query(), {"organization_id": organization_id}
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
