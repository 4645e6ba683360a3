"""The reading queue on SQLite and PostgreSQL: fair across organizations, and a job whose
worker dies on every attempt ends with the accountant instead of looping."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core import intake, reading_jobs
from core.domain import DocumentState, JobState
from storage.files import DiskFileStore
from storage.uow import SqlUnitOfWorkFactory
from tests import images, scenario

LEASE = timedelta(seconds=30)


async def documents_of(
    uow_factory: SqlUnitOfWorkFactory,
    files: DiskFileStore,
    office_id: int,
    name: str,
    external_id: int,
    count: int,
) -> list[int]:
    """`count` photos sent by one client of a new organization; their document ids."""
    org = await scenario.organization(uow_factory, office_id, name=name, business_number=None)
    person = await scenario.person(uow_factory, external_id, name=name)
    await scenario.client(uow_factory, org.id or 0, person.id or 0)
    ids = []
    for n in range(count):
        async with uow_factory() as uow:
            me = await uow.people.get(person.id or 0)
            assert me is not None
            up = intake.Upload(
                "telegram", external_id, n, f"f{n}", f"u{n}", None, "image/png", None
            )
            plan = await intake.plan_upload(uow, me, up, scenario.NOW)
            stored = await intake.store_upload(
                uow,
                files,
                person=me,
                upload=up,
                data=images.png(64, 32, label=f"{name} {n}"),
                plan=plan,
                batch=f"{external_id}-{n}",
                now=scenario.NOW,
            )
            ids.append(stored.document.id or 0)
    return ids


async def claim(uow_factory: SqlUnitOfWorkFactory, worker: str, minutes: float = 0):
    async with uow_factory() as uow:
        return await reading_jobs.claim_reading(
            uow,
            worker=worker,
            now=scenario.NOW + timedelta(minutes=minutes),
            lease=LEASE,
            kinds=[intake.READ_JOB],
        )


async def test_one_client_flooding_the_queue_does_not_hold_up_other_organizations(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore
) -> None:
    office = await scenario.office(uow_factory)
    flood = await documents_of(uow_factory, files, office.id or 0, "Flood", 501, 30)
    calm = await documents_of(uow_factory, files, office.id or 0, "Calm", 502, 2)
    late = await documents_of(uow_factory, files, office.id or 0, "Late", 503, 1)
    # One worker taking and finishing one job at a time.
    order = []
    for _ in range(8):
        job, _ = await claim(uow_factory, "w", minutes=1)
        assert job is not None and job.document_id is not None
        order.append(job.document_id)
        async with uow_factory() as uow:
            assert await uow.jobs.complete(job.id or 0, worker="w", now=scenario.NOW)
            await uow.commit()
    # Round robin: each organization's n-th photo before anyone's (n+1)-th.
    assert order[:3] == [flood[0], calm[0], late[0]]
    assert order[3:5] == [flood[1], calm[1]]
    assert order[5:] == flood[2:5]


async def test_parallel_claims_take_different_jobs_fairly(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore
) -> None:
    office = await scenario.office(uow_factory)
    flood = await documents_of(uow_factory, files, office.id or 0, "Flood", 511, 12)
    others = [
        (await documents_of(uow_factory, files, office.id or 0, f"Org{n}", 520 + n, 1))[0]
        for n in range(3)
    ]
    claimed = await asyncio.gather(*(claim(uow_factory, f"w{n}", 1) for n in range(4)))
    taken = [job.document_id for job, _ in claimed if job is not None]
    assert len(taken) == 4 and len(set(taken)) == 4  # never the same job twice
    assert sorted(taken) == sorted([flood[0], *others])


async def test_a_job_whose_worker_dies_on_every_attempt_ends_in_needs_manual(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore
) -> None:
    office = await scenario.office(uow_factory)
    [document_id] = await documents_of(uow_factory, files, office.id or 0, "Doomed", 531, 1)
    minutes = 0.0
    for attempt in range(1, 6):
        # A worker takes the job and dies with it (killed, out of memory): the lease runs out.
        job, given_up = await claim(uow_factory, f"dies-{attempt}", minutes)
        assert job is not None and job.attempts == attempt and given_up == []
        minutes += 1
    job, given_up = await claim(uow_factory, "next", minutes)
    assert job is None
    assert [d.id for d in given_up] == [document_id]
    async with uow_factory() as uow:
        document = await uow.documents.get(document_id)
        assert document is not None and document.state is DocumentState.NEEDS_MANUAL
        [job] = await uow.jobs.for_document(document_id)
        assert job.state is JobState.FAILED and job.attempts == 5
        assert job.last_error == reading_jobs.DIED_EVERY_TIME
    # And it stays given up: no worker takes it again.
    job, given_up = await claim(uow_factory, "later", minutes + 60)
    assert job is None and given_up == []
