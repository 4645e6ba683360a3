"""A `tayuk worker` process killed in the middle of a job loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from bot.ocr.pool import build_pool, read_in_worker
from bot.worker import Worker
from core.clock import SystemClock
from core.domain import DocumentState, JobState
from storage.files import DiskFileStore
from storage.uow import SqlUnitOfWorkFactory
from tests import images
from tests.storage.test_worker import queued_document, reads_of


async def test_a_killed_worker_process_loses_nothing_and_the_document_is_read_once(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, database_url: str, tmp_path: Path
) -> None:
    document_id = await queued_document(uow_factory, files, images.english_receipt())
    env = os.environ | {
        "TAYUK_DATABASE_URL": database_url,
        "TAYUK_DATA_DIR": str(files.root.parent),
        "TAYUK_TELEGRAM_TOKEN": "1:unused",
        "TAYUK_TELEGRAM_API_URL": "http://127.0.0.1:9",  # nothing is sent: no one listens
        "TAYUK_WORKER_PROCESSES": "1",
        "TAYUK_WORKER_LEASE_SECONDS": "2",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "worker",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        # Kill it as soon as it holds the job, before it can finish reading.
        for _ in range(1500):
            async with uow_factory() as uow:
                [job] = await uow.jobs.for_document(document_id)
            if job.state is JobState.RUNNING:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the worker process never took the job")
        process.send_signal(signal.SIGKILL)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    async with uow_factory() as uow:
        document = await uow.documents.get(document_id)
        assert document is not None and document.state is DocumentState.RECEIVED
    assert await reads_of(uow_factory, document_id) == 0

    pool = build_pool(1)
    try:
        survivor = Worker(
            uow_factory,
            files,
            SystemClock(),
            pool,
            read_in_worker,
            name="survivor",
            lease=timedelta(seconds=30),
            idle_sleep=0.1,
        )
        for _ in range(100):  # the dead worker's two-second lease runs out
            if await survivor.run_once():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the job was never taken over")
    finally:
        pool.shutdown()
    async with uow_factory() as uow:
        document = await uow.documents.get(document_id)
        assert document is not None and document.state is DocumentState.TO_FILE
        [job] = await uow.jobs.for_document(document_id)
        assert job.state is JobState.DONE and job.attempts == 2
        assert job.leased_by == "survivor"
    assert await reads_of(uow_factory, document_id) == 1
