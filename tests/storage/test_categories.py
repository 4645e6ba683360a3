"""Expense categories on a real database: choosing one, the vendor memory, office shares."""

from __future__ import annotations

from fractions import Fraction

import pytest
from sqlalchemy import select, update

from core import categories, review
from core.domain import Document, DocumentState, OfficeRole
from core.errors import Conflict, NotAllowed
from storage import tables
from storage.uow import SqlUnitOfWorkFactory
from tests.scenario import NOW
from tests.storage.test_review import World, document, world


async def from_vendor(uow_factory: SqlUnitOfWorkFactory, doc_id: int, **fields: str) -> None:
    async with uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.id == doc_id)
            .values(fields={k: {"value": v, "confidence": 0.9} for k, v in fields.items()})
        )
        await uow.commit()


async def two_from_one_vendor(uow_factory: SqlUnitOfWorkFactory) -> tuple[World, int, int]:
    w = await world(uow_factory)
    first = await document(uow_factory, w, w.org, DocumentState.TO_FILE, 3)
    second = await document(uow_factory, w, w.org, DocumentState.TO_FILE, 1)
    await from_vendor(uow_factory, first, vendor_id="51530305-5", vendor_name="Paz Ltd")
    await from_vendor(uow_factory, second, vendor_id="515303055", vendor_name="PAZ")
    return w, first, second


def test_the_default_chart_and_its_vat_shares() -> None:
    chart = categories.DEFAULT_CHART
    assert len(chart) == 13
    assert chart["vehicle"] == chart["fuel"] == chart["communications"] == Fraction(2, 3)
    assert chart["meals"] == chart["insurance"] == chart["salaries"] == Fraction(0)
    assert chart["rent"] == chart["other"] == Fraction(1)
    assert categories.chart({"fuel": Fraction(1, 2)})["fuel"] == Fraction(1, 2)
    assert categories.parse_share("66.6%") == Fraction(333, 500)
    with pytest.raises(ValueError):
        categories.parse_share("3/2")


def test_vendor_key_prefers_the_number_then_the_normalised_name() -> None:
    def doc(**fields: str) -> Document:
        return Document(
            uploaded_by=1,
            batch="b",
            source_platform="telegram",
            source_chat_id=1,
            source_message_id=1,
            fields={k: {"value": v} for k, v in fields.items()},
        )

    assert categories.vendor_key(doc(vendor_id="51530305-5")) == "id:515303055"
    assert categories.vendor_key(doc(vendor_name="  Paz   Ltd. ")) == "name:paz"
    assert categories.vendor_key(doc(vendor_name='פז בע"מ')) == "name:פז"
    assert categories.vendor_key(doc()) is None


async def test_choosing_a_category_is_audited_and_suggested_for_the_vendor(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w, first, second = await two_from_one_vendor(uow_factory)
    async with uow_factory() as uow:
        doc = await uow.documents.get(second)
        assert doc is not None and await review.suggested_category(uow, doc) is None
    async with uow_factory() as uow:
        doc = await review.choose_category(uow, w.alice, first, 1, "fuel", NOW)
        assert doc.category == "fuel" and doc.version == 2
    async with uow_factory() as uow:
        last = await uow.audit.last_for_document(first)
        assert last is not None and last.action == "document.category_set"
        assert last.details == {"old": None, "new": "fuel", "vendor": "id:515303055"}
        doc = await uow.documents.get(second)
        assert doc is not None and await review.suggested_category(uow, doc) == "fuel"
    # Choosing again for the vendor replaces the memory; approving takes the suggestion.
    async with uow_factory() as uow:
        await review.choose_category(uow, w.bob, first, 2, "vehicle", NOW)
    async with uow_factory() as uow:
        filed = await review.approve(uow, w.alice, second, 1, NOW)
        assert filed.category == "vehicle"


async def test_choosing_is_refused_when_stale_foreign_or_unknown(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w, first, _ = await two_from_one_vendor(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed):
            await review.choose_category(uow, w.eve, first, 1, "fuel", NOW)
        with pytest.raises(NotAllowed):
            await review.choose_category(uow, w.client, first, 1, "fuel", NOW)
        with pytest.raises(Conflict):
            await review.choose_category(uow, w.alice, first, 0, "fuel", NOW)
        with pytest.raises(review.InvalidValue):
            await review.choose_category(uow, w.alice, first, 1, "yachts", NOW)
    async with uow_factory() as uow:
        assert uow.session is not None
        rows = (await uow.session.execute(tables.vendor_categories.select())).all()
        assert rows == []


async def test_an_office_manager_edits_a_vat_share(uow_factory: SqlUnitOfWorkFactory) -> None:
    w = await world(uow_factory)
    async with uow_factory() as uow:
        assert uow.session is not None
        m = tables.office_members.c
        office_id = await uow.session.scalar(select(m.office_id).where(m.person_id == w.alice))
        assert office_id is not None
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed):  # staff may not
            await review.set_vat_share(uow, w.alice, office_id, "fuel", "1/2", NOW)
    await member_as(uow_factory, office_id, w.bob)
    async with uow_factory() as uow:
        with pytest.raises(review.InvalidValue):
            await review.set_vat_share(uow, w.bob, office_id, "fuel", "2", NOW)
        assert await review.set_vat_share(uow, w.bob, office_id, "fuel", "1/2", NOW) == Fraction(
            1, 2
        )
    async with uow_factory() as uow:
        await review.set_vat_share(uow, w.bob, office_id, "fuel", "0.25", NOW)
    async with uow_factory() as uow:
        chart = await review.office_chart(uow, office_id)
        assert chart["fuel"] == Fraction(1, 4) and chart["vehicle"] == Fraction(2, 3)


async def member_as(uow_factory: SqlUnitOfWorkFactory, office_id: int, person_id: int) -> None:
    """Makes an existing staff member an admin of the office."""
    async with uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.office_members)
            .where(
                tables.office_members.c.office_id == office_id,
                tables.office_members.c.person_id == person_id,
            )
            .values(role=OfficeRole.ADMIN.value)
        )
        await uow.commit()
