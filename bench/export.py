"""Export benchmark: N filed documents of one organization and period, in every format.

    .venv/bin/python bench/export.py [--documents 10000]

Documents are made on the fly and turned into book entries as each writer reads them, so
the writers' memory is all that grows. Time is measured without tracing; the peak memory
(tracemalloc) in a second run, at N and at N/10 to show it does not follow N. The last line
is JSON: {"documents": N, "formats": {"csv": {"s": ..., "peak_mb": ...}, ...}}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.books import movein, openfrmt, pcn874, spreadsheet
from core.books.accounts import AccountPlan, Bookkeeping
from core.books.entries import Entry, entry_of
from core.categories import CATEGORIES, DEFAULT_CHART
from core.domain import Document, DocumentKind, DocumentState

RATES = {("USD", date(2026, 11, day)): Decimal("3.7") for day in range(1, 31)}
VENDORS = [f"5{n:07d}" for n in range(200)]


def _vendor(n: int) -> str:
    """A valid business number (Luhn-style check digit) for vendor n."""
    body = VENDORS[n % len(VENDORS)]
    total = 0
    for i, ch in enumerate(body):
        d = int(ch) * (1 + i % 2)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def documents(count: int) -> Iterator[Document]:
    for n in range(1, count + 1):
        net = Decimal(100 + n % 4000)
        vat = (net * Decimal("0.18")).quantize(Decimal("0.01"))
        kind = DocumentKind.CREDIT_NOTE if n % 50 == 0 else DocumentKind.TAX_INVOICE
        fields: dict[str, Any] = {
            "total": {"value": str(net + vat)},
            "vat": {"value": str(vat)},
            "date": {"value": f"2026-11-{1 + n % 30:02d}"},
            "doc_number": {"value": str(100000 + n)},
            "vendor_id": {"value": _vendor(n)},
            "vendor_name": {"value": f"ספק מספר {n % 200} בע״מ"},
            "allocation_number": {"value": str(200000000 + n)},
            "_category": CATEGORIES[n % len(CATEGORIES)],
        }
        if n % 97 == 0:
            fields["currency"] = {"value": "USD"}
        yield Document(
            uploaded_by=1, batch=str(n), source_platform="bench", source_chat_id=1,
            source_message_id=n, organization_id=1, kind=kind, state=DocumentState.FILED,
            fields=fields, id=n,
        )  # fmt: skip


def entries(count: int) -> Callable[[], Iterator[Entry]]:
    return lambda: (entry_of(d, DEFAULT_CHART, RATES) for d in documents(count))


def writers(count: int) -> dict[str, Callable[[Any], object]]:
    plan = AccountPlan(suppliers={_vendor(n): f"4{n:04d}" for n in range(len(VENDORS))})
    company = openfrmt.Company("514713288", "משרד בדיקה בע״מ")
    produced = datetime(2026, 12, 1, 10, 25)
    source = entries(count)
    return {
        "csv": lambda out: spreadsheet.write_csv(out, source()),
        "xlsx": lambda out: spreadsheet.write_xlsx(out, source()),
        "openfrmt": lambda out: openfrmt.write(
            out,
            source,
            company=company,
            plan=plan,
            bookkeeping=Bookkeeping.DOUBLE,
            start=date(2026, 11, 1),
            end=date(2026, 11, 30),
            produced=produced,
            primary_id=123456789012345,
        ),
        "pcn874": lambda out: pcn874.write(
            out, source, vat_number="514713288", report_month=(2026, 11), produced=produced
        ),
        "movein": lambda out: movein.write(out, source(), plan=plan),
    }


def run(
    write: Callable[[Any], object], folder: Path, trace: bool
) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (what a busy shared machine does not inflate), peak MB and
    the size written."""
    path = folder / "out"
    if trace:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("wb") as out:
        write(out)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return seconds, cpu, peak / 2**20, path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=10_000)
    count = parser.parse_args().documents
    small = max(count // 10, 1)
    result: dict[str, Any] = {"documents": count, "formats": {}}
    with tempfile.TemporaryDirectory() as folder:
        for name, write in writers(count).items():
            seconds, cpu, _, size = run(write, Path(folder), trace=False)
            _, _, peak, _ = run(write, Path(folder), trace=True)
            _, _, peak_small, _ = run(writers(small)[name], Path(folder), trace=True)
            print(
                f"{name:9} {seconds:6.2f} s (cpu {cpu:5.2f} s)  peak {peak:6.2f} MB "
                f"(at {small}: {peak_small:6.2f} MB)  {size / 2**20:6.2f} MB written"
            )
            result["formats"][name] = {
                "s": round(seconds, 3),
                "cpu_s": round(cpu, 3),
                "peak_mb": round(peak, 2),
                f"peak_mb_at_{small}": round(peak_small, 2),
            }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
