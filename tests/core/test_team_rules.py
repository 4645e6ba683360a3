"""Team rules and the audit trail, on the real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.domain import OfficeMember, OfficeRole
from core.errors import NotAllowed, TayukError
from core.team import invite_member, remove_member
from storage import tables
from storage.uow import SqlUnitOfWorkFactory
from tests import scenario


async def office_with(uow_factory: SqlUnitOfWorkFactory) -> tuple[int, int, int]:
    office = await scenario.office(uow_factory)
    owner = await scenario.person(uow_factory, 1, "Owner")
    admin = await scenario.person(uow_factory, 2, "Admin")
    async with uow_factory() as uow:
        for who, role in ((owner, OfficeRole.OWNER), (admin, OfficeRole.ADMIN)):
            await uow.offices.add_member(
                OfficeMember(office_id=office.id or 0, person_id=who.id or 0, role=role)
            )
        await uow.commit()
    return office.id or 0, owner.id or 0, admin.id or 0


async def test_an_admin_cannot_make_or_remove_an_owner_and_the_last_owner_stays(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    office, owner, admin = await office_with(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed):
            await invite_member(
                uow, actor_id=admin, office_id=office, role=OfficeRole.OWNER, now=scenario.NOW
            )
        with pytest.raises(NotAllowed):
            await remove_member(
                uow, actor_id=admin, office_id=office, person_id=owner, now=scenario.NOW
            )
        with pytest.raises(TayukError, match=r"team\.remove_self"):
            await remove_member(
                uow, actor_id=owner, office_id=office, person_id=owner, now=scenario.NOW
            )


async def test_removal_is_audited_with_who_and_whom(uow_factory: SqlUnitOfWorkFactory) -> None:
    office, owner, admin = await office_with(uow_factory)
    async with uow_factory() as uow:
        await remove_member(
            uow, actor_id=owner, office_id=office, person_id=admin, now=scenario.NOW
        )
    async with uow_factory() as uow:
        assert uow.session is not None
        rows = (
            await uow.session.execute(
                select(tables.audit_log).where(
                    tables.audit_log.c.action == "office.member_removed"
                )
            )
        ).all()
        assert [(r.actor_id, r.office_id, r.details["person_id"]) for r in rows] == [
            (owner, office, admin)
        ]
        assert await uow.offices.membership(office, admin) is None
