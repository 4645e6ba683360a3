"""A process pool for reading documents off the event loop.

pool = build_pool()
reading = await loop.run_in_executor(pool, read_in_worker, data, mime, today.isoformat())

Each reading process is bounded: its address space (`RLIMIT_AS`, inherited by the Tesseract
it starts), the pages and pixels it renders (`ReadLimits`), and it dies with its parent
(`PR_SET_PDEATHSIG`), so a killed bot or worker leaves no 350 MB orphan waiting on a pipe.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import TYPE_CHECKING

from core.child_process import die_with_parent
from core.reading.pipeline import ReadLimits
from core.reading.result import Reading

if TYPE_CHECKING:
    from core.reading.ports import OcrEngine

log = logging.getLogger(__name__)

_engine = None
_latin: tuple[OcrEngine | None] | None = None
_limits = ReadLimits()


def lower_priority(nice: int) -> None:
    """This process at niceness `nice` (what it starts inherits it), unless nicer already:
    a priority is never raised (that takes privileges)."""
    if nice > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, nice)


def _init_worker(parent: int, memory_bytes: int | None, limits: ReadLimits, nice: int) -> None:
    global _limits
    # Tesseract's OpenMP threads fight each other across processes: one thread each.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    die_with_parent(parent)
    lower_priority(nice)  # inherited by the Tesseract it starts
    if memory_bytes:
        # Past this, allocation fails (MemoryError, the job fails) instead of the machine
        # swapping; Tesseract started from here inherits the same limit.
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    _limits = limits


def build_pool(
    workers: int | None = None,
    *,
    memory_bytes: int | None = None,
    limits: ReadLimits | None = None,
    nice: int = 0,
) -> ProcessPoolExecutor:
    count = workers or os.cpu_count() or 1
    # "spawn" keeps the bot's event loop and sockets out of the children.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=count,
        mp_context=context,
        initializer=_init_worker,
        initargs=(os.getpid(), memory_bytes, limits or ReadLimits(), nice),
    )


def kill_processes(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's processes at once (a read past its time limit cannot be cancelled)."""
    # ProcessPoolExecutor has no public way before Python 3.14 (terminate_workers).
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError):
            process.kill()


def child_pids(pool: ProcessPoolExecutor) -> list[int]:
    return [p.pid for p in (getattr(pool, "_processes", None) or {}).values() if p.pid]


def latin_engine(choice: str | None = None) -> OcrEngine | None:
    """The engine for pages the script probe finds Latin (`TAYUK_OCR_LATIN_ENGINE`), or None
    for Tesseract. RapidOCR's models load on its first read, not here."""
    if choice is None:
        from bot.settings import OcrSettings

        choice = OcrSettings().latin_engine
    if choice != "rapidocr":
        return None
    from bot.ocr import rapid

    if not rapid.available():
        log.warning(
            "TAYUK_OCR_LATIN_ENGINE=rapidocr but rapidocr/onnxruntime is not "
            "installed: Latin pages are read with Tesseract"
        )
        return None
    return rapid.RapidOcrEngine(threads=1)


def read_in_worker(data: bytes, mime: str, today_iso: str) -> Reading:
    global _engine, _latin
    if _engine is None:
        from bot.ocr.tesseract import TesseractEngine

        _engine = TesseractEngine()
    if _latin is None:
        _latin = (latin_engine(),)
    from core.reading.reader import read_document

    return read_document(
        data,
        mime,
        engine=_engine,
        today=date.fromisoformat(today_iso),
        latin_engine=_latin[0],
        limits=_limits,
        photo_engine=_engine.for_photo_pages(),
    )
