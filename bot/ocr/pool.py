"""A process pool for reading documents off the event loop.

pool = build_pool()
reading = await loop.run_in_executor(pool, read_in_worker, data, mime, today.isoformat())
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from core.reading.result import Reading

_engine = None


def _init_worker() -> None:
    # Tesseract's OpenMP threads fight each other across processes: one thread each.
    os.environ["OMP_THREAD_LIMIT"] = "1"


def build_pool(workers: int | None = None) -> ProcessPoolExecutor:
    count = workers or os.cpu_count() or 1
    # "spawn" keeps the bot's event loop and sockets out of the children.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_init_worker)


def read_in_worker(data: bytes, mime: str, today_iso: str) -> Reading:
    global _engine
    if _engine is None:
        from bot.ocr.tesseract import TesseractEngine

        _engine = TesseractEngine()
    from core.reading.reader import read_document

    return read_document(data, mime, engine=_engine, today=date.fromisoformat(today_iso))
