"""An office's team: who is in it, bringing people in, taking them out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import AuditEntry, InviteKind, OfficeMember, OfficeRole, Person
from core.errors import NotAllowed, NotFound, TayukError
from core.invites import DEFAULT_TTL, IssuedInvite, issue
from core.permissions import Action, require_in_office
from core.ports import Notifier, UnitOfWork


@dataclass(frozen=True)
class TeamMember:
    member: OfficeMember
    person: Person


async def offices_of(uow: UnitOfWork, person_id: int) -> list[OfficeMember]:
    return await uow.offices.memberships(person_id)


async def team(uow: UnitOfWork, actor_id: int, office_id: int) -> list[TeamMember]:
    await require_in_office(uow, actor_id, Action.VIEW, office_id)
    found = []
    for member in await uow.offices.members(office_id):
        person = await uow.people.get(member.person_id)
        if person is not None:
            found.append(TeamMember(member, person))
    return found


async def invite_member(
    uow: UnitOfWork,
    *,
    actor_id: int,
    office_id: int,
    role: OfficeRole,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
) -> IssuedInvite:
    await require_in_office(uow, actor_id, Action.MANAGE_TEAM, office_id)
    actor = await uow.offices.membership(office_id, actor_id)
    # Only an owner makes another owner.
    if role is OfficeRole.OWNER and (actor is None or actor.role is not OfficeRole.OWNER):
        raise NotAllowed()
    issued = await issue(
        uow,
        kind=InviteKind.OFFICE_MEMBER,
        office_id=office_id,
        role=role,
        created_by=actor_id,
        now=now,
        ttl=ttl,
    )
    await uow.commit()
    return issued


async def remove_member(
    uow: UnitOfWork,
    notifier: Notifier | None = None,
    *,
    actor_id: int,
    office_id: int,
    person_id: int,
    now: datetime,
) -> Person:
    """Takes a person out of the team. Every permission check reads the membership, so the
    person loses access to every organization of the office with this commit."""
    await require_in_office(uow, actor_id, Action.MANAGE_TEAM, office_id)
    actor = await uow.offices.membership(office_id, actor_id)
    member = await uow.offices.membership(office_id, person_id)
    person = await uow.people.get(person_id)
    if member is None or actor is None or person is None:
        raise NotFound()
    if person_id == actor_id:
        raise TayukError("team.remove_self")
    if member.role is OfficeRole.OWNER:
        if actor.role is not OfficeRole.OWNER:
            raise NotAllowed()
        owners = [m for m in await uow.offices.members(office_id) if m.role is OfficeRole.OWNER]
        if len(owners) == 1:
            raise TayukError("team.last_owner")
    member.removed_at = now
    await uow.audit.add(
        AuditEntry(
            action="office.member_removed",
            actor_id=actor_id,
            office_id=office_id,
            details={"person_id": person_id, "role": member.role.value},
        )
    )
    office = await uow.offices.get(office_id)
    await uow.commit()  # before notifying: the notifier opens its own transaction
    if notifier is not None and office is not None:
        await notifier.notify(person_id, "team.removed_notice", office=office.name)
    return person
