"""The demo's office, its two client organizations and its two people, made through the
real use cases and the real bot: both people join by their links over the Bot API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core import invites
from core.clock import Clock
from core.domain import AccessLevel, InviteKind, VatFrequency
from core.organizations import create_office, create_organization
from storage.uow import SqlUnitOfWorkFactory

CLIENT_ID = 7_000_000_001
ACCOUNTANT_ID = 7_000_000_002


@dataclass(frozen=True)
class Cast:
    office: str
    organizations: tuple[tuple[str, str], tuple[str, str]]  # (name, business number)
    client: str
    accountant: str


CASTS = {
    "he": Cast(
        office="כהן ושות' רואי חשבון",
        organizations=(('פלאפל הכרמל בע"מ', "515303055"), ('סטודיו אור בע"מ', "514482017")),
        client="דנה",
        accountant="נועה",
    ),
    "en": Cast(
        office="Cohen & Co. CPA",
        organizations=(("Carmel Falafel Ltd", "515303055"), ("Or Studio Ltd", "514482017")),
        client="Dana",
        accountant="Noa",
    ),
}


@dataclass
class Seeded:
    language: str
    cast: Cast
    owner_token: str
    client_token: str
    second_org_token: str  # the tour's optional step: the client joins a second organization

    def people(self) -> dict[str, dict[str, Any]]:
        return {
            "client": {"id": CLIENT_ID, "first_name": self.cast.client},
            "accountant": {"id": ACCOUNTANT_ID, "first_name": self.cast.accountant},
        }


async def seed(uow_factory: SqlUnitOfWorkFactory, clock: Clock, language: str) -> Seeded:
    cast = CASTS[language]
    now = clock.now()
    async with uow_factory() as uow:
        office, owner = await create_office(uow, cast.office, now)
    org_ids = []
    for name, number in cast.organizations:
        async with uow_factory() as uow:
            org = await create_organization(
                uow,
                office_id=office.id or 0,
                name=name,
                now=now,
                business_number=number,
                vat_frequency=VatFrequency.BIMONTHLY,
            )
            org_ids.append(org.id or 0)
    tokens = []
    for org_id in org_ids:
        async with uow_factory() as uow:
            issued = await invites.issue(
                uow,
                kind=InviteKind.ORG_MEMBER,
                organization_id=org_id,
                access=AccessLevel.FULL,
                now=now,
                ttl=timedelta(days=30),
            )
            await uow.commit()
            tokens.append(issued.token)
    return Seeded(language, cast, owner.token, tokens[0], tokens[1])
