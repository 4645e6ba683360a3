"""The reading worker over the real queue, the real process pool and the real Tesseract."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.ocr.pool import build_pool, read_in_worker
from bot.worker import Worker
from core import intake, reading_jobs
from core.domain import DocumentState, JobState
from core.reading import Reading
from storage.files import DiskFileStore
from storage.uow import SqlUnitOfWorkFactory
from tests import images, scenario


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    executor = build_pool(2)
    yield executor
    executor.shutdown()


async def queued_document(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, data: bytes
) -> int:
    office = await scenario.office(uow_factory)
    org = await scenario.organization(uow_factory, office.id or 0)
    person = await scenario.person(uow_factory, 42)
    await scenario.client(uow_factory, org.id or 0, person.id or 0)
    async with uow_factory() as uow:
        me = await uow.people.get(person.id or 0)
        assert me is not None
        up = intake.Upload("telegram", 42, 1, "f", "u", None, "image/png", None)
        plan = await intake.plan_upload(uow, me, up, scenario.NOW)
        stored = await intake.store_upload(
            uow, files, person=me, upload=up, data=data, plan=plan, batch="b", now=scenario.NOW
        )
    return stored.document.id or 0


def worker(
    uow_factory: SqlUnitOfWorkFactory,
    files: DiskFileStore,
    clock: Clock,
    pool: ProcessPoolExecutor,
    name: str,
    **kwargs: object,
) -> Worker:
    return Worker(
        uow_factory,
        files,
        clock,
        pool,
        read_in_worker,
        name=name,
        lease=timedelta(seconds=30),
        **kwargs,
    )  # type: ignore[arg-type]


async def reads_of(uow_factory: SqlUnitOfWorkFactory, document_id: int) -> int:
    from sqlalchemy import func, select

    from storage import tables

    async with uow_factory() as uow:
        assert uow.session is not None
        return int(
            await uow.session.scalar(
                select(func.count()).where(
                    tables.audit_log.c.document_id == document_id,
                    tables.audit_log.c.action == "document.read",
                )
            )
            or 0
        )


async def test_a_queued_receipt_is_read_and_waits_for_the_accountant(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, pool: ProcessPoolExecutor
) -> None:
    document_id = await queued_document(uow_factory, files, images.english_receipt())
    announced: list[reading_jobs.Applied] = []

    async def announce(applied: reading_jobs.Applied) -> None:
        announced.append(applied)

    assert await worker(uow_factory, files, Clock(), pool, "w1", announce=announce).run_once()
    async with uow_factory() as uow:
        document = await uow.documents.get(document_id)
        assert document is not None
        assert document.state is DocumentState.TO_FILE
        assert document.fields["total"]["value"] == "118.00"
        assert 0 < float(document.fields["total"]["confidence"]) <= 1
        [job] = await uow.jobs.for_document(document_id)
        assert job.state is JobState.DONE
    assert [a.outcome for a in announced] == [reading_jobs.ReadOutcome.TO_FILE]


async def test_a_worker_that_dies_mid_job_loses_nothing_and_the_document_is_read_once(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, pool: ProcessPoolExecutor
) -> None:
    clock = Clock()
    document_id = await queued_document(uow_factory, files, images.english_receipt())
    # The first worker claims the job and then dies before finishing it.
    async with uow_factory() as uow:
        dead_job = await uow.jobs.claim(
            worker="dead", now=clock.now(), lease=timedelta(seconds=30)
        )
        await uow.commit()
    assert dead_job is not None
    survivor = worker(uow_factory, files, clock, pool, "alive")
    assert not await survivor.run_once()  # the lease still holds
    clock.moment += timedelta(seconds=31)
    assert await survivor.run_once()
    # The dead worker's late result, had it come back, is refused.
    async with uow_factory() as uow:
        late = await reading_jobs.apply_reading(
            uow, dead_job, Reading.__new__(Reading), worker="dead", now=clock.now()
        )
    assert late.outcome is reading_jobs.ReadOutcome.LEASE_LOST
    assert await reads_of(uow_factory, document_id) == 1


async def test_reading_that_keeps_failing_ends_in_needs_manual_not_lost(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, pool: ProcessPoolExecutor
) -> None:
    clock = Clock()
    document_id = await queued_document(uow_factory, files, images.english_receipt())
    broken = Worker(
        uow_factory, files, clock, pool, _explode, name="w", lease=timedelta(seconds=30)
    )
    for _ in range(5):
        assert await broken.run_once()
        clock.moment += timedelta(hours=1)
    async with uow_factory() as uow:
        document = await uow.documents.get(document_id)
        assert document is not None and document.state is DocumentState.NEEDS_MANUAL
        [job] = await uow.jobs.for_document(document_id)
        assert job.state is JobState.FAILED and job.attempts == 5
        assert "boom" in (job.last_error or "")


def _explode(data: bytes, mime: str, today: str) -> Reading:
    raise RuntimeError("boom")


async def test_two_workers_on_one_queue_never_take_the_same_job(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, pool: ProcessPoolExecutor
) -> None:
    clock = Clock()
    office = await scenario.office(uow_factory)
    org = await scenario.organization(uow_factory, office.id or 0)
    person = await scenario.person(uow_factory, 7)
    await scenario.client(uow_factory, org.id or 0, person.id or 0)
    ids = []
    for n in range(6):
        async with uow_factory() as uow:
            me = await uow.people.get(person.id or 0)
            assert me is not None
            up = intake.Upload("telegram", 7, n, "f", "u", None, "image/png", None)
            plan = await intake.plan_upload(uow, me, up, scenario.NOW)
            stored = await intake.store_upload(
                uow,
                files,
                person=me,
                upload=up,
                data=images.english_receipt(total=f"{n}18.00"),
                plan=plan,
                batch=f"b{n}",
                now=scenario.NOW,
            )
            ids.append(stored.document.id or 0)
    a = worker(uow_factory, files, clock, pool, "a")
    b = worker(uow_factory, files, clock, pool, "b")

    async def drain(w: Worker) -> None:
        while await w.run_once():
            pass

    await asyncio.gather(drain(a), drain(b))
    for document_id in ids:
        assert await reads_of(uow_factory, document_id) == 1
    async with uow_factory() as uow:
        assert await uow.jobs.count(JobState.DONE) == 6
