"""The books use cases on the real database: the period, exports recorded, closing."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import review
from core.books import service
from core.books.accounts import Bookkeeping
from core.books.records import ExportFormat
from core.books.spool import EntrySpool
from core.deadlines.periods import Period
from core.domain import (
    AccessLevel,
    AuditEntry,
    Document,
    DocumentKind,
    DocumentState,
    OfficeMember,
    OfficeRole,
)
from core.errors import Conflict, NotAllowed
from storage.repositories.books import BooksRepository
from storage.uow import SqlUnitOfWorkFactory
from tests import scenario
from tests.books.factory import filed
from tests.books.readers import parse_bkmvdata

NOVEMBER = Period.month(2026, 11)
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@dataclass
class World:
    org: int
    office: int
    owner: int
    staff: int
    client: int


async def build(uow_factory: SqlUnitOfWorkFactory) -> World:
    office = await scenario.office(uow_factory)
    assert office.id
    org = await scenario.organization(uow_factory, office.id)
    assert org.id
    owner = await scenario.person(uow_factory, 1, "Dana")
    staff = await scenario.person(uow_factory, 2, "Avi")
    client = await scenario.person(uow_factory, 3, "Moshe")
    assert owner.id and staff.id and client.id
    async with uow_factory() as uow:
        for person, role in ((owner.id, OfficeRole.OWNER), (staff.id, OfficeRole.STAFF)):
            await uow.offices.add_member(OfficeMember(office.id, person, role))
        await uow.commit()
    await scenario.client(uow_factory, org.id, client.id, AccessLevel.FULL)
    return World(org.id, office.id, owner.id, staff.id, client.id)


async def add(
    uow_factory: SqlUnitOfWorkFactory, world: World, document: Document, arrived: datetime
) -> int:
    document.id = None
    document.organization_id = world.org
    document.uploaded_by = world.client
    document.created_at = arrived
    async with uow_factory() as uow:
        await uow.documents.add(document)
        await uow.commit()
        assert document.id
        return document.id


async def populate(uow_factory: SqlUnitOfWorkFactory, world: World) -> dict[str, int]:
    nov = datetime(2026, 11, 6, 8, 0, tzinfo=UTC)
    ids = {
        "invoice": await add(uow_factory, world, filed(1, "1180", "180", number="1001"), nov),
        "vehicle": await add(uow_factory, world, filed(2, "1180", "180", category="vehicle"), nov),
        "credit": await add(
            uow_factory, world, filed(3, "118", "18", kind=DocumentKind.CREDIT_NOTE), nov
        ),
        "october": await add(uow_factory, world, filed(4, "590", "90", day="2026-10-30"), nov),
    }
    waiting = filed(5, "236", "36", day="2026-11-20")
    waiting.state = DocumentState.TO_FILE
    ids["waiting"] = await add(uow_factory, world, waiting, nov + timedelta(days=15))
    back = filed(6, "236", "36", day="2026-11-21")
    back.state = DocumentState.RETURNED
    ids["returned"] = await add(uow_factory, world, back, nov + timedelta(days=16))
    return ids


async def test_the_period_picture_counts_only_its_documents(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    ids = await populate(uow_factory, world)
    async with uow_factory() as uow:
        books = await service.load_period(uow, world.staff, world.org, NOVEMBER)
    assert [e.document_id for e in books.entries] == [
        ids["invoice"],
        ids["vehicle"],
        ids["credit"],
    ]
    assert books.picture.filed.documents == 3
    assert books.picture.filed.deductible_vat == 180 + 120 - 18
    assert (books.picture.to_file, books.picture.returned) == (1, 1)
    assert not books.closed and not books.picture.ready
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed):
            await service.load_period(uow, world.client, world.org, NOVEMBER)


async def test_exports_are_recorded_and_reproducible(uow_factory: SqlUnitOfWorkFactory) -> None:
    world = await build(uow_factory)
    ids = await populate(uow_factory, world)
    hashes = {}
    for fmt in ExportFormat:
        if fmt is ExportFormat.MOVEIN:
            continue  # default supplier accounts are too long for it; mapped below
        for attempt in range(2):
            out = io.BytesIO()
            async with uow_factory() as uow:
                record = await service.export(
                    uow, world.staff, world.org, NOVEMBER, fmt, out,
                    NOW + timedelta(minutes=attempt), primary_id=111111111111111,
                )  # fmt: skip
            assert record.document_ids == [ids["invoice"], ids["vehicle"], ids["credit"]]
            hashes.setdefault(fmt, []).append(record.sha256)
            if fmt is ExportFormat.OPENFRMT:
                with zipfile.ZipFile(out) as outer:
                    name = next(n for n in outer.namelist() if n.endswith("BKMVDATA.zip"))
                    with zipfile.ZipFile(io.BytesIO(outer.read(name))) as inner:
                        records = parse_bkmvdata(inner.read("BKMVDATA.TXT"))
                assert sum(r["code"] == "B100" for r in records) == 3 + 3 + 3
    # Same content: spreadsheets byte for byte; the standard's files carry their timestamp.
    assert hashes[ExportFormat.CSV][0] == hashes[ExportFormat.CSV][1]
    async with uow_factory() as uow:
        made = await uow.books.exports_for(world.org, NOVEMBER.label)
    assert len(made) == 8 and all(r.created_by == world.staff for r in made)
    assert made[0].file_name == "csv-515303055-2026-11.csv"


async def test_exports_read_the_period_in_chunks_the_same(
    uow_factory: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The period is read a chunk of rows at a time and its entries wait in a spooled file:
    chunks of one document, with the file on disk, give the same files in the same order
    as one chunk for all kept in memory."""
    world = await build(uow_factory)
    ids = await populate(uow_factory, world)
    # A document dated before the others but stored after them goes first.
    early = await add(
        uow_factory,
        world,
        filed(7, "118", "18", day="2026-11-01"),
        datetime(2026, 11, 7, tzinfo=UTC),
    )
    made: dict[int, list[tuple[str, list[int]]]] = {}
    for chunk in (500, 1):
        monkeypatch.setattr(BooksRepository, "PERIOD_CHUNK", chunk)
        monkeypatch.setattr(EntrySpool, "IN_MEMORY", 1 if chunk == 1 else 1 << 20)
        for fmt in (ExportFormat.CSV, ExportFormat.OPENFRMT, ExportFormat.PCN874):
            async with uow_factory() as uow:
                record = await service.export(
                    uow, world.staff, world.org, NOVEMBER, fmt, io.BytesIO(), NOW,
                    primary_id=111111111111111,
                )  # fmt: skip
            made.setdefault(chunk, []).append((record.sha256, record.document_ids))
    assert made[1] == made[500]
    assert made[1][0][1] == [early, ids["invoice"], ids["vehicle"], ids["credit"]]


async def test_the_account_mapping_reaches_the_export(uow_factory: SqlUnitOfWorkFactory) -> None:
    world = await build(uow_factory)
    await populate(uow_factory, world)
    chart = b"\xef\xbb\xbfkind,key,account\r\nexpense,office_supplies,6100\r\n" + (
        b"setting,input_vat,1801\r\nsupplier,514713288,40021\r\n"
    )
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed):
            await service.import_mapping(uow, world.staff, world.office, chart, NOW)
    async with uow_factory() as uow:
        assert await service.import_mapping(uow, world.owner, world.office, chart, NOW) == 3
    async with uow_factory() as uow:
        await service.set_mapping(
            uow, world.owner, world.office, "expense", "vehicle", "6111", NOW
        )
    async with uow_factory() as uow:
        with pytest.raises(service.BooksError) as bad:
            await service.set_mapping(uow, world.owner, world.office, "expense", "nope", "1", NOW)
    assert bad.value.key == "books.invalid_category"
    async with uow_factory() as uow:
        await service.set_bookkeeping(uow, world.staff, world.org, Bookkeeping.SINGLE, NOW)
    out = io.BytesIO()
    async with uow_factory() as uow:
        await service.export(uow, world.staff, world.org, NOVEMBER, ExportFormat.MOVEIN, out, NOW)
    assert {line[50:58].strip() for line in out.getvalue().split(b"\r\n")[:-1]} == {
        b"6100",
        b"6111",
        b"40021",
    }
    out = io.BytesIO()
    async with uow_factory() as uow:
        await service.export(
            uow, world.staff, world.org, NOVEMBER, ExportFormat.OPENFRMT, out, NOW
        )
    with zipfile.ZipFile(out) as outer:
        name = next(n for n in outer.namelist() if n.endswith("BKMVDATA.zip"))
        with zipfile.ZipFile(io.BytesIO(outer.read(name))) as inner:
            records = parse_bkmvdata(inner.read("BKMVDATA.TXT"))
    journal = [r for r in records if r["code"] == "B100"]
    assert {r["account"] for r in journal} == {"6100", "6111", "1801", "40021"}
    assert all(r["counter_account"] for r in journal)  # single-entry


async def test_a_foreign_document_waits_for_its_rate(uow_factory: SqlUnitOfWorkFactory) -> None:
    world = await build(uow_factory)
    document = filed(1, "100", "0", kind=DocumentKind.INVOICE, currency="USD")
    await add(uow_factory, world, document, datetime(2026, 11, 6, tzinfo=UTC))
    async with uow_factory() as uow:
        with pytest.raises(service.BooksError) as missing:
            await service.export(uow, world.staff, world.org, NOVEMBER, ExportFormat.CSV,
                                 io.BytesIO(), NOW)  # fmt: skip
    assert missing.value.key == "books.missing_rate"
    assert missing.value.params["currency"] == "USD"
    async with uow_factory() as uow:
        await service.set_rate(uow, world.staff, "usd", date(2026, 11, 5), "3.712", NOW)
    async with uow_factory() as uow:
        books = await service.load_period(uow, world.staff, world.org, NOVEMBER)
    assert books.entries[0].total == Decimal("371.20") and not books.missing_rates


async def test_a_closed_period_refuses_edits_until_reopened(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    ids = await populate(uow_factory, world)
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed):
            await service.close_period(uow, world.client, world.org, NOVEMBER, NOW)
    async with uow_factory() as uow:
        assert await service.close_period(uow, world.staff, world.org, NOVEMBER, NOW)
    async with uow_factory() as uow:
        assert not await service.close_period(uow, world.staff, world.org, NOVEMBER, NOW)
    async with uow_factory() as uow:
        waiting = await uow.documents.get(ids["waiting"])
        assert waiting is not None
        version = waiting.version
    for act in (
        lambda uow: review.approve(uow, world.staff, ids["waiting"], version, NOW),
        lambda uow: review.edit_field(
            uow, world.staff, ids["waiting"], version, "total", "1", NOW
        ),
    ):
        async with uow_factory() as uow:
            with pytest.raises(Conflict) as refused:
                await act(uow)
        assert refused.value.key == "books.period_closed"
        assert refused.value.params == {"period": "2026-11"}
    # Staff may close but not reopen; the owner reopens, with the reason kept.
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed):
            await service.reopen_period(uow, world.staff, world.org, NOVEMBER, "fix", NOW)
    async with uow_factory() as uow:
        with pytest.raises(service.BooksError):
            await service.reopen_period(uow, world.owner, world.org, NOVEMBER, " ", NOW)
    async with uow_factory() as uow:
        assert await service.reopen_period(
            uow, world.owner, world.org, NOVEMBER, "a late credit note", NOW
        )
    async with uow_factory() as uow:
        assert uow.session is not None
        found = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "books.period_reopened")
        )
    assert found is not None and found.details["reason"] == "a late credit note"
    async with uow_factory() as uow:
        approved = await review.approve(uow, world.staff, ids["waiting"], version, NOW)
    assert approved.state is DocumentState.FILED


async def test_a_late_document_moves_to_the_next_open_period(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    ids = await populate(uow_factory, world)
    async with uow_factory() as uow:
        await service.close_period(uow, world.staff, world.org, NOVEMBER, NOW)
    async with uow_factory() as uow:
        document = await uow.documents.get(ids["waiting"])
        assert document is not None
        assert await service.late_for(uow, document) == Period.month(2026, 12)
    async with uow_factory() as uow:
        moved = await service.move_to_open_period(uow, world.staff, ids["waiting"], NOW)
    assert moved.label == "2026-12"
    async with uow_factory() as uow:
        document = await uow.documents.get(ids["waiting"])
        assert document is not None
        approved = await review.approve(uow, world.staff, document.id or 0, document.version, NOW)
    assert approved.state is DocumentState.FILED
    async with uow_factory() as uow:
        december = await service.load_period(uow, world.staff, world.org, Period.month(2026, 12))
    assert [e.document_id for e in december.entries] == [ids["waiting"]]


async def test_the_waiting_documents_of_a_closed_period_move_together(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build(uow_factory)
    ids = await populate(uow_factory, world)
    async with uow_factory() as uow:
        with pytest.raises(Conflict):
            await service.move_waiting(uow, world.staff, world.org, NOVEMBER, NOW)
    async with uow_factory() as uow:
        await service.close_period(uow, world.staff, world.org, NOVEMBER, NOW)
        await service.close_period(uow, world.staff, world.org, Period.month(2026, 12), NOW)
    async with uow_factory() as uow:
        count, target = await service.move_waiting(uow, world.staff, world.org, NOVEMBER, NOW)
    assert (count, target) == (1, Period.month(2027, 1))
    async with uow_factory() as uow:
        january = await service.load_period(uow, world.staff, world.org, Period.month(2027, 1))
        november = await service.load_period(uow, world.staff, world.org, NOVEMBER)
    assert january.picture.to_file == 1 and november.picture.to_file == 0
    assert november.picture.returned == 1  # a returned document waits for the client
    assert ids["waiting"]


async def test_the_digest_status_of_a_period(uow_factory: SqlUnitOfWorkFactory) -> None:
    world = await build(uow_factory)
    await populate(uow_factory, world)
    async with uow_factory() as uow:
        organization = await uow.organizations.get(world.org)
        assert organization is not None
        assert await service.period_status(uow, organization, NOVEMBER) == (False, False)
        assert await service.period_status(uow, organization, Period.month(2026, 10)) == (
            True,
            False,
        )
    async with uow_factory() as uow:
        await service.export(
            uow, world.staff, world.org, NOVEMBER, ExportFormat.CSV, io.BytesIO(), NOW
        )
    async with uow_factory() as uow:
        organization = await uow.organizations.get(world.org)
        assert organization is not None
        assert await service.period_status(uow, organization, NOVEMBER) == (False, True)
