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
from core.errors import NotAllowed, TayukError
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


def test_organizations_share_a_plan_but_never_across_dealer_types_or_overrides() -> None:
    """The tick works a profile's plan out once for all its organizations (issue 16)."""
    from core.deadlines import Obligation
    from core.domain import VatFrequency
    from core.reporting.deadlines import Books

    def org(org_id: int, dealer: DealerType) -> Organization:
        return Organization(
            id=org_id, name=f"O{org_id}", dealer_type=dealer, vat_frequency=VatFrequency.MONTHLY
        )

    october_vat = Obligation(Period.month(2026, 10), ReportKind.VAT)
    moved = date(2026, 11, 26)
    orgs = {1: org(1, DealerType.LICENSED), 2: org(2, DealerType.EXEMPT)}
    orgs[3] = org(3, DealerType.LICENSED)
    books = Books(
        orgs=orgs,
        office_of={},
        schedules={},
        settings={},
        overrides={3: {(ReportKind.VAT, october_vat.period): moved}},
        filed=set(),
    )
    start, end = date(2026, 8, 1), date(2026, 11, 30)
    first = books.obligations(1, start, end)  # worked out first, then shared
    assert october_vat in dict(first) and dict(first)[october_vat].date != moved
    assert ReportKind.VAT not in {o.kind for o, _ in books.obligations(2, start, end)}
    assert dict(books.obligations(3, start, end))[october_vat].date == moved
    alone = Books(
        orgs={1: orgs[1]}, office_of={}, schedules={}, settings={}, overrides={}, filed=set()
    )
    assert books.obligations(1, start, end) == alone.obligations(1, start, end)


async def _stranger(uow_factory: SqlUnitOfWorkFactory) -> int:
    """The owner of another office, which serves none of the world's organizations."""
    from core.domain import OfficeMember, OfficeRole
    from tests import scenario

    other = await scenario.office(uow_factory, name="Levi CPA")
    someone = await scenario.person(uow_factory, 999, "Other", "en")
    assert other.id is not None and someone.id is not None
    async with uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=other.id, person_id=someone.id, role=OfficeRole.OWNER)
        )
        await uow.commit()
    return someone.id


async def _audit(uow_factory: SqlUnitOfWorkFactory, action: str) -> list[AuditEntry]:
    async with uow_factory() as uow:
        assert uow.session is not None
        return list(
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action)  # type: ignore[arg-type]
            )
        )


async def test_a_due_date_override_is_set_cleared_audited_and_refused_to_outsiders(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    stranger = await _stranger(uow_factory)
    day = date(2026, 12, 24)
    for person in (world.monthly_client, stranger):
        async with uow_factory() as uow:
            with pytest.raises(NotAllowed):
                await reporting.set_due_date_override(
                    uow, person, world.monthly_org, "vat", "2026-11", day
                )
            with pytest.raises(NotAllowed):
                await reporting.clear_due_date_override(
                    uow, person, world.monthly_org, "vat", "2026-11"
                )
    async with uow_factory() as uow:
        with pytest.raises(TayukError):  # before the period ends
            await reporting.set_due_date_override(
                uow, world.accountant, world.monthly_org, "vat", "2026-11", date(2026, 11, 10)
            )
    for moved in (date(2026, 12, 21), day):  # set, then moved again: one row
        async with uow_factory() as uow:
            await reporting.set_due_date_override(
                uow, world.accountant, world.monthly_org, "vat", "2026-11", moved
            )
    async with uow_factory() as uow:
        choices = await reporting.due_date_choices(uow, world.accountant, world.monthly_org, NOW)
        assert len(await uow.reporting.overrides_for([world.monthly_org])) == 1
    vat = {o.period.label: due for o, due in choices if o.kind is ReportKind.VAT}
    assert vat["2026-11"].date == day
    assert len(vat) == reporting.PERIODS_OFFERED
    entries = await _audit(uow_factory, "due_date.set")
    assert [(e.actor_id, e.details["due"], e.details["previous"]) for e in entries] == [
        (world.accountant, "2026-12-21", None),
        (world.accountant, "2026-12-24", "2026-12-21"),
    ]
    async with uow_factory() as uow:
        assert await reporting.clear_due_date_override(
            uow, world.accountant, world.monthly_org, "vat", "2026-11"
        )
    async with uow_factory() as uow:
        assert await uow.reporting.overrides_for([world.monthly_org]) == []
    assert len(await _audit(uow_factory, "due_date.cleared")) == 1


async def test_only_the_offices_owner_changes_its_schedule_and_it_is_audited(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    stranger = await _stranger(uow_factory)
    for person in (world.monthly_client, stranger):
        async with uow_factory() as uow:
            with pytest.raises(NotAllowed):
                await reporting.update_office_schedule(uow, person, world.office_id, cutoff_days=7)
            with pytest.raises(NotAllowed):
                await reporting.office_schedule(uow, person, world.office_id)
    async with uow_factory() as uow:
        assert await reporting.offices_to_schedule(uow, world.accountant) == [world.office_id]
        for bad in ({"cutoff_days": 21}, {"quiet_from": "25:00", "quiet_until": "08:00"}):
            with pytest.raises(TayukError):
                await reporting.update_office_schedule(
                    uow,
                    world.accountant,
                    world.office_id,
                    **bad,  # type: ignore[arg-type]
                )
    async with uow_factory() as uow:
        await reporting.update_office_schedule(
            uow,
            world.accountant,
            world.office_id,
            cutoff_days=7,
            quiet_from="22:00",
            quiet_until="7:30",
        )
    async with uow_factory() as uow:
        schedule = await reporting.office_schedule(uow, world.accountant, world.office_id)
    assert (schedule.cutoff_days, schedule.quiet_from, schedule.quiet_until) == (
        7,
        "22:00",
        "07:30",
    )
    entries = await _audit(uow_factory, "office.schedule_changed")
    assert [(e.actor_id, e.office_id, e.details) for e in entries] == [
        (
            world.accountant,
            world.office_id,
            {"cutoff_days": [5, 7], "quiet": ["21:00-08:00", "22:00-07:30"]},
        )
    ]


def test_typed_dates_are_read_in_both_forms() -> None:
    assert reporting.parse_day("24.12.2026") == date(2026, 12, 24)
    assert reporting.parse_day("4.1.27") == date(2027, 1, 4)
    assert reporting.parse_day("31.02.2026") is None
    assert reporting.parse_day("tomorrow") is None
