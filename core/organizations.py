"""Offices and client organizations: creating them and connecting them."""

from __future__ import annotations

from datetime import datetime

from stdnum.il import hp, idnr

from core.domain import (
    AuditEntry,
    DealerType,
    InviteKind,
    Office,
    OfficeAccess,
    Organization,
    VatFrequency,
)
from core.errors import NotFound, TayukError
from core.invites import IssuedInvite, issue
from core.ports import UnitOfWork


def normalise_business_number(raw: str) -> str:
    """Nine digits with a valid check digit, or a `TayukError` that says what is wrong."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not digits or len(digits) > 9 or len(digits) != len(raw.strip().replace("-", "")):
        raise TayukError("org.business_number_invalid")
    digits = digits.zfill(9)
    if not (hp.is_valid(digits) or idnr.is_valid(digits)):
        raise TayukError("org.business_number_check_digit")
    return digits


def dealer_type_of(business_number: str) -> DealerType | None:
    """What the number itself tells: 58 is a non-profit, 5x a company; a person's id, unknown."""
    if business_number.startswith("58"):
        return DealerType.NONPROFIT
    if business_number.startswith("5"):
        return DealerType.COMPANY
    return None


async def create_office(uow: UnitOfWork, name: str, now: datetime) -> tuple[Office, IssuedInvite]:
    office = await uow.offices.add(Office(name=name.strip()))
    invite = await issue(uow, kind=InviteKind.OFFICE_OWNER, office_id=office.id, now=now)
    await uow.audit.add(
        AuditEntry(action="office.created", office_id=office.id, details={"name": office.name})
    )
    await uow.commit()
    return office, invite


async def create_organization(
    uow: UnitOfWork,
    *,
    office_id: int,
    name: str,
    now: datetime,
    business_number: str | None = None,
    vat_frequency: VatFrequency = VatFrequency.MONTHLY,
    created_by: int | None = None,
) -> Organization:
    if await uow.offices.get(office_id) is None:
        raise NotFound("office.not_found")
    number = normalise_business_number(business_number) if business_number else None
    organization = await uow.organizations.add(
        Organization(
            name=name.strip(),
            business_number=number,
            dealer_type=dealer_type_of(number) if number else None,
            vat_frequency=vat_frequency,
        )
    )
    assert organization.id is not None
    await uow.organizations.grant_office(
        OfficeAccess(office_id=office_id, organization_id=organization.id, granted_by=created_by)
    )
    await uow.audit.add(
        AuditEntry(
            action="organization.created",
            actor_id=created_by,
            office_id=office_id,
            organization_id=organization.id,
            details={"name": organization.name},
        )
    )
    await uow.commit()
    return organization
