"""Who reaches an organization: office grants, client invites, the office's self-join
link, and which organization a person is working in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import (
    AccessLevel,
    AuditEntry,
    DealerType,
    Invite,
    InviteKind,
    Office,
    OfficeAccess,
    Organization,
    OrganizationMember,
    Person,
    VatFrequency,
)
from core.errors import InviteError, NotAllowed, NotFound
from core.invites import (
    DEFAULT_TTL,
    SELF_JOINED,
    IssuedInvite,
    issue,
    self_joined_through,
    valid_invite,
)
from core.organizations import add_organization
from core.permissions import Action, may, may_in_office, require, require_in_office
from core.ports import Notifier, UnitOfWork


@dataclass(frozen=True)
class Grant:
    grant: OfficeAccess
    office: Office


async def office_grants(uow: UnitOfWork, actor_id: int, organization_id: int) -> list[Grant]:
    await require(uow, actor_id, Action.REVOKE_ACCESS, organization_id)
    found = []
    for grant in await uow.organizations.offices_with_access(organization_id):
        office = await uow.offices.get(grant.office_id)
        if office is not None:
            found.append(Grant(grant, office))
    return found


async def revoke_office(
    uow: UnitOfWork, *, actor_id: int, organization_id: int, office_id: int, now: datetime
) -> Office:
    """The organization takes its access back from a whole office, from every member."""
    await require(uow, actor_id, Action.REVOKE_ACCESS, organization_id)
    grants = [
        g
        for g in await uow.organizations.offices_with_access(organization_id)
        if g.office_id == office_id
    ]
    office = await uow.offices.get(office_id)
    if not grants or office is None:
        raise NotFound()
    for grant in grants:
        grant.revoked_at = now
    await uow.audit.add(
        AuditEntry(
            action="access.revoked",
            actor_id=actor_id,
            office_id=office_id,
            organization_id=organization_id,
        )
    )
    await uow.commit()
    return office


async def client_invite(
    uow: UnitOfWork,
    *,
    actor_id: int,
    organization_id: int,
    access: AccessLevel,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
    reusable: bool = False,
) -> IssuedInvite:
    """A link that makes whoever opens it a client of the organization at `access`."""
    await require(uow, actor_id, Action.INVITE, organization_id)
    issued = await issue(
        uow,
        kind=InviteKind.ORG_MEMBER,
        organization_id=organization_id,
        access=access,
        created_by=actor_id,
        now=now,
        ttl=ttl,
        reusable=reusable,
    )
    await uow.commit()
    return issued


async def invitable_organizations(uow: UnitOfWork, actor_id: int) -> list[Organization]:
    """Organizations this person may invite clients to, as office member or full client."""
    found = await uow.organizations.through_offices(actor_id)
    found += await uow.organizations.for_person(actor_id, AccessLevel.FULL)
    unique = {org.id: org for org in found if org.id is not None}
    return [org for org in unique.values() if await may(uow, actor_id, Action.INVITE, org.id or 0)]


async def _may_manage(uow: UnitOfWork, actor_id: int, invite: Invite) -> bool:
    if invite.kind is InviteKind.ORG_MEMBER and invite.organization_id is not None:
        return await may(uow, actor_id, Action.INVITE, invite.organization_id)
    if invite.office_id is None:
        return False
    needed = Action.INVITE if invite.kind is InviteKind.OFFICE_SELF_JOIN else Action.MANAGE_TEAM
    return await may_in_office(uow, actor_id, needed, invite.office_id)


async def open_invites(uow: UnitOfWork, actor_id: int, now: datetime) -> list[Invite]:
    """Live invites this person may see and revoke."""
    found: dict[int, Invite] = {}
    for member in await uow.offices.memberships(actor_id):
        for invite in await uow.invites.active(now, office_id=member.office_id):
            found[invite.id or 0] = invite
    org_ids = [org.id for org in await invitable_organizations(uow, actor_id) if org.id]
    for invite in await uow.invites.active(now, organization_ids=org_ids):
        found[invite.id or 0] = invite
    return [i for _, i in sorted(found.items()) if await _may_manage(uow, actor_id, i)]


async def revoke_invite(
    uow: UnitOfWork, *, actor_id: int, invite_id: int, now: datetime
) -> Invite:
    invite = await uow.invites.get(invite_id)
    if invite is None:
        raise NotFound()
    if not await _may_manage(uow, actor_id, invite):
        raise NotAllowed()
    if invite.revoked_at is None:
        invite.revoked_at = now
        await uow.audit.add(
            AuditEntry(
                action="invite.revoked",
                actor_id=actor_id,
                office_id=invite.office_id,
                organization_id=invite.organization_id,
                details={"invite_id": invite_id, "kind": invite.kind.value},
            )
        )
        await uow.commit()
    return invite


async def self_join_link(
    uow: UnitOfWork, *, actor_id: int, office_id: int, now: datetime, ttl: timedelta
) -> IssuedInvite:
    """The office's reusable link for clients who sign themselves up. Only the newest works:
    making a new one is how an office stops a link that went too far."""
    await require_in_office(uow, actor_id, Action.INVITE, office_id)
    for old in await uow.invites.active(now, office_id=office_id):
        if old.kind is InviteKind.OFFICE_SELF_JOIN:
            old.revoked_at = now
    issued = await issue(
        uow,
        kind=InviteKind.OFFICE_SELF_JOIN,
        office_id=office_id,
        created_by=actor_id,
        now=now,
        ttl=ttl,
        reusable=True,
    )
    await uow.commit()
    return issued


async def self_join_office(uow: UnitOfWork, token: str, now: datetime) -> Office:
    """The office behind a self-join link, checked before the client is asked anything."""
    invite = await valid_invite(uow, token, now)
    if invite.kind is not InviteKind.OFFICE_SELF_JOIN or invite.office_id is None:
        raise InviteError("invite.unknown")
    office = await uow.offices.get(invite.office_id)
    if office is None:
        raise InviteError("invite.unknown")
    return office


@dataclass(frozen=True)
class SelfJoined:
    organization: Organization
    office: Office


async def self_join(
    uow: UnitOfWork,
    notifier: Notifier | None,
    *,
    person: Person,
    token: str,
    name: str,
    business_number: str,
    dealer_type: DealerType | None,
    now: datetime,
) -> SelfJoined:
    """A client creates their own organization, already connected to the link's office; the
    office's team hears of it."""
    office = await self_join_office(uow, token, now)
    invite = await valid_invite(uow, token, now)
    assert person.id is not None and office.id is not None and invite.id is not None
    # One organization per person per link: opening it again does not make another one,
    # nor tell the whole team again.
    if await self_joined_through(uow, person.id, invite.id):
        raise InviteError("invite.self_join_done")
    if not await uow.invites.take_use(invite.id, now):
        raise InviteError("invite.used")
    organization = await add_organization(
        uow,
        office_id=office.id,
        name=name,
        business_number=business_number,
        vat_frequency=VatFrequency.MONTHLY,
        created_by=person.id,
        dealer_type=dealer_type,
    )
    assert organization.id is not None
    await uow.organizations.add_member(
        OrganizationMember(
            organization_id=organization.id, person_id=person.id, access=AccessLevel.FULL
        )
    )
    person.current_org_id = organization.id
    person.current_org_at = now
    await uow.audit.add(
        AuditEntry(
            action=SELF_JOINED,
            actor_id=person.id,
            office_id=office.id,
            organization_id=organization.id,
            details={"invite_id": invite.id},
        )
    )
    # Read before the commit: a notifier opens its own transaction, and this one must be over.
    team = [member.person_id for member in await uow.offices.members(office.id)]
    await uow.commit()
    if notifier is not None:
        for member_id in team:
            await notifier.notify(
                member_id,
                "selfjoin.office_notice",
                org=organization.name,
                number=organization.business_number or "",
                person=person.display_name,
            )
    return SelfJoined(organization, office)


async def switchable_organizations(uow: UnitOfWork, person_id: int) -> list[Organization]:
    """Every organization the person reaches, as a client at any level or through an office."""
    found = await uow.organizations.for_person(person_id, AccessLevel.VIEWER)
    found += await uow.organizations.through_offices(person_id)
    unique = {org.id: org for org in found if org.id is not None}
    return sorted(unique.values(), key=lambda org: (org.name, org.id or 0))


async def switch_organization(
    uow: UnitOfWork, person: Person, organization_id: int, now: datetime
) -> Organization:
    assert person.id is not None
    await require(uow, person.id, Action.VIEW, organization_id)
    organization = await uow.organizations.get(organization_id)
    if organization is None:
        raise NotFound()
    person.current_org_id = organization_id
    person.current_org_at = now
    await uow.commit()
    return organization
