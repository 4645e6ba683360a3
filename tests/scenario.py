"""Builds offices, organizations and people through the real use cases."""

from __future__ import annotations

from datetime import UTC, datetime

from core.domain import AccessLevel, Identity, Office, Organization, OrganizationMember, Person
from core.organizations import create_office, create_organization
from storage.uow import SqlUnitOfWorkFactory

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def office(uow_factory: SqlUnitOfWorkFactory, name: str = "Cohen CPA") -> Office:
    async with uow_factory() as uow:
        created, _ = await create_office(uow, name, NOW)
        return created


async def organization(
    uow_factory: SqlUnitOfWorkFactory,
    office_id: int,
    name: str = "Falafel Ltd",
    business_number: str | None = "515303055",
) -> Organization:
    async with uow_factory() as uow:
        return await create_organization(
            uow, office_id=office_id, name=name, now=NOW, business_number=business_number
        )


async def person(
    uow_factory: SqlUnitOfWorkFactory,
    external_id: int,
    name: str = "Dana",
    language: str = "he",
) -> Person:
    async with uow_factory() as uow:
        created = await uow.people.add(
            Person(display_name=name, language=language),
            Identity(
                person_id=0, platform="telegram", external_id=external_id, chat_id=external_id
            ),
        )
        await uow.commit()
        return created


async def client(
    uow_factory: SqlUnitOfWorkFactory,
    organization_id: int,
    person_id: int,
    access: AccessLevel = AccessLevel.UPLOADER,
) -> None:
    async with uow_factory() as uow:
        await uow.organizations.add_member(
            OrganizationMember(organization_id=organization_id, person_id=person_id, access=access)
        )
        await uow.commit()
