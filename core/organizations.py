"""Offices and client organizations: creating them and connecting them."""

from __future__ import annotations

from datetime import datetime, timedelta

from stdnum.il import hp, idnr

from core.domain import (
    AccessLevel,
    AuditEntry,
    DealerType,
    InviteKind,
    Office,
    OfficeAccess,
    Organization,
    VatFrequency,
)
from core.errors import NotFound, TayukError
from core.invites import DEFAULT_TTL, IssuedInvite, issue
from core.permissions import Action, require_in_office
from core.ports import Mailer, UnitOfWork


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
    dealer_type: DealerType | None = None,
    email: str | None = None,
) -> Organization:
    organization = await add_organization(
        uow,
        office_id=office_id,
        name=name,
        business_number=business_number,
        vat_frequency=vat_frequency,
        created_by=created_by,
        dealer_type=dealer_type,
        email=email,
    )
    await uow.commit()
    return organization


async def add_organization(
    uow: UnitOfWork,
    *,
    office_id: int,
    name: str,
    business_number: str | None = None,
    vat_frequency: VatFrequency = VatFrequency.MONTHLY,
    created_by: int | None = None,
    dealer_type: DealerType | None = None,
    email: str | None = None,
) -> Organization:
    """A new organization with its grant to the office, not yet committed."""
    if await uow.offices.get(office_id) is None:
        raise NotFound("office.not_found")
    number = normalise_business_number(business_number) if business_number else None
    organization = await uow.organizations.add(
        Organization(
            name=name.strip(),
            business_number=number,
            # What the number tells wins over what was said.
            dealer_type=(dealer_type_of(number) if number else None) or dealer_type,
            vat_frequency=vat_frequency,
            email=email,
        )
    )
    assert organization.id is not None
    await uow.organizations.grant_office(
        OfficeAccess(office_id=office_id, organization_id=organization.id, granted_by=created_by)
    )
    for action in ("organization.created", "access.granted"):
        await uow.audit.add(
            AuditEntry(
                action=action,
                actor_id=created_by,
                office_id=office_id,
                organization_id=organization.id,
                details={"name": organization.name},
            )
        )
    return organization


def normalise_email(raw: str) -> str:
    text = raw.strip()
    local, _, domain = text.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in text) or len(text) > 320:
        raise TayukError("org.email_invalid")
    return text


async def new_client_organization(
    uow: UnitOfWork,
    *,
    actor_id: int,
    office_id: int,
    name: str,
    now: datetime,
    business_number: str | None,
    dealer_type: DealerType | None,
    vat_frequency: VatFrequency,
    email: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> tuple[Organization, IssuedInvite]:
    """An accountant opens a client: the organization, the office's grant, and a FULL
    single-use invite for the client's first person."""
    await require_in_office(uow, actor_id, Action.INVITE, office_id)
    organization = await add_organization(
        uow,
        office_id=office_id,
        name=name,
        business_number=business_number,
        vat_frequency=vat_frequency,
        created_by=actor_id,
        dealer_type=dealer_type,
        email=normalise_email(email) if email else None,
    )
    issued = await issue(
        uow,
        kind=InviteKind.ORG_MEMBER,
        organization_id=organization.id,
        office_id=office_id,
        access=AccessLevel.FULL,
        created_by=actor_id,
        now=now,
        ttl=ttl,
    )
    await uow.commit()
    return organization, issued


async def email_invitation(
    uow: UnitOfWork,
    mailer: Mailer,
    *,
    actor_id: int,
    organization: Organization,
    subject: str,
    body: str,
) -> None:
    """Mails the invitation to the organization's address; the mail's body holds the link."""
    if not organization.email:
        raise TayukError("org.email_invalid")
    await mailer.send(organization.email, subject, body)
    await uow.audit.add(
        AuditEntry(
            action="invite.emailed",
            actor_id=actor_id,
            organization_id=organization.id,
            details={"to": organization.email},
        )
    )
    await uow.commit()
