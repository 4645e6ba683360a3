"""A reading process that is killed, hangs or dies on a file: the worker replaces it, the job
counts the attempt, and readiness says when no reading process can be started."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures import Executor
from datetime import timedelta
from pathlib import Path

import httpx

from bot.app import build_app
from bot.ocr.pool import build_pool, child_pids, read_in_worker
from bot.web import build_web
from bot.worker import Worker
from core.domain import Document, DocumentState, Job, JobState
from core.reading import Reading
from storage.files import DiskFileStore
from storage.uow import SqlUnitOfWorkFactory
from tests import images
from tests.e2e import harness
from tests.storage.test_worker import Clock, queued_document


def _slow(data: bytes, mime: str, today: str) -> Reading:
    time.sleep(60)
    raise AssertionError("should have been stopped")


def _die(data: bytes, mime: str, today: str) -> Reading:
    os._exit(1)  # as a crash in a C library would


def _worker(
    uow_factory: SqlUnitOfWorkFactory,
    files: DiskFileStore,
    clock: Clock,
    reader: object,
    **kwargs: object,
) -> Worker:
    return Worker(
        uow_factory,
        files,
        clock,
        build_pool(1),
        reader,  # type: ignore[arg-type]
        name="w",
        lease=timedelta(seconds=300),
        rebuild=lambda: build_pool(1),
        retry_pool_after=0.0,
        **kwargs,  # type: ignore[arg-type]
    )


async def _job(uow_factory: SqlUnitOfWorkFactory, document_id: int) -> tuple[Job, Document]:
    async with uow_factory() as uow:
        [job] = await uow.jobs.for_document(document_id)
        document = await uow.documents.get(document_id)
    assert document is not None
    return job, document


async def test_a_killed_reading_process_is_replaced_and_the_next_read_works(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore
) -> None:
    clock = Clock()
    document_id = await queued_document(uow_factory, files, images.english_receipt())
    worker = _worker(uow_factory, files, clock, _slow)
    first_pool = worker.executor
    try:
        running = asyncio.create_task(worker.run_once())
        for _ in range(300):
            pids = child_pids(first_pool)  # type: ignore[arg-type]
            job, _ = await _job(uow_factory, document_id)
            if pids and job.state is JobState.RUNNING:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the job never started")
        await asyncio.sleep(0.5)
        os.kill(pids[0], signal.SIGKILL)
        assert await asyncio.wait_for(running, 60)
        job, document = await _job(uow_factory, document_id)
        assert job.state is JobState.QUEUED and job.attempts == 1
        assert "died" in (job.last_error or "")
        assert document.state is DocumentState.RECEIVED
        assert worker.executor is not first_pool and worker.health.ok
        # The new process reads, with real Tesseract, once the backoff has passed.
        worker.reader = read_in_worker
        clock.moment += timedelta(seconds=11)
        assert await worker.run_once()
        job, document = await _job(uow_factory, document_id)
        assert job.state is JobState.DONE and job.attempts == 2
        assert document.state is DocumentState.TO_FILE
        assert document.fields["total"]["value"] == "118.00"
    finally:
        worker.executor.shutdown()


async def test_a_read_past_its_time_limit_is_killed_and_counts_an_attempt(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore
) -> None:
    clock = Clock()
    document_id = await queued_document(uow_factory, files, images.english_receipt())
    worker = _worker(uow_factory, files, clock, _slow, job_seconds=2.0)
    first_pool = worker.executor
    try:
        started = time.monotonic()
        running = asyncio.create_task(worker.run_once())
        old_pids: list[int] = []
        while not running.done():
            old_pids = old_pids or child_pids(first_pool)  # type: ignore[arg-type]
            await asyncio.sleep(0.05)
        assert await running
        assert time.monotonic() - started < 30 and old_pids
        job, _ = await _job(uow_factory, document_id)
        assert job.state is JobState.QUEUED and job.attempts == 1
        assert "no reading after 2.0 s" in (job.last_error or "")
        assert worker.executor is not first_pool and worker.health.ok
        for pid in old_pids:  # the stuck process is gone, not left running
            assert not _alive(pid)
    finally:
        worker.executor.shutdown()


def _alive(pid: int) -> bool:
    """Running, not gone and not a zombie waiting for its parent to collect it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def test_a_file_that_kills_its_reader_every_time_ends_in_needs_manual(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore
) -> None:
    clock = Clock()
    document_id = await queued_document(uow_factory, files, images.english_receipt())
    worker = _worker(uow_factory, files, clock, _die)
    try:
        for _ in range(5):
            assert await worker.run_once()
            clock.moment += timedelta(hours=1)
        assert not await worker.run_once()  # nothing left: no loop
        job, document = await _job(uow_factory, document_id)
        assert job.state is JobState.FAILED and job.attempts == 5
        assert document.state is DocumentState.NEEDS_MANUAL
        assert worker.health.ok
    finally:
        worker.executor.shutdown()


async def test_readiness_says_when_no_reading_process_can_be_started(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, database_url: str, tmp_path: Path
) -> None:
    clock = Clock()
    await queued_document(uow_factory, files, images.english_receipt())
    app = build_app(harness.test_settings(tmp_path, "http://127.0.0.1:9", database_url))

    def cannot_start() -> Executor:
        raise OSError("fork: Resource temporarily unavailable")

    worker = _worker(uow_factory, files, clock, _die, health=app.reading_health)
    worker.rebuild = cannot_start
    transport = httpx.ASGITransport(app=build_web(app))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://tayuk") as http:
            assert (await http.get("/health/ready")).status_code == 200
            assert await worker.run_once()  # the process dies and cannot be replaced
            answer = await http.get("/health/ready")
            assert answer.status_code == 503
            assert answer.json() == {"status": "reading unavailable"}
            assert not await worker.run_once()  # takes no job it cannot read
            worker.rebuild = lambda: build_pool(1)
            assert not await worker.run_once()  # restored; the job waits for its backoff
            assert (await http.get("/health/ready")).status_code == 200
    finally:
        worker.executor.shutdown()
        await app.close()
