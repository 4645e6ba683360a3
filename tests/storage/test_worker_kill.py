"""A `tayuk worker` process killed in the middle of a job loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
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


def _descendants(root: int) -> dict[int, str]:
    """Live processes below `root`: pid and command line."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat[0] != "Z":
            parents[int(entry.name)] = int(stat[1])
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                try:
                    found[pid] = (
                        Path(f"/proc/{pid}/cmdline")
                        .read_bytes()
                        .replace(b"\0", b" ")
                        .decode(errors="replace")
                    )
                except OSError:
                    continue
                frontier.append(pid)
    return found


def _running(pid: int, cmdline: str) -> bool:
    """The same process still there (not a zombie, not a new one with a reused pid)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        now = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return state != "Z" and now.decode(errors="replace") == cmdline


async def test_the_reading_processes_die_with_a_killed_worker(
    uow_factory: SqlUnitOfWorkFactory, files: DiskFileStore, database_url: str, tmp_path: Path
) -> None:
    await queued_document(uow_factory, files, images.english_receipt())
    env = os.environ | {
        "TAYUK_DATABASE_URL": database_url,
        "TAYUK_DATA_DIR": str(files.root.parent),
        "TAYUK_TELEGRAM_TOKEN": "1:unused",
        "TAYUK_TELEGRAM_API_URL": "http://127.0.0.1:9",
        "TAYUK_WORKER_PROCESSES": "2",
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
        # Wait until the reading process runs (it starts with the first job).
        for _ in range(600):
            readers = {
                pid: cmd for pid, cmd in _descendants(process.pid).items() if "spawn_main" in cmd
            }
            if readers:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the worker never started its reading processes")
        await asyncio.sleep(1.0)  # into the read (Tesseract running below it)
        tree = _descendants(process.pid)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        for _ in range(200):
            alive = {pid: cmd for pid, cmd in tree.items() if _running(pid, cmd)}
            if not alive:
                break
            await asyncio.sleep(0.1)
        for pid in alive:  # do not leave them behind even when the test fails
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        assert not alive, f"left behind: {alive}"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
