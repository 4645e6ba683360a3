"""The reading worker: claims jobs from the database queue, reads off the event loop.

Runs inside the bot process by default, or alone as `tayuk worker`. A worker killed in the
middle of a job loses nothing: its lease runs out and another worker takes the job. So with
the client's notice of a reading: it is a job written with the reading, held by the worker
that read it, which sends it; killed before that, another worker sends it once the lease
runs out. Killed after the send and before the notice is marked done, it is sent again:
Telegram's sendMessage has no idempotency key, so that window cannot be closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot import metrics
from bot.ocr.pool import kill_processes
from core import reading_jobs
from core.intake import READ_JOB
from core.ports import Clock, FileStore
from core.reading.result import FieldReading, Reading
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
Reader = Callable[[bytes, str, str], Reading]
Announce = Callable[[reading_jobs.Applied], Any]
NOTICES_LOOK_S = 5.0  # how often a worker looks for notices a dead worker left unsent


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
        pages_skipped=sum(r.pages_skipped for r in readings),
        seconds=sum(r.seconds for r in readings),
        steps=first.steps,
    )


class ReadingFailed(Exception):
    """The reading process died or ran out of time: the pool was rebuilt, the job retries."""


@dataclass
class ReadingHealth:
    """Whether the workers can read: /health/ready says 503 while any cannot."""

    broken: dict[str, str] = field(default_factory=dict)  # worker name: why

    @property
    def ok(self) -> bool:
        return not self.broken


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
    # A new executor when the old one broke (a reading process was killed or timed out);
    # None: a broken executor stays broken and the worker reports it.
    rebuild: Callable[[], Executor] | None = None
    job_seconds: float | None = None  # a job (all its files) still reading after this is killed
    health: ReadingHealth = field(default_factory=ReadingHealth)
    retry_pool_after: float = 5.0  # seconds between attempts to start a pool that failed
    _broken_since: float | None = field(default=None, init=False)
    _look_for_notices_at: float = field(default=0.0, init=False)

    async def run_once(self) -> bool:
        """Takes and finishes one job; False when the queue had nothing runnable."""
        if self.announce is not None and time.monotonic() >= self._look_for_notices_at:
            # Left by a dead worker, a notice waits out its lease (minutes): a look every
            # few seconds is soon enough, and spares the queue a query per job.
            self._look_for_notices_at = time.monotonic() + NOTICES_LOOK_S
            async with self.uow_factory() as uow:
                left = await reading_jobs.claim_announcement(
                    uow, worker=self.name, now=self.clock.now(), lease=self.lease
                )
            if left is not None:  # its worker died before sending it
                self._look_for_notices_at = 0.0  # maybe more: look again at once
                await self._announce(left)
                return True
        if self._broken_since is not None and not await self._restore():
            return False
        async with self.uow_factory() as uow:
            job, given_up = await reading_jobs.claim_reading(
                uow, worker=self.name, now=self.clock.now(), lease=self.lease, kinds=[READ_JOB]
            )
        for document in given_up:
            log.warning(
                "document %s: reading given up, it broke its reader every time", document.id
            )
        if job is None:
            return bool(given_up)
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
                uow,
                job,
                reading,
                worker=self.name,
                now=self.clock.now(),
                announce_lease=None if self.announce is None else self.lease,
            )
        if applied.announcement is not None:
            await self._announce(applied)
        return True

    async def _announce(self, applied: reading_jobs.Applied) -> None:
        """Tells the client, then marks the notice done (a kill before that: sent again)."""
        assert self.announce is not None
        error = None
        try:
            await self.announce(applied)
        except Exception as failed:
            # Not tried again: part of it may have gone out.
            log.exception("could not tell the client what was read")
            error = f"{type(failed).__name__}: {failed}"
        async with self.uow_factory() as uow:
            await reading_jobs.announced(
                uow, applied, worker=self.name, now=self.clock.now(), error=error
            )

    async def _read(self, document_id: int | None) -> Reading:
        assert document_id is not None
        async with self.uow_factory() as uow:
            stored = await uow.documents.files(document_id)
        if not stored:
            raise LookupError(f"document {document_id} has no files")
        today = self.clock.now().date().isoformat()
        loop = asyncio.get_running_loop()
        readings = []
        # One limit for the whole job (all its files): it must end well within the lease.
        deadline = None if self.job_seconds is None else loop.time() + self.job_seconds
        for page in stored:
            data = await self.files.get(page.sha256)
            running = loop.run_in_executor(self.executor, self.reader, data, page.mime_type, today)
            try:
                async with asyncio.timeout_at(deadline):
                    readings.append(await running)
                read = readings[-1]
                if read.pages:
                    for _ in range(read.pages):
                        metrics.OCR_PAGE_SECONDS.observe(read.seconds / read.pages)
            except BrokenProcessPool as error:
                await self._replace(kill=False)
                raise ReadingFailed(f"the reading process died: {error}") from error
            except TimeoutError as error:
                await self._replace(kill=True)
                raise ReadingFailed(f"no reading after {self.job_seconds} s") from error
        return merge_pages(readings)

    async def _replace(self, *, kill: bool) -> None:
        """Throws the broken or stuck executor away and starts a new one."""
        old = self.executor
        if kill and isinstance(old, ProcessPoolExecutor):
            kill_processes(old)
        old.shutdown(wait=False, cancel_futures=True)
        self._broken_since = time.monotonic() - self.retry_pool_after
        self.health.broken[self.name] = "the reading process died"
        await self._restore()

    async def _restore(self) -> bool:
        """A new executor that has been seen to run a call; False (and unhealthy) if not."""
        assert self._broken_since is not None
        if self.rebuild is None:
            return False
        if time.monotonic() - self._broken_since < self.retry_pool_after:
            return False
        executor: Executor | None = None
        try:
            executor = self.rebuild()
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(120):
                await loop.run_in_executor(executor, os.getpid)
        except Exception as error:
            if isinstance(executor, ProcessPoolExecutor):
                kill_processes(executor)
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
            log.error("worker %s cannot start a reading process: %s", self.name, error)
            self.health.broken[self.name] = f"cannot start a reading process: {error}"
            self._broken_since = time.monotonic()
            return False
        self.executor = executor
        self._broken_since = None
        self.health.broken.pop(self.name, None)
        log.info("worker %s: reading process replaced", self.name)
        return True

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
                    async with asyncio.timeout(self.idle_sleep):
                        await stop.wait()


def start_worker(app: Any) -> asyncio.Task[None]:
    """The in-process worker: one loop per reading process, each with a pool of its own, so
    a process that dies or hangs costs only its own job."""
    from bot.ocr.pool import build_pool, read_in_worker
    from handlers.reading_notice import announcer

    processes = app.settings.worker.processes or os.cpu_count() or 1
    ocr = app.settings.ocr
    limits = ocr.read_limits()

    def make_pool() -> Executor:
        return build_pool(
            1, memory_bytes=ocr.memory_mb * 2**20 or None, limits=limits, nice=ocr.nice
        )

    health: ReadingHealth = app.reading_health
    lease = app.settings.worker.lease_seconds
    # A read must end before its lease does, or a second worker would start it again.
    job_seconds = min(ocr.job_seconds or lease, lease * 0.8)
    workers = [
        Worker(
            app.uow_factory,
            app.files,
            app.clock,
            make_pool(),
            read_in_worker,
            announce=announcer(app.bot, app.uow_factory, app.outbox),
            lease=timedelta(seconds=lease),
            rebuild=make_pool,
            job_seconds=job_seconds,
            health=health,
        )
        for _ in range(processes)
    ]

    async def run_all() -> None:
        try:
            await asyncio.gather(*(w.run_forever() for w in workers))
        finally:
            for w in workers:
                w.executor.shutdown(wait=False, cancel_futures=True)

    return asyncio.create_task(run_all(), name="worker")
