"""The one place that answers "may this person do this to this organization?".

Every handler, job and page asks here; none decides access on its own.
"""

from __future__ import annotations

from enum import StrEnum

from core.domain import AccessLevel, OfficeRole
from core.ports import UnitOfWork


class Action(StrEnum):
    VIEW = "view"
    UPLOAD = "upload"
    UPLOAD_INCOME = "upload_income"
    REVIEW = "review"
    APPROVE = "approve"
    RETURN = "return"
    INVITE = "invite"
    REVOKE_ACCESS = "revoke_access"


_CLIENT: dict[AccessLevel, frozenset[Action]] = {
    AccessLevel.VIEWER: frozenset({Action.VIEW}),
    AccessLevel.UPLOADER: frozenset({Action.VIEW, Action.UPLOAD}),
    AccessLevel.INCOME: frozenset({Action.VIEW, Action.UPLOAD, Action.UPLOAD_INCOME}),
    AccessLevel.FULL: frozenset(
        {Action.VIEW, Action.UPLOAD, Action.UPLOAD_INCOME, Action.INVITE, Action.REVOKE_ACCESS}
    ),
}
# Access granted to an office reaches every active member, whatever their role.
_OFFICE: dict[OfficeRole, frozenset[Action]] = {
    role: frozenset(
        {
            Action.VIEW,
            Action.UPLOAD,
            Action.UPLOAD_INCOME,
            Action.REVIEW,
            Action.APPROVE,
            Action.RETURN,
            Action.INVITE,
        }
    )
    for role in OfficeRole
}


async def abilities(uow: UnitOfWork, person_id: int, organization_id: int) -> frozenset[Action]:
    allowed: set[Action] = set()
    membership = await uow.organizations.membership(organization_id, person_id)
    if membership is not None:
        allowed |= _CLIENT[membership.access]
    for grant in await uow.organizations.offices_with_access(organization_id):
        office_member = await uow.offices.membership(grant.office_id, person_id)
        if office_member is not None:
            allowed |= _OFFICE[office_member.role]
    return frozenset(allowed)


async def may(uow: UnitOfWork, person_id: int, action: Action, organization_id: int) -> bool:
    return action in await abilities(uow, person_id, organization_id)


async def upload_destinations(uow: UnitOfWork, person_id: int) -> list[int]:
    """Organizations this person may send documents to, as a client or through an office."""
    ids = [org.id for org in await uow.organizations.for_person(person_id, AccessLevel.UPLOADER)]
    ids += [org.id for org in await uow.organizations.through_offices(person_id)]
    return list(dict.fromkeys(i for i in ids if i is not None))
