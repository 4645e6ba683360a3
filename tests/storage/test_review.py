"""The review use cases on a real database: the report, approving, races and refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from core import review
from core.domain import Document, DocumentState, OfficeMember, OfficeRole, StoredFile
from core.errors import Conflict, NotAllowed
from core.people import mark_unreachable
from storage.uow import SqlUnitOfWorkFactory
from tests import scenario
from tests.scenario import NOW


@dataclass
class World:
    org: int
    other_org: int
    alice: int  # accountant of the office
    bob: int  # another accountant of the same office
    eve: int  # accountant of another office
    client: int


async def member(uow_factory: SqlUnitOfWorkFactory, office_id: int, person_id: int) -> None:
    async with uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=office_id, person_id=person_id, role=OfficeRole.STAFF)
        )
        await uow.commit()


async def world(uow_factory: SqlUnitOfWorkFactory) -> World:
    office = await scenario.office(uow_factory)
    foreign = await scenario.office(uow_factory, "Levi CPA")
    org = await scenario.organization(uow_factory, office.id or 0, "Falafel Ltd")
    other = await scenario.organization(uow_factory, office.id or 0, "Hummus Ltd", None)
    await scenario.organization(uow_factory, foreign.id or 0, "Not ours", None)
    alice = await scenario.person(uow_factory, 1, "Alice")
    bob = await scenario.person(uow_factory, 2, "Bob")
    eve = await scenario.person(uow_factory, 3, "Eve")
    client = await scenario.person(uow_factory, 4, "Dana")
    for accountant in (alice, bob):
        await member(uow_factory, office.id or 0, accountant.id or 0)
    await member(uow_factory, foreign.id or 0, eve.id or 0)
    await scenario.client(uow_factory, org.id or 0, client.id or 0)
    await scenario.client(uow_factory, other.id or 0, client.id or 0)
    return World(
        org.id or 0, other.id or 0, alice.id or 0, bob.id or 0, eve.id or 0, client.id or 0
    )


async def document(
    uow_factory: SqlUnitOfWorkFactory, w: World, org: int, state: DocumentState, age_days: int
) -> int:
    async with uow_factory() as uow:
        created = await uow.documents.add(
            Document(
                uploaded_by=w.client,
                batch=f"b{org}{age_days}{state}",
                source_platform="telegram",
                source_chat_id=4,
                source_message_id=org * 1000 + age_days * 10 + len(state),
                organization_id=org,
                state=state,
                fields={"total": {"value": "10.00", "confidence": 0.9, "reason": ""}},
                created_at=NOW - timedelta(days=age_days),
            )
        )
        await uow.commit()
        return created.id or 0


async def test_report_counts_sorts_and_shows_unreachable(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w = await world(uow_factory)
    await document(uow_factory, w, w.org, DocumentState.TO_FILE, 1)
    await document(uow_factory, w, w.org, DocumentState.NEEDS_MANUAL, 2)
    await document(uow_factory, w, w.org, DocumentState.FILED, 9)
    await document(uow_factory, w, w.other_org, DocumentState.TO_FILE, 5)
    await document(uow_factory, w, w.other_org, DocumentState.RETURNED, 7)
    async with uow_factory() as uow:
        await mark_unreachable(uow, w.client)
    async with uow_factory() as uow:
        rows = await review.to_file_report(uow, w.alice)
    assert [(r.name, r.to_file, r.returned, r.unreachable) for r in rows] == [
        ("Hummus Ltd", 1, 1, True),  # its oldest waiting document is 5 days old
        ("Falafel Ltd", 2, 0, False),
    ]
    assert rows[0].oldest == NOW - timedelta(days=5)
    async with uow_factory() as uow:
        assert await review.to_file_report(uow, w.eve) == []
        assert await review.to_file_report(uow, w.client) == []


async def test_next_document_is_oldest_first_and_skip_moves_on(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w = await world(uow_factory)
    newer = await document(uow_factory, w, w.org, DocumentState.TO_FILE, 1)
    older = await document(uow_factory, w, w.org, DocumentState.TO_FILE, 3)
    async with uow_factory() as uow:
        first = await review.next_document(uow, w.alice, w.org)
        assert first is not None and first.id == older
        second = await review.next_document(uow, w.alice, w.org, after_id=older)
        assert second is not None and second.id == newer
        assert await review.next_document(uow, w.alice, w.org, after_id=newer) is None
        with pytest.raises(NotAllowed):
            await review.next_document(uow, w.eve, w.org)


async def test_the_queue_lists_in_the_order_next_document_walks(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w = await world(uow_factory)
    await document(uow_factory, w, w.org, DocumentState.TO_FILE, 1)
    await document(uow_factory, w, w.org, DocumentState.NEEDS_MANUAL, 3)
    await document(uow_factory, w, w.org, DocumentState.FILED, 4)  # done: not listed
    await document(uow_factory, w, w.org, DocumentState.TO_FILE, 2)
    await document(uow_factory, w, w.other_org, DocumentState.TO_FILE, 5)  # another org
    async with uow_factory() as uow:
        walked, after = [], None
        while (found := await review.next_document(uow, w.alice, w.org, after)) is not None:
            walked.append(found.id)
            after = found.id
        assert len(walked) == 3
        assert [d.id for d in await review.queue(uow, w.alice, w.org, 10)] == walked
        assert [d.id for d in await review.queue(uow, w.alice, w.org, 2)] == walked[:2]
        with pytest.raises(NotAllowed):
            await review.queue(uow, w.eve, w.org, 10)


async def test_approve_files_and_audits(uow_factory: SqlUnitOfWorkFactory) -> None:
    w = await world(uow_factory)
    doc_id = await document(uow_factory, w, w.org, DocumentState.TO_FILE, 1)
    async with uow_factory() as uow:
        await review.approve(uow, w.alice, doc_id, 1, NOW)
    async with uow_factory() as uow:
        doc = await uow.documents.get(doc_id)
        assert doc is not None and doc.state is DocumentState.FILED and doc.version == 2
        last = await uow.audit.last_for_document(doc_id)
        assert last is not None and last.action == "document.filed"
        assert last.actor_id == w.alice


async def test_second_accountant_loses_with_conflict_naming_the_first(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w = await world(uow_factory)
    doc_id = await document(uow_factory, w, w.org, DocumentState.TO_FILE, 1)
    async with uow_factory() as alice_uow, uow_factory() as bob_uow:
        # Both loaded version 1; Alice writes first, Bob's flush finds the version moved.
        # SQLite takes its write lock when a transaction begins: end each read at once.
        await alice_uow.documents.get(doc_id)
        await alice_uow.release()
        await bob_uow.documents.get(doc_id)
        await bob_uow.release()
        await review.approve(alice_uow, w.alice, doc_id, 1, NOW)
        with pytest.raises(Conflict) as lost:
            await review.return_to_client(bob_uow, w.bob, doc_id, 1, "unreadable", None, NOW)
    assert lost.value.key == "review.already_handled" and lost.value.params == {"name": "Alice"}
    async with uow_factory() as uow:
        with pytest.raises(Conflict):  # a stale version from an old button, later
            await review.approve(uow, w.bob, doc_id, 1, NOW)
    async with uow_factory() as uow:
        doc = await uow.documents.get(doc_id)
        assert doc is not None and doc.state is DocumentState.FILED


@pytest.mark.parametrize("who", ["eve", "client"])
async def test_refused_for_another_office_and_for_a_client(
    uow_factory: SqlUnitOfWorkFactory, who: str
) -> None:
    w = await world(uow_factory)
    doc_id = await document(uow_factory, w, w.org, DocumentState.TO_FILE, 1)
    person = getattr(w, who)
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed):
            await review.approve(uow, person, doc_id, 1, NOW)
        with pytest.raises(NotAllowed):
            await review.return_to_client(uow, person, doc_id, 1, "duplicate", None, NOW)
        with pytest.raises(NotAllowed):
            await review.edit_field(uow, person, doc_id, 1, "total", "12", NOW)
    async with uow_factory() as uow:
        doc = await uow.documents.get(doc_id)
        assert doc is not None and doc.state is DocumentState.TO_FILE and doc.version == 1


async def test_return_then_client_answers_with_a_page_and_edit_validates(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w = await world(uow_factory)
    doc_id = await document(uow_factory, w, w.org, DocumentState.TO_FILE, 1)
    async with uow_factory() as uow:
        await review.return_to_client(uow, w.alice, doc_id, 1, "unreadable", "blurry", NOW)
    async with uow_factory() as uow:
        page = StoredFile(document_id=0, sha256="ab" * 32, mime_type="image/jpeg", size=3)
        doc = await review.answer_file(uow, w.client, doc_id, page, NOW)
        # The new picture is read again before the office sees it.
        assert doc.state is DocumentState.RECEIVED and doc.answered is True
        assert [j.kind for j in await uow.jobs.for_document(doc_id)] == ["read_document"]
        assert doc.last_return is not None and doc.last_return.note == "blurry"
        assert [p.page_order for p in await uow.documents.files(doc_id)] == [0]
        doc.state = DocumentState.TO_FILE  # as the reading would leave it
        await uow.documents.save(doc)
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(review.InvalidValue) as bad:
            await review.edit_field(uow, w.alice, doc_id, 4, "vendor_id", "123456789", NOW)
        assert bad.value.key == "review.invalid_business_number"
        doc = await review.edit_field(uow, w.alice, doc_id, 4, "date", "5.11.2026", NOW)
        assert doc.fields["date"]["value"] == "2026-11-05"


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("date", "2026-02-30", None),
        ("date", "31/12/2026", "2026-12-31"),
        ("total", "1,234.5", "1234.50"),
        ("total", "abc", None),
        ("total", "-3", None),
        ("vendor_id", "515303055", "515303055"),
        ("vendor_id", "515303056", None),
        ("allocation_number", "123 456 789", "123456789"),
        ("allocation_number", "12345", None),
        ("kind", "x", None),
    ],
)
def test_validate(field: str, raw: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(review.InvalidValue):
            review.validate(field, raw)
    else:
        assert review.validate(field, raw) == expected
