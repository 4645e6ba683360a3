"""Invite links: random tokens kept only as hashes, expiring, single use by default."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import (
    AccessLevel,
    AuditEntry,
    Invite,
    InviteKind,
    OfficeMember,
    OfficeRole,
    OrganizationMember,
    Person,
)
from core.errors import InviteError
from core.ports import UnitOfWork

DEFAULT_TTL = timedelta(days=14)
# Refused invite attempts (unknown, expired, used up) a person may make in a window before
# the bot stops looking tokens up for them; 192-bit tokens cannot be guessed, so this only
# keeps one person's loop from costing every lookup.
MAX_REFUSED_ATTEMPTS = 10
ATTEMPT_WINDOW = timedelta(hours=1)
SELF_JOINED = "organization.self_joined"
_TOKEN_BYTES = 24  # 192 bits; 32 URL-safe characters fit Telegram's 64-character payload


def new_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(text: str) -> bool:
    return 16 <= len(text) <= 64 and all(c.isalnum() or c in "-_" for c in text)


@dataclass(frozen=True)
class IssuedInvite:
    invite: Invite
    token: str  # shown once; never stored or logged


async def issue(
    uow: UnitOfWork,
    *,
    kind: InviteKind,
    now: datetime,
    created_by: int | None = None,
    office_id: int | None = None,
    organization_id: int | None = None,
    role: OfficeRole | None = None,
    access: AccessLevel | None = None,
    ttl: timedelta = DEFAULT_TTL,
    reusable: bool = False,
) -> IssuedInvite:
    token = new_token()
    invite = Invite(
        kind=kind,
        token_hash=hash_token(token),
        expires_at=now + ttl,
        created_by=created_by,
        office_id=office_id,
        organization_id=organization_id,
        role=role,
        access=access,
        max_uses=None if reusable else 1,
    )
    await uow.invites.add(invite)
    await uow.audit.add(
        AuditEntry(
            action="invite.issued",
            actor_id=created_by,
            office_id=office_id,
            organization_id=organization_id,
            details={"kind": kind.value},
        )
    )
    return IssuedInvite(invite=invite, token=token)


async def valid_invite(uow: UnitOfWork, token: str, now: datetime) -> Invite:
    """The live invite behind a token, or an `InviteError` saying why it is not usable."""
    return await _valid_invite(uow, token, now)


async def _valid_invite(uow: UnitOfWork, token: str, now: datetime) -> Invite:
    if not looks_like_token(token):
        raise InviteError("invite.unknown")
    wanted = hash_token(token)
    invite = await uow.invites.by_hash(wanted)
    # The lookup is by hash; the comparison is constant-time all the same.
    if invite is None or not hmac.compare_digest(invite.token_hash, wanted):
        raise InviteError("invite.unknown")
    if invite.revoked_at is not None:
        raise InviteError("invite.revoked")
    if invite.expires_at <= now:
        raise InviteError("invite.expired")
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        raise InviteError("invite.used")
    return invite


@dataclass(frozen=True)
class Joined:
    kind: InviteKind
    office_id: int | None
    organization_id: int | None
    already_member: bool = False
    # A self-join link is not used up here: the client answers some questions first.
    needs_answers: bool = False


async def attempt(uow: UnitOfWork, person_id: int, token: str, now: datetime) -> Invite:
    """`valid_invite` for a person opening a link: refusals are counted (in the audit log)
    and too many of them in a while stop further lookups for that person."""
    since = now - ATTEMPT_WINDOW
    if await uow.audit.count_by_actor(person_id, "invite.refused", since) >= MAX_REFUSED_ATTEMPTS:
        raise InviteError("invite.too_many_attempts")
    try:
        return await _valid_invite(uow, token, now)
    except InviteError as error:
        await uow.audit.add(
            AuditEntry(
                action="invite.refused", actor_id=person_id, details={"why": error.key}, at=now
            )
        )
        await uow.commit()
        raise


async def self_joined_through(uow: UnitOfWork, person_id: int, invite_id: int) -> bool:
    """Whether this person already opened an organization through this self-join link."""
    return any(
        entry.details.get("invite_id") == invite_id
        for entry in await uow.audit.by_actor(person_id, SELF_JOINED)
    )


async def redeem(uow: UnitOfWork, person: Person, token: str, now: datetime) -> Joined:
    assert person.id is not None
    invite = await attempt(uow, person.id, token, now)
    assert invite.id is not None
    already = False
    if invite.kind in (InviteKind.OFFICE_OWNER, InviteKind.OFFICE_MEMBER):
        assert invite.office_id is not None
        role = OfficeRole.OWNER if invite.kind is InviteKind.OFFICE_OWNER else invite.role
        existing = await uow.offices.membership(invite.office_id, person.id)
        if existing is None:
            await _take_use(uow, invite.id, now)
            await uow.offices.add_member(
                OfficeMember(
                    office_id=invite.office_id, person_id=person.id, role=role or OfficeRole.STAFF
                )
            )
        else:
            already = True
    elif invite.kind is InviteKind.ORG_MEMBER:
        assert invite.organization_id is not None
        existing_org = await uow.organizations.membership(invite.organization_id, person.id)
        if existing_org is None:
            await _take_use(uow, invite.id, now)
            await uow.organizations.add_member(
                OrganizationMember(
                    organization_id=invite.organization_id,
                    person_id=person.id,
                    access=invite.access or AccessLevel.UPLOADER,
                )
            )
            person.current_org_id = invite.organization_id
            person.current_org_at = now
        else:
            already = True
    else:
        # The self-join flow needs the client's answers first; it has its own use case.
        if await self_joined_through(uow, person.id, invite.id):
            raise InviteError("invite.self_join_done")
        return Joined(invite.kind, invite.office_id, None, needs_answers=True)
    await uow.audit.add(
        AuditEntry(
            action="invite.redeemed",
            actor_id=person.id,
            office_id=invite.office_id,
            organization_id=invite.organization_id,
            details={"kind": invite.kind.value, "already_member": already},
        )
    )
    await uow.commit()
    return Joined(invite.kind, invite.office_id, invite.organization_id, already)


async def _take_use(uow: UnitOfWork, invite_id: int, now: datetime) -> None:
    # Counted in the database, not on the loaded row: a read-then-write lets ten people
    # opening a single-use link at the same moment all in.
    if not await uow.invites.take_use(invite_id, now):
        raise InviteError("invite.used")


async def already_holds(uow: UnitOfWork, person: Person, token: str) -> bool:
    """Whether the person already has what the link gives, whatever state the link is in.

    Checked before "used" or "expired": a member who opens their own link again (or whose
    `/start` Telegram delivered twice) is a member, not someone with a dead link.
    """
    if person.id is None or not looks_like_token(token):
        return False
    invite = await uow.invites.by_hash(hash_token(token))
    if invite is None:
        return False
    if invite.kind in (InviteKind.OFFICE_OWNER, InviteKind.OFFICE_MEMBER):
        return (
            invite.office_id is not None
            and await uow.offices.membership(invite.office_id, person.id) is not None
        )
    if invite.kind is InviteKind.ORG_MEMBER:
        return (
            invite.organization_id is not None
            and await uow.organizations.membership(invite.organization_id, person.id) is not None
        )
    return False
