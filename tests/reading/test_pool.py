from __future__ import annotations

import asyncio
import pickle

from bot.ocr.pool import build_pool, read_in_worker
from core.domain import DocumentKind
from tests import receipt_factory as factory


async def test_worker_reads_in_a_process_pool_without_blocking_the_loop() -> None:
    pdf = factory.text_pdf(["ACME LTD", "Invoice No: 77", "Date: 05/03/2026", "Total $12.00"])
    pool = build_pool(1)
    try:
        loop = asyncio.get_running_loop()
        reading = await loop.run_in_executor(
            pool, read_in_worker, pdf, "application/pdf", "2026-03-20"
        )
    finally:
        pool.shutdown()
    assert reading.kind == DocumentKind.INVOICE
    assert reading.value("total") == "12.00"
    assert pickle.loads(pickle.dumps(reading)).value("date") == "2026-03-05"


def _niceness() -> int:
    import os

    return os.nice(0)


async def test_reading_processes_run_nicer_than_the_bot() -> None:
    """The bot's answers come first on a shared machine: readers take the CPU left (at
    niceness 7 here, or nicer if the test runs nicer)."""
    import os

    pool = build_pool(1, nice=7)
    try:
        loop = asyncio.get_running_loop()
        reader = await loop.run_in_executor(pool, _niceness)
        asked_less = await loop.run_in_executor(pool, _lowered_to, 3)
    finally:
        pool.shutdown()
    assert reader == max(os.nice(0), 7)
    assert asked_less == reader  # a priority is only ever lowered


def _lowered_to(nice: int) -> int:
    from bot.ocr.pool import lower_priority

    lower_priority(nice)
    return _niceness()
