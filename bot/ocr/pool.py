"""A process pool for reading documents off the event loop.

pool = build_pool()
reading = await loop.run_in_executor(pool, read_in_worker, data, mime, today.isoformat())
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import TYPE_CHECKING

from core.reading.result import Reading

if TYPE_CHECKING:
    from core.reading.ports import OcrEngine

log = logging.getLogger(__name__)

_engine = None
_latin: tuple[OcrEngine | None] | None = None


def _init_worker() -> None:
    # Tesseract's OpenMP threads fight each other across processes: one thread each.
    os.environ["OMP_THREAD_LIMIT"] = "1"


def build_pool(workers: int | None = None) -> ProcessPoolExecutor:
    count = workers or os.cpu_count() or 1
    # "spawn" keeps the bot's event loop and sockets out of the children.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_init_worker)


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
        log.warning("TAYUK_OCR_LATIN_ENGINE=rapidocr but rapidocr/onnxruntime is not "
                    "installed: Latin pages are read with Tesseract")
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

    return read_document(data, mime, engine=_engine, today=date.fromisoformat(today_iso),
                         latin_engine=_latin[0])
