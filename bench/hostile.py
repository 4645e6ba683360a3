"""Hostile files through the real reading process pool: peak memory and time per input.

    .venv/bin/python bench/hostile.py [--tiff-pages 200] [--unbounded]

Each input is read by a fresh reading process (bounded as `tayuk worker` bounds it: the
TAYUK_OCR_* settings) after one ordinary receipt, so the process's VmHWM is the larger of
an ordinary read and the hostile one. Tesseract runs as a child of the reading process: its
peak resident size is sampled while the read runs. `--unbounded` lifts the pixel and memory
limits (what the issue measured: 2.1 GB for the giant page). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.ocr.pool import build_pool, child_pids, read_in_worker  # noqa: E402
from bot.settings import OcrSettings  # noqa: E402
from core.reading.pipeline import ReadLimits  # noqa: E402
from tests import hostile_files, images  # noqa: E402

MB = 2**20


def inputs(tiff_pages: int) -> list[tuple[str, str, Callable[[], bytes]]]:
    return [
        ("receipt.png (ordinary)", "image/png", images.english_receipt),
        ("giant-page.pdf 5000x5000 pt", "application/pdf", hostile_files.giant_page_pdf),
        (
            "giant-page.pdf 14400x14400 pt",
            "application/pdf",
            lambda: hostile_files.giant_page_pdf(14400),
        ),
        ("60-page.pdf", "application/pdf", lambda: hostile_files.many_pages_pdf(60)),
        ("bomb.png 20000x20000", "image/png", hostile_files.bomb_png),
        ("bomb.png 8000x8000", "image/png", lambda: hostile_files.bomb_png(8000)),
        ("big.jpeg 5000x5000", "image/jpeg", hostile_files.big_jpeg),
        ("big.jpeg 9000x9000", "image/jpeg", lambda: hostile_files.big_jpeg(9000)),
        (
            f"{tiff_pages}-page.tiff",
            "image/tiff",
            lambda: hostile_files.multipage_tiff(tiff_pages),
        ),
    ]


def _status(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in task.read_text().split()]
    return found


async def measure(
    name: str, mime: str, data: bytes, memory: int | None, limits: ReadLimits
) -> dict[str, object]:
    pool = build_pool(1, memory_bytes=memory, limits=limits)
    loop = asyncio.get_running_loop()
    try:
        # The ordinary read first: engines loaded, the baseline peak reached.
        await loop.run_in_executor(
            pool, read_in_worker, images.english_receipt(), "image/png", "2026-03-01"
        )
        [pid] = child_pids(pool)
        baseline = _status(pid, "VmHWM")
        started = time.perf_counter()
        running = loop.run_in_executor(pool, read_in_worker, data, mime, "2026-03-01")
        tesseract_peak = 0
        while not running.done():
            for child in _children(pid):
                tesseract_peak = max(tesseract_peak, _status(child, "VmRSS"))
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
        try:
            reading = running.result()
            outcome = (
                f"read {reading.pages} page(s), {reading.pages_skipped} not read; "
                f"problems {reading.problems or '-'}"
            )
        except Exception as error:
            outcome = f"failed: {type(error).__name__}: {str(error)[:80]}"
        peak = _status(pid, "VmHWM") if pid in child_pids(pool) else 0
        return {
            "input": name,
            "bytes": len(data),
            "seconds": round(seconds, 2),
            "worker_peak_mb": round(peak / MB),
            "baseline_peak_mb": round(baseline / MB),
            "tesseract_peak_mb": round(tesseract_peak / MB),
            "outcome": outcome,
        }
    finally:
        pool.shutdown()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiff-pages", type=int, default=200)
    parser.add_argument(
        "--unbounded",
        action="store_true",
        help="no pixel or memory limits (needs about 3 GB free)",
    )
    parser.add_argument("--only", help="inputs whose name contains this")
    args = parser.parse_args()
    settings = OcrSettings()
    if args.unbounded:
        memory = None
        limits = ReadLimits(
            max_pages=settings.max_pages,
            max_page_pixels=10**12,
            max_document_pixels=10**12,
            max_image_pixels=10**12,
        )
    else:
        memory = settings.memory_mb * MB or None
        limits = settings.read_limits()
    print(
        f"limits: {limits}, RLIMIT_AS {memory and memory // MB} MB, "
        f"latin engine {settings.latin_engine}"
    )
    rows = []
    for name, mime, make in inputs(args.tiff_pages):
        if args.only and args.only not in name:
            continue
        data = make()
        row = await measure(name, mime, data, memory, limits)
        rows.append(row)
        print(
            f"{name:32} {row['bytes']:>9} B  {row['seconds']:>6} s  "
            f"worker peak {row['worker_peak_mb']:>5} MB (ordinary {row['baseline_peak_mb']})"
            f"  tesseract {row['tesseract_peak_mb']:>4} MB  {row['outcome']}",
            flush=True,
        )
    worst = max((r["worker_peak_mb"] for r in rows), default=0)
    print(
        json.dumps(
            {
                "bench": "hostile",
                "unbounded": args.unbounded,
                "memory_limit_mb": memory and memory // MB,
                "max_page_pixels": limits.max_page_pixels,
                "worst_worker_peak_mb": worst,
                "inputs": rows,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
