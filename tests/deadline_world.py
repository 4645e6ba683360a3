"""An office with a monthly and a bi-monthly client, for the reporting tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from core.deadlines import ISRAEL_TZ
from core.domain import (
    AccessLevel,
    Direction,
    Document,
    DocumentState,
    OfficeMember,
    OfficeRole,
    ReportingSettings,
    VatFrequency,
)
from core.organizations import create_organization
from core.ports import Clock
from storage import tables
from storage.uow import SqlUnitOfWorkFactory
from tests import scenario

ACCOUNTANT_CHAT = 100
MONTHLY_CLIENT_CHAT = 201  # Dana, Falafel Ltd: monthly, a company with employees
BIMONTHLY_CLIENT_CHAT = 202  # Yossi, Hummus Bros: bi-monthly, a licensed dealer
# Both businesses were with the office long before the tests' month: their late reports
# are the office's (a business opened today is not late for what was due before it came).
OPENED = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    office_id: int
    monthly_org: int
    bimonthly_org: int
    accountant: int
    monthly_client: int
    bimonthly_client: int


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ISRAEL_TZ)


class FakeClock(Clock):
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, step: timedelta) -> None:
        # In UTC, so a daylight-saving change never skips or repeats a tick.
        self._now = (self._now.astimezone(UTC) + step).astimezone(ISRAEL_TZ)


async def build(uow_factory: SqlUnitOfWorkFactory, language: str = "en") -> World:
    office = await scenario.office(uow_factory)
    assert office.id is not None
    async with uow_factory() as uow:
        monthly = await create_organization(
            uow,
            office_id=office.id,
            name="Falafel Ltd",
            now=scenario.NOW,
            business_number="515303055",
        )
    async with uow_factory() as uow:
        bimonthly = await create_organization(
            uow,
            office_id=office.id,
            name="Hummus Bros",
            now=scenario.NOW,
            vat_frequency=VatFrequency.BIMONTHLY,
        )
    assert monthly.id is not None and bimonthly.id is not None
    async with uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.organizations)
            .where(tables.organizations.c.id.in_([monthly.id, bimonthly.id]))
            .values(created_at=OPENED)
        )
        await uow.commit()
    async with uow_factory() as uow:
        await uow.reporting.save_settings(
            ReportingSettings(organization_id=monthly.id, has_employees=True)
        )
        await uow.commit()
    avi = await scenario.person(uow_factory, ACCOUNTANT_CHAT, "Avi", language)
    dana = await scenario.person(uow_factory, MONTHLY_CLIENT_CHAT, "Dana", language)
    yossi = await scenario.person(uow_factory, BIMONTHLY_CLIENT_CHAT, "Yossi", language)
    assert avi.id and dana.id and yossi.id
    async with uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=office.id, person_id=avi.id, role=OfficeRole.OWNER)
        )
        await uow.commit()
    await scenario.client(uow_factory, monthly.id, dana.id, AccessLevel.UPLOADER)
    await scenario.client(uow_factory, bimonthly.id, yossi.id, AccessLevel.UPLOADER)
    return World(office.id, monthly.id, bimonthly.id, avi.id, dana.id, yossi.id)


async def add_document(
    uow_factory: SqlUnitOfWorkFactory,
    org_id: int,
    person_id: int,
    state: DocumentState,
    when: datetime,
) -> int:
    async with uow_factory() as uow:
        add_document.counter += 1
        document = await uow.documents.add(
            Document(
                uploaded_by=person_id,
                batch=f"b{add_document.counter}",
                source_platform="telegram",
                source_chat_id=person_id,
                source_message_id=add_document.counter,
                organization_id=org_id,
                direction=Direction.EXPENSE,
                state=state,
                created_at=when,
                updated_at=when,
            )
        )
        await uow.commit()
        assert document.id is not None
        return document.id


add_document.counter = 0  # type: ignore[attr-defined]
