from __future__ import annotations

import hashlib

import pytest

from core import intake
from core.domain import Direction, DocumentState, JobState
from core.errors import Conflict, FileRejected
from storage.files import DiskFileStore
from storage.uow import SqlUnitOfWorkFactory
from tests import images, scenario
from tests.scenario import NOW


def upload(message_id: int, chat_id: int = 1001, caption: str | None = None) -> intake.Upload:
    return intake.Upload(
        platform="telegram",
        chat_id=chat_id,
        message_id=message_id,
        file_id=f"f{message_id}",
        file_unique_id=f"u{message_id}",
        file_size=None,
        mime_type="image/png",
        file_name=None,
        caption=caption,
    )


async def send(
    uow_factory: SqlUnitOfWorkFactory,
    files: DiskFileStore,
    person_id: int,
    up: intake.Upload,
    data: bytes,
) -> intake.Stored | intake.UploadPlan:
    async with uow_factory() as uow:
        person = await uow.people.get(person_id)
        assert person is not None
        plan = await intake.plan_upload(uow, person, up, NOW)
        if plan.outcome is not intake.PlanOutcome.STORE:
            return plan
        await uow.release()
        return await intake.store_upload(
            uow,
            files,
            person=person,
            upload=up,
            data=data,
            plan=plan,
            batch=intake.new_batch(),
            now=NOW,
        )


@pytest.fixture
async def client_id(uow_factory: SqlUnitOfWorkFactory) -> int:
    office = await scenario.office(uow_factory)
    org = await scenario.organization(uow_factory, office.id or 0)
    person = await scenario.person(uow_factory, 1001)
    await scenario.client(uow_factory, org.id or 0, person.id or 0)
    return person.id or 0


async def test_a_photo_is_stored_by_hash_and_queued_for_reading(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, client_id: int
) -> None:
    data = images.png()
    stored = await send(uow_factory, files, client_id, upload(1), data)
    assert isinstance(stored, intake.Stored) and stored.queued
    sha = hashlib.sha256(data).hexdigest()
    assert files.path(sha).read_bytes() == data
    async with uow_factory() as uow:
        document = await uow.documents.get(stored.document.id or 0)
        assert document is not None
        assert document.state is DocumentState.RECEIVED
        assert document.direction is Direction.EXPENSE
        assert document.created_at is not None and document.created_at.tzinfo is not None
        [file] = await uow.documents.files(document.id or 0)
        assert (file.sha256, file.size, file.mime_type) == (sha, len(data), "image/png")
        [job] = await uow.jobs.for_document(document.id or 0)
        assert job.state is JobState.QUEUED and job.kind == intake.READ_JOB


async def test_the_same_message_twice_makes_one_document(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, client_id: int
) -> None:
    await send(uow_factory, files, client_id, upload(7), images.png())
    again = await send(uow_factory, files, client_id, upload(7), images.png())
    assert isinstance(again, intake.UploadPlan)
    assert again.outcome is intake.PlanOutcome.ALREADY_HAVE


async def test_a_concurrent_second_delivery_is_a_conflict_not_a_second_document(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, client_id: int
) -> None:
    async with uow_factory() as first, uow_factory() as second:
        person = await first.people.get(client_id)
        assert person is not None
        plan = await intake.plan_upload(first, person, upload(9), NOW)
        await first.release()
        await intake.store_upload(
            first,
            files,
            person=person,
            upload=upload(9),
            data=images.png(),
            plan=plan,
            batch="b1",
            now=NOW,
        )
        person2 = await second.people.get(client_id)
        assert person2 is not None
        with pytest.raises(Conflict):
            await intake.store_upload(
                second,
                files,
                person=person2,
                upload=upload(9),
                data=images.png(),
                plan=plan,
                batch="b2",
                now=NOW,
            )


async def test_the_same_file_sent_again_is_flagged_a_duplicate_and_not_queued(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, client_id: int
) -> None:
    data = images.jpeg()
    first = await send(uow_factory, files, client_id, upload(1), data)
    second = await send(uow_factory, files, client_id, upload(2), data)
    assert isinstance(first, intake.Stored) and isinstance(second, intake.Stored)
    assert second.duplicate_of is not None and second.duplicate_of.id == first.document.id
    assert second.document.state is DocumentState.DUPLICATE and not second.queued
    async with uow_factory() as uow:
        assert await uow.jobs.for_document(second.document.id or 0) == []


async def test_a_caption_saying_income_marks_the_document_income_for_an_income_client(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore
) -> None:
    from core.domain import AccessLevel

    office = await scenario.office(uow_factory)
    org = await scenario.organization(uow_factory, office.id or 0)
    uploader = await scenario.person(uow_factory, 1)
    seller = await scenario.person(uow_factory, 2)
    await scenario.client(uow_factory, org.id or 0, uploader.id or 0, AccessLevel.UPLOADER)
    await scenario.client(uow_factory, org.id or 0, seller.id or 0, AccessLevel.INCOME)
    a = await send(uow_factory, files, uploader.id or 0, upload(1, 1, "הכנסה"), images.png())
    b = await send(uow_factory, files, seller.id or 0, upload(1, 2, "הכנסה"), images.jpeg())
    assert isinstance(a, intake.Stored) and isinstance(b, intake.Stored)
    assert a.document.direction is Direction.EXPENSE  # an uploader may not file income
    assert b.document.direction is Direction.INCOME


async def test_a_person_in_no_organization_stores_nothing(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore
) -> None:
    stranger = await scenario.person(uow_factory, 5)
    plan = await send(uow_factory, files, stranger.id or 0, upload(1, 5), images.png())
    assert isinstance(plan, intake.UploadPlan)
    assert plan.outcome is intake.PlanOutcome.NO_ORGANIZATION
    assert not (files.root).exists()


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"", "file.empty"),
        (b"hello, this is not a picture", "file.unsupported"),
        (images.truncated_jpeg(), "file.corrupt"),
        (images.image_bomb(), "file.image_too_large"),
        (images.encrypted_pdf(), "file.pdf_encrypted"),
        (b"%PDF-1.7\n garbage garbage", "file.pdf_broken"),
    ],
    ids=["empty", "text", "truncated", "bomb", "encrypted", "broken-pdf"],
)
async def test_a_bad_file_is_refused_with_its_reason_and_nothing_is_kept(
    uow_factory: SqlUnitOfWorkFactory,
    files: DiskFileStore,
    client_id: int,
    data: bytes,
    key: str,
) -> None:
    with pytest.raises(FileRejected) as refused:
        await send(uow_factory, files, client_id, upload(3), data)
    assert refused.value.key == key
    async with uow_factory() as uow:
        assert await uow.documents.by_source("telegram", 1001, 3) is None
