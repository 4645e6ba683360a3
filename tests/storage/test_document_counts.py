"""The per-organization counters behind /tofile (migration 0016) equal a fresh aggregate
after every kind of change a document goes through, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, event, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from core import intake, reading_jobs, review
from core.domain import Document, DocumentKind, DocumentState, OfficeMember, OfficeRole
from core.reading.result import BLURRY, FieldReading, Reading
from storage import tables
from storage.files import DiskFileStore
from storage.repositories.documents import DocumentRepository
from storage.uow import SqlUnitOfWorkFactory
from tests import images, scenario
from tests.counts import assert_counts_fresh
from tests.scenario import NOW


def upload(message_id: int) -> intake.Upload:
    return intake.Upload(
        platform="telegram",
        chat_id=1001,
        message_id=message_id,
        file_id=f"f{message_id}",
        file_unique_id=f"u{message_id}",
        file_size=None,
        mime_type="image/png",
        file_name=None,
    )


def reading(customer_id: str | None = None, problems: list[str] | None = None) -> Reading:
    fields = {"total": FieldReading("118.00", 0.9, "")}
    if customer_id:
        fields["customer_id"] = FieldReading(customer_id, 0.95, "")
    return Reading(DocumentKind.RECEIPT, 0.9, fields, problems=problems or [])


async def read(uow_factory: SqlUnitOfWorkFactory, result: Reading, moment: int) -> Document:
    now = NOW + timedelta(minutes=moment)
    async with uow_factory() as uow:
        job = await uow.jobs.claim(worker="w", now=now, lease=timedelta(minutes=1))
        await uow.commit()
    assert job is not None
    async with uow_factory() as uow:
        applied = await reading_jobs.apply_reading(uow, job, result, worker="w", now=now)
    assert applied.document is not None
    return applied.document


async def report(uow_factory: SqlUnitOfWorkFactory, person_id: int) -> dict[int, tuple]:
    async with uow_factory() as uow:
        rows = await review.to_file_report(uow, person_id)
    return {r.organization_id: (r.to_file, r.returned, r.retake, r.oldest) for r in rows}


async def test_counters_follow_every_change_of_a_document(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore
) -> None:
    office = await scenario.office(uow_factory)
    first = await scenario.organization(uow_factory, office.id or 0, "Falafel Ltd", None)
    second = await scenario.organization(uow_factory, office.id or 0, "Hummus Ltd")
    a, b = first.id or 0, second.id or 0
    client = await scenario.person(uow_factory, 1001)
    accountant = await scenario.person(uow_factory, 2002, "Alice")
    for org in (a, b):
        await scenario.client(uow_factory, org, client.id or 0)
    async with uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=office.id, person_id=accountant.id, role=OfficeRole.STAFF)
        )
        await uow.commit()
    boss = accountant.id or 0
    await assert_counts_fresh(uow_factory)

    # Intake: two destinations, so the documents wait without an organization at first.
    stored = []
    for n, data in enumerate([images.png(label="one"), images.png(label="two")] * 2):
        async with uow_factory() as uow:
            person = await uow.people.get(client.id or 0)
            assert person is not None
            plan = await intake.plan_upload(uow, person, upload(n), NOW)
            await uow.release()
            stored.append(
                await intake.store_upload(
                    uow,
                    files,
                    person=person,
                    upload=upload(n),
                    data=data,
                    plan=plan,
                    batch=f"batch{n}",
                    now=NOW + timedelta(minutes=n),
                )
            )
        await assert_counts_fresh(uow_factory)
    for n in range(4):
        async with uow_factory() as uow:
            person = await uow.people.get(client.id or 0)
            assert person is not None
            await intake.choose_organization(uow, person, f"batch{n}", a, NOW)
        await assert_counts_fresh(uow_factory)
    one, two = (s.document.id or 0 for s in stored[:2])
    assert await report(uow_factory, boss) == {}  # received and duplicates wait for no one

    # Reading: the first names the second organization as its buyer and moves there; the
    # second is blurry and goes back to the client for a retake.
    moved = await read(uow_factory, reading(customer_id="515303055"), 10)
    assert (moved.id, moved.organization_id, moved.state) == (one, b, DocumentState.TO_FILE)
    await assert_counts_fresh(uow_factory)
    blurry = await read(uow_factory, reading(problems=[BLURRY]), 11)
    assert (blurry.id, blurry.state) == (two, DocumentState.RETURNED)
    await assert_counts_fresh(uow_factory)
    assert await report(uow_factory, boss) == {
        b: (1, 0, 0, NOW),
        a: (0, 0, 1, None),
    }

    # The client's new photo replaces the blurry one; read again, it waits for the office.
    async with uow_factory() as uow:
        kept = await intake.keep_file(files, upload(90), images.png(label="sharp"))
        await review.answer_file(uow, client.id or 0, two, kept.attach(two), NOW)
    await assert_counts_fresh(uow_factory)
    await read(uow_factory, reading(), 12)
    await assert_counts_fresh(uow_factory)

    # The office returns it, the client answers, the office files both.
    async with uow_factory() as uow:
        doc = await uow.documents.get(two)
        assert doc is not None
        await review.return_to_client(
            uow, boss, two, doc.version, "needs_clarification", None, NOW
        )
    await assert_counts_fresh(uow_factory)
    assert (await report(uow_factory, boss))[a] == (0, 1, 0, None)
    async with uow_factory() as uow:
        await review.answer_text(uow, client.id or 0, two, "a taxi", NOW)
    await assert_counts_fresh(uow_factory)
    assert (await report(uow_factory, boss))[a] == (1, 0, 0, NOW + timedelta(minutes=1))
    for doc_id in (one, two):
        async with uow_factory() as uow:
            doc = await uow.documents.get(doc_id)
            assert doc is not None
            await review.approve(uow, boss, doc_id, doc.version, NOW)
        await assert_counts_fresh(uow_factory)
    assert await report(uow_factory, boss) == {}

    # Withdrawn by the client after a return.
    async with uow_factory() as uow:
        doc = await uow.documents.get(two)
        assert doc is not None
        doc.state = DocumentState.NEEDS_MANUAL  # reopened, as a second reading would
        await uow.documents.save(doc)
        await uow.commit()
    await assert_counts_fresh(uow_factory)
    async with uow_factory() as uow:
        doc = await uow.documents.get(two)
        assert doc is not None
        await review.return_to_client(uow, boss, two, doc.version, "unreadable", None, NOW)
    async with uow_factory() as uow:
        await review.withdraw(uow, client.id or 0, two, NOW)
    await assert_counts_fresh(uow_factory)

    # Plain SQL cannot bypass them either: a bulk move, an insert and a delete.
    async with uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.organization_id == a)
            .values(organization_id=b)
        )
        await uow.session.execute(
            insert(tables.documents).values(
                id=999,
                organization_id=a,
                uploaded_by=client.id,
                batch="raw",
                source_platform="telegram",
                source_chat_id=1,
                source_message_id=1,
                direction="expense",
                kind="receipt",
                state="to_file",
                fields={},
                version=1,
                created_at=NOW - timedelta(days=3),
                updated_at=NOW,
            )
        )
        await uow.commit()
    await assert_counts_fresh(uow_factory)
    assert (await report(uow_factory, boss))[a] == (1, 0, 0, NOW - timedelta(days=3))
    async with uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(delete(tables.documents).where(tables.documents.c.id == 999))
        await uow.commit()
    await assert_counts_fresh(uow_factory)
    assert await report(uow_factory, boss) == {}


async def test_metrics_show_documents_by_state_from_the_counters(
    uow_factory: SqlUnitOfWorkFactory, engine: AsyncEngine
) -> None:
    """/metrics' documents by state equal a fresh count, read from the counters and the
    few documents without an organization: no statement counts the whole table."""
    office = await scenario.office(uow_factory)
    orgs = [
        (await scenario.organization(uow_factory, office.id or 0, name)).id or 0
        for name in ("Falafel Ltd", "Hummus Ltd")
    ]
    client = await scenario.person(uow_factory, 1001)
    states = [DocumentState.TO_FILE] * 3 + [DocumentState.FILED] * 2 + [DocumentState.RETURNED]
    rows = [
        {
            "organization_id": org,
            "uploaded_by": client.id,
            "batch": f"b{n}",
            "source_platform": "telegram",
            "source_chat_id": 1,
            "source_message_id": n,
            "direction": "expense",
            "kind": "receipt",
            "state": state.value,
            "fields": {},
            "version": 1,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n, (org, state) in enumerate(
            [(orgs[n % 2], state) for n, state in enumerate(states)]
            + [(None, DocumentState.RECEIVED)] * 2  # waiting for the client to pick one
        )
    ]
    async with uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(insert(tables.documents), rows)
        # Changed by plain SQL: the triggers move the counts all the same.
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.source_message_id.in_([3, 5]))
            .values(state=DocumentState.WITHDRAWN.value)
        )
        await uow.commit()

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.lower().split()))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        await metrics.read_database_figures(engine, NOW)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    shown = {
        line.split('"')[1]: float(line.split()[-1])
        for line in metrics.exposition()[0].decode().splitlines()
        if line.startswith("tayuk_documents{")
    }
    async with uow_factory() as uow:
        assert uow.session is not None
        fresh = await DocumentRepository(uow.session).fresh_counts_by_state()
    assert shown == {state: float(count) for state, count in fresh.items()}
    assert (shown["to_file"], shown["received"], shown["withdrawn"], shown["returned"]) == (
        3,
        2,
        2,
        0,
    )
    over_documents = [s for s in statements if "from documents" in s]
    assert over_documents and all("organization_id is null" in s for s in over_documents)
