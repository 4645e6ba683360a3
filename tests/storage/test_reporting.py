"""Reporting use cases on the real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import reporting
from core.deadlines import Period, ReportKind
from core.domain import (
    AuditEntry,
    DealerType,
    DocumentState,
    DueDateOverride,
    Organization,
    ReportingSettings,
    SentNotice,
)
from core.errors import NotAllowed
from storage.uow import SqlUnitOfWorkFactory
from tests.deadline_world import MONTHLY_CLIENT_CHAT, add_document, at, build

NOW = at("2026-11-20 10:00")


async def test_a_key_is_claimed_once_and_can_be_given_back(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    rows = [SentNotice(key=f"k{n}", person_id=world.accountant, sent_at=NOW) for n in range(3)]
    async with uow_factory() as uow:
        assert await uow.reporting.claim(rows) == {"k0", "k1", "k2"}
        await uow.commit()
    async with uow_factory() as uow:
        again = [SentNotice(key=k, person_id=world.accountant, sent_at=NOW) for k in ("k1", "k9")]
        assert await uow.reporting.claim(again) == {"k9"}
        await uow.reporting.unclaim(["k1"])
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.reporting.sent_keys(at("2026-11-01 00:00")) == {"k0", "k2", "k9"}


async def test_only_an_accountant_may_mark_a_report_filed_and_the_client_is_told(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed):
            await reporting.mark_filed(
                uow, world.monthly_client, world.monthly_org, "vat", "2026-11", NOW
            )
    async with uow_factory() as uow:
        filed = await reporting.mark_filed(
            uow, world.accountant, world.monthly_org, "vat", "2026-11", NOW
        )
    assert filed.newly and [c.chat_id for c in filed.clients] == [MONTHLY_CLIENT_CHAT]
    async with uow_factory() as uow:
        again = await reporting.mark_filed(
            uow, world.accountant, world.monthly_org, "vat", "2026-11", NOW
        )
        assert not again.newly and again.clients == []
        assert uow.session is not None
        entries = list(
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "report.filed")  # type: ignore[arg-type]
            )
        )
    assert [(e.actor_id, e.details) for e in entries] == [
        (world.accountant, {"kind": "vat", "period": "2026-11"})
    ]


async def test_the_accountant_sees_every_organization_with_documents_to_file_and_filed_state(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    for state in (DocumentState.TO_FILE, DocumentState.NEEDS_MANUAL, DocumentState.FILED):
        await add_document(uow_factory, world.monthly_org, world.monthly_client, state, NOW)
    async with uow_factory() as uow:
        await reporting.mark_filed(uow, world.accountant, world.monthly_org, "vat", "2026-11", NOW)
    async with uow_factory() as uow:
        found = await reporting.deadlines_for_accountant(uow, world.accountant, NOW)
    rows = {
        (d.organization.name, d.obligation.kind.value, d.obligation.period.label): d for d in found
    }
    vat = rows[("Falafel Ltd", "vat", "2026-11")]
    assert vat.filed and vat.due.date == date(2026, 12, 15) and vat.documents_to_file == 2
    assert vat.cutoff == date(2026, 12, 10)
    assert not rows[("Falafel Ltd", "withholding", "2026-11")].filed
    # Hummus's 11-12 reports are due 18.1.2027, beyond the five weeks shown.
    assert rows[("Hummus Bros", "vat", "2026-09/10")].due.date == date(2026, 11, 16)
    assert ("Hummus Bros", "vat", "2026-11/12") not in rows
    # The October reports were due on 16.11 and nobody marked them: shown as late.
    assert not rows[("Falafel Ltd", "vat", "2026-10")].filed
    assert ("Hummus Bros", "withholding", "2026-11") not in rows  # no employees


async def test_a_client_sees_only_their_own_organizations(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    async with uow_factory() as uow:
        found = await reporting.deadlines_for_client(uow, world.bimonthly_client, NOW)
    assert {d.organization.name for d in found} == {"Hummus Bros"}
    assert {d.obligation.kind for d in found} == {ReportKind.VAT, ReportKind.ADVANCES}


async def test_an_override_moves_the_due_date_and_the_reminders(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    async with uow_factory() as uow:
        await uow.reporting.add_override(
            DueDateOverride(
                organization_id=world.monthly_org, kind="vat", period="2026-11", due="2026-12-24"
            )
        )
        await uow.commit()
    async with uow_factory() as uow:
        found = await reporting.deadlines_for_accountant(uow, world.accountant, NOW)
        vat = next(
            d
            for d in found
            if d.obligation.period == Period.month(2026, 11)
            and d.obligation.kind is ReportKind.VAT
            and d.organization.id == world.monthly_org
        )
        assert vat.due.date == date(2026, 12, 24) and not vat.due.estimate
        # Cutoff 19.12 is Shabbat: back to Friday 18.12; the 7-day reminder on Fri 11.12.
        assert vat.cutoff == date(2026, 12, 18)
        notices = await reporting.due_notices(uow, at("2026-12-03 09:00"))
    keys = [k for n in notices for k in n.keys]
    assert f"r:{world.monthly_client}:{world.monthly_org}:advances:2026-11:7" in keys
    assert f"r:{world.monthly_client}:{world.monthly_org}:vat:2026-11:7" not in keys


def test_the_profile_comes_from_the_dealer_type_unless_the_accountant_set_it() -> None:
    company = Organization(name="A", dealer_type=DealerType.COMPANY)
    person = Organization(name="B", dealer_type=DealerType.LICENSED)
    assert reporting.profile_of(company, None).is_company
    assert not reporting.profile_of(person, None).is_company
    told = ReportingSettings(organization_id=1, is_company=False, detailed_vat=True)
    assert not reporting.profile_of(company, told).is_company
    assert reporting.profile_of(company, told).detailed_vat


def test_an_exempt_dealer_owes_no_periodic_vat() -> None:
    from core.deadlines import Obligation

    exempt = Organization(name="C", dealer_type=DealerType.EXEMPT)
    period = Period.month(2026, 11)
    assert not reporting.owes(exempt, Obligation(period, ReportKind.VAT))
    assert reporting.owes(exempt, Obligation(period, ReportKind.ADVANCES))
