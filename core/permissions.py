"""The one place that answers "may this person do this to this organization?".

Every handler, job and page asks here; none decides access on its own. Every answer is
read from the database at the moment of asking, so a removal or a revoked grant takes
effect at once, even in the middle of a conversation.
"""

from __future__ import annotations

from enum import StrEnum

from core.domain import AccessLevel, OfficeRole
from core.errors import NotAllowed
from core.ports import UnitOfWork


class Action(StrEnum):
    VIEW = "view"
    UPLOAD = "upload"
    UPLOAD_INCOME = "upload_income"
    REVIEW = "review"
    APPROVE = "approve"
    RETURN = "return"
    INVITE = "invite"
    MANAGE_TEAM = "manage_team"
    REVOKE_ACCESS = "revoke_access"
    EXPORT = "export"  # the VAT picture and the ledger exports of a period
    CLOSE_PERIOD = "close_period"
    REOPEN_PERIOD = "reopen_period"  # undoes a close: the office's owner and admins


_CLIENT: dict[AccessLevel, frozenset[Action]] = {
    AccessLevel.VIEWER: frozenset({Action.VIEW}),
    AccessLevel.UPLOADER: frozenset({Action.VIEW, Action.UPLOAD}),
    AccessLevel.INCOME: frozenset({Action.VIEW, Action.UPLOAD, Action.UPLOAD_INCOME}),
    AccessLevel.FULL: frozenset(
        {Action.VIEW, Action.UPLOAD, Action.UPLOAD_INCOME, Action.INVITE, Action.REVOKE_ACCESS}
    ),
}
_OFFICE_WORK = frozenset(
    {
        Action.VIEW,
        Action.UPLOAD,
        Action.UPLOAD_INCOME,
        Action.REVIEW,
        Action.APPROVE,
        Action.RETURN,
        Action.INVITE,
        Action.EXPORT,
        Action.CLOSE_PERIOD,
    }
)
# Access granted to an office reaches every active member, whatever their role; reopening a
# closed period is for those who run the office.
_OFFICE: dict[OfficeRole, frozenset[Action]] = {
    role: _OFFICE_WORK | ({Action.REOPEN_PERIOD} if role is not OfficeRole.STAFF else set())
    for role in OfficeRole
}
# What a member may do to the office itself: bring in clients (INVITE) and, for the owner
# and admins, run the team.
_IN_OFFICE: dict[OfficeRole, frozenset[Action]] = {
    OfficeRole.OWNER: frozenset({Action.VIEW, Action.INVITE, Action.MANAGE_TEAM}),
    OfficeRole.ADMIN: frozenset({Action.VIEW, Action.INVITE, Action.MANAGE_TEAM}),
    OfficeRole.STAFF: frozenset({Action.VIEW, Action.INVITE}),
}


async def abilities(uow: UnitOfWork, person_id: int, organization_id: int) -> frozenset[Action]:
    allowed: set[Action] = set()
    access, office_roles = await uow.organizations.standing_of(organization_id, person_id)
    if access is not None:
        allowed |= _CLIENT[access]
    for role in office_roles:
        allowed |= _OFFICE[role]
    return frozenset(allowed)


async def may(uow: UnitOfWork, person_id: int, action: Action, organization_id: int) -> bool:
    return action in await abilities(uow, person_id, organization_id)


async def require(uow: UnitOfWork, person_id: int, action: Action, organization_id: int) -> None:
    if not await may(uow, person_id, action, organization_id):
        raise NotAllowed()


async def office_abilities(uow: UnitOfWork, person_id: int, office_id: int) -> frozenset[Action]:
    member = await uow.offices.membership(office_id, person_id)
    return _IN_OFFICE[member.role] if member is not None else frozenset()


async def may_in_office(uow: UnitOfWork, person_id: int, action: Action, office_id: int) -> bool:
    return action in await office_abilities(uow, person_id, office_id)


async def require_in_office(
    uow: UnitOfWork, person_id: int, action: Action, office_id: int
) -> None:
    if not await may_in_office(uow, person_id, action, office_id):
        raise NotAllowed()


async def may_on_document(
    uow: UnitOfWork, person_id: int, action: Action, document_id: int
) -> bool:
    """A document is reached through its organization; one still unassigned, by its sender."""
    document = await uow.documents.get(document_id)
    if document is None:
        return False
    if document.organization_id is None:
        return document.uploaded_by == person_id and action in (Action.VIEW, Action.UPLOAD)
    return await may(uow, person_id, action, document.organization_id)


async def upload_destinations(uow: UnitOfWork, person_id: int) -> list[int]:
    """Organizations this person may send documents to, as a client or through an office."""
    # As a client first, then through offices; each by name.
    return await uow.organizations.reachable_ids(person_id, AccessLevel.UPLOADER)
