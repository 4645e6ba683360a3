"""Small files that would cost a reader gigabytes are scaled, refused or cut short, and a
reading process stays within its memory limit (real Pillow, pdfium, Tesseract, processes)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.ocr.pool import build_pool, child_pids, read_in_worker
from core.reading import imaging, pdf
from core.reading.pipeline import ReadLimits
from core.reading.reader import read_document
from core.reading.result import TOO_LARGE
from tests import hostile_files

LIMITS = ReadLimits()
GB = 2**30


def test_a_giant_pdf_page_is_rendered_within_the_pixel_limit() -> None:
    data = hostile_files.giant_page_pdf(5000)
    assert len(data) < 600  # the 529-byte PDF of the report
    pages, total = pdf.read_pages(pdf.open_pdf(data), LIMITS)
    assert total == 1
    width, height = pages[0].image.size  # type: ignore[union-attr]
    # 13889 x 13889 at 200 DPI; scaled, not refused.
    assert width * height <= LIMITS.max_page_pixels and width > 3000


def test_pdf_pages_over_the_limit_are_counted_and_share_a_pixel_budget() -> None:
    pages, total = pdf.read_pages(pdf.open_pdf(hostile_files.many_pages_pdf(12)), LIMITS)
    assert (len(pages), total) == (10, 12)
    assert sum(p.image.width * p.image.height for p in pages) <= LIMITS.max_document_pixels  # type: ignore[union-attr]


def test_tiff_frames_over_the_limit_are_counted() -> None:
    limits = ReadLimits(max_document_pixels=1_000_000)
    images, total = imaging.load_pages(hostile_files.multipage_tiff(12, (400, 500)), limits)
    assert (len(images), total) == (10, 12)
    assert all(image.width * image.height <= 100_000 for image in images)


def test_a_decompression_bomb_under_pillows_own_limit_is_refused_before_decoding() -> None:
    # 8000 x 8000 = 64 Mpx passes Pillow's 89 Mpx check and would decode to 192 MB of RGB.
    with pytest.raises(imaging.ImageTooLarge):
        imaging.load_pages(hostile_files.bomb_png(8000), LIMITS)


def test_a_huge_jpeg_is_decoded_at_a_reduced_scale() -> None:
    # 7000 x 7000 = 49 Mpx: over the picture limit at full size, fine decoded at 1/2.
    [image], total = imaging.load_pages(hostile_files.big_jpeg(7000), LIMITS)
    assert total == 1 and max(image.size) <= imaging.MAX_SIDE


def test_a_tiff_over_the_page_limit_is_read_in_part_and_says_so() -> None:
    from datetime import date

    from bot.ocr.tesseract import TesseractEngine

    reading = read_document(
        hostile_files.multipage_tiff(3, (850, 1100)),
        "image/tiff",
        engine=TesseractEngine(),
        today=date(2026, 3, 1),
        limits=ReadLimits(max_pages=2),
    )
    assert (reading.pages, reading.pages_skipped) == (2, 1)
    assert "PAGE 2" in reading.text and "PAGE 3" not in reading.text


def test_a_bomb_is_a_problem_of_the_reading_not_a_crash() -> None:
    from datetime import date

    from bot.ocr.tesseract import TesseractEngine

    reading = read_document(
        hostile_files.bomb_png(8000), "image/png", engine=TesseractEngine(), today=date(2026, 3, 1)
    )
    assert reading.problems == [TOO_LARGE]


def _hog(size: int) -> int:
    return len(bytearray(size))


def _peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


async def test_a_reading_process_reads_the_giant_page_in_bounded_memory() -> None:
    pool = build_pool(1, memory_bytes=int(1.5 * GB))
    loop = asyncio.get_running_loop()
    try:
        reading = await loop.run_in_executor(
            pool,
            read_in_worker,
            hostile_files.giant_page_pdf(5000),
            "application/pdf",
            "2026-03-01",
        )
        assert reading.pages == 1
        [pid] = child_pids(pool)
        # 2.1 GB before the pixel limit; a receipt read costs about 350 MB.
        assert _peak_kb(pid) < 700 * 1024
        # Past the address-space limit an allocation fails in the child instead of growing:
        # the job gets a MemoryError and the same process lives on.
        with pytest.raises(MemoryError):
            await loop.run_in_executor(pool, _hog, 2 * GB)
        assert await loop.run_in_executor(pool, os.getpid) == pid
    finally:
        pool.shutdown()
