"""The reading worker: claims jobs from the database queue, reads off the event loop.

Runs inside the bot process by default, or alone as `tayuk worker`. A worker killed in the
middle of a job loses nothing: its lease runs out and another worker takes the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core import reading_jobs
from core.intake import READ_JOB
from core.ports import Clock, FileStore
from core.reading.result import FieldReading, Reading
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
Reader = Callable[[bytes, str, str], Reading]
Announce = Callable[[reading_jobs.Applied], Any]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()):x}"


def merge_pages(readings: list[Reading]) -> Reading:
    """One document over several files: per field, the page that read it most surely."""
    first = readings[0]
    if len(readings) == 1:
        return first
    fields: dict[str, FieldReading] = {}
    for reading in readings:
        for name, value in reading.fields.items():
            best = fields.get(name)
            if best is None or (
                value.value is not None
                and (best.value is None or value.confidence > best.confidence)
            ):
                fields[name] = value
    best_kind = max(readings, key=lambda r: r.kind_confidence)
    return Reading(
        kind=best_kind.kind,
        kind_confidence=best_kind.kind_confidence,
        fields=fields,
        problems=[p for p in first.problems if all(p in r.problems for r in readings)],
        text="\n\f\n".join(r.text for r in readings),
        pages=sum(r.pages for r in readings),
        seconds=sum(r.seconds for r in readings),
        steps=first.steps,
    )


@dataclass
class Worker:
    uow_factory: SqlUnitOfWorkFactory
    files: FileStore
    clock: Clock
    executor: Executor
    reader: Reader
    announce: Announce | None = None
    lease: timedelta = timedelta(minutes=5)
    idle_sleep: float = 0.5
    name: str = field(default_factory=worker_name)

    async def run_once(self) -> bool:
        """Takes and finishes one job; False when the queue had nothing runnable."""
        async with self.uow_factory() as uow:
            job = await uow.jobs.claim(
                worker=self.name, now=self.clock.now(), lease=self.lease, kinds=[READ_JOB]
            )
            await uow.commit()
        if job is None:
            return False
        try:
            reading = await self._read(job.document_id)
        except Exception as error:
            log.warning("job %s attempt %s failed: %s", job.id, job.attempts, error)
            async with self.uow_factory() as uow:
                await reading_jobs.fail_reading(
                    uow,
                    job,
                    f"{type(error).__name__}: {error}",
                    worker=self.name,
                    now=self.clock.now(),
                )
            return True
        async with self.uow_factory() as uow:
            applied = await reading_jobs.apply_reading(
                uow, job, reading, worker=self.name, now=self.clock.now()
            )
        if self.announce is not None and applied.outcome in (
            reading_jobs.ReadOutcome.TO_FILE,
            reading_jobs.ReadOutcome.RETAKE,
        ):
            try:
                await self.announce(applied)
            except Exception:
                log.exception("could not tell the client what was read")
        return True

    async def _read(self, document_id: int | None) -> Reading:
        assert document_id is not None
        async with self.uow_factory() as uow:
            stored = await uow.documents.files(document_id)
        if not stored:
            raise LookupError(f"document {document_id} has no files")
        today = self.clock.now().date().isoformat()
        loop = asyncio.get_running_loop()
        readings = []
        for page in stored:
            data = await self.files.get(page.sha256)
            readings.append(
                await loop.run_in_executor(self.executor, self.reader, data, page.mime_type, today)
            )
        return merge_pages(readings)

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker loop error")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle_sleep)


def start_worker(app: Any) -> asyncio.Task[None]:
    """The in-process worker: one loop per pool process, all sharing the pool."""
    from bot.ocr.pool import build_pool, read_in_worker
    from handlers.reading_notice import announcer

    processes = app.settings.worker.processes or os.cpu_count() or 1
    pool = build_pool(processes)

    async def run_all() -> None:
        workers = [
            Worker(
                app.uow_factory,
                app.files,
                app.clock,
                pool,
                read_in_worker,
                announce=announcer(app.bot, app.uow_factory),
                lease=timedelta(seconds=app.settings.worker.lease_seconds),
            )
            for _ in range(processes)
        ]
        try:
            await asyncio.gather(*(w.run_forever() for w in workers))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    return asyncio.create_task(run_all(), name="worker")
