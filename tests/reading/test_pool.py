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
