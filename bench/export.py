"""Export benchmark: N filed documents of one organization and period, in every format.

    .venv/bin/python bench/export.py [--documents 10000]
    .venv/bin/python bench/export.py --through-database [--database-url URL]

Writers alone (the default): documents are made on the fly and turned into book entries as
each writer reads them, so the writers' memory is all that grows.

--through-database: the whole path of the chat and the command line, `service.export`, from
documents stored in a database (a fresh SQLite file unless --database-url names a PostgreSQL
database, which is EMPTIED first) to the recorded export.

Time is measured without tracing, wall and CPU seconds (a busy shared machine inflates the
wall time); the peak memory (tracemalloc) in a second run, at N and at N/10 to show it does
not follow N. The last line is JSON:
{"documents": N, "formats": {"csv": {"s": ..., "peak_mb": ...}, ...}}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from core.books import movein, openfrmt, pcn874, service, spreadsheet
from core.books.accounts import AccountPlan, Bookkeeping
from core.books.entries import Entry, entry_of
from core.books.records import ExportFormat
from core.categories import CATEGORIES, DEFAULT_CHART
from core.deadlines.periods import Period
from core.domain import Document, DocumentKind, DocumentState, OfficeRole
from storage import migrate, tables
from storage.database import create_engine, session_factory
from storage.orm import start_mappers
from storage.uow import SqlUnitOfWorkFactory
from tests.support.scratch import empty_postgres

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
        }
        if n % 97 == 0:
            fields["currency"] = {"value": "USD"}
        yield Document(
            uploaded_by=1, batch=str(n), source_platform="bench", source_chat_id=1,
            source_message_id=n, organization_id=1, kind=kind, state=DocumentState.FILED,
            fields=fields, id=n, category=CATEGORIES[n % len(CATEGORIES)],
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


def writers_only(count: int) -> dict[str, Any]:
    small = max(count // 10, 1)
    result: dict[str, Any] = {"documents": count, "formats": {}}
    with tempfile.TemporaryDirectory() as folder:
        for name, write in writers(count).items():
            seconds, cpu, _, size = run(write, Path(folder), trace=False)
            _, _, peak, _ = run(write, Path(folder), trace=True)
            _, _, peak_small, _ = run(writers(small)[name], Path(folder), trace=True)
            report(result, name, seconds, cpu, peak, small, peak_small, size)
    return result


def report(
    result: dict[str, Any],
    name: str,
    seconds: float,
    cpu: float,
    peak: float,
    small: int,
    peak_small: float,
    size: int,
) -> None:
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


# --- the whole path through the database ------------------------------------------------

NOVEMBER = Period.month(2026, 11)
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def seed(url: str, counts: list[int]) -> tuple[SqlUnitOfWorkFactory, list[int]]:
    """One office serving one organization per count, each with that many filed documents
    of November 2026 (and the USD rates they need); the organizations' ids."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    arrived = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    async with engine.begin() as conn:
        office = (
            await conn.execute(
                insert(tables.offices).values(name="Bench CPA").returning(tables.offices.c.id)
            )
        ).scalar_one()
        person = (
            await conn.execute(
                insert(tables.people).values(display_name="Dana").returning(tables.people.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(tables.office_members).values(
                office_id=office, person_id=person, role=OfficeRole.OWNER.value
            )
        )
        # Hashavshevet needs short supplier accounts: the office maps its suppliers.
        await conn.execute(
            insert(tables.account_mappings),
            [
                {
                    "office_id": office,
                    "kind": "supplier",
                    "key": _vendor(n),
                    "account": f"4{n:04d}",
                }
                for n in range(len(VENDORS))
            ],
        )
        await conn.execute(
            insert(tables.exchange_rates),
            [
                {"currency": c, "day": d.isoformat(), "rate": str(r), "set_by": person}
                for (c, d), r in RATES.items()
            ],
        )
        orgs = []
        for n, count in enumerate(counts):
            org = (
                await conn.execute(
                    insert(tables.organizations)
                    .values(name=f"לקוח {n} בע״מ", business_number="514713288")
                    .returning(tables.organizations.c.id)
                )
            ).scalar_one()
            orgs.append(org)
            await conn.execute(
                insert(tables.office_access).values(office_id=office, organization_id=org)
            )
            batch: list[dict[str, Any]] = []
            for document in documents(count):
                batch.append(
                    {
                        "organization_id": org,
                        "uploaded_by": person,
                        "batch": document.batch,
                        "source_platform": "bench",
                        "source_chat_id": org,
                        "source_message_id": document.source_message_id,
                        "direction": "expense",
                        "kind": document.kind.value,
                        "state": DocumentState.FILED.value,
                        "fields": document.fields,
                        "version": 1,
                        "created_at": arrived,
                        "updated_at": arrived,
                    }
                )
                if len(batch) == 2000:
                    await conn.execute(insert(tables.documents), batch)
                    batch = []
            if batch:
                await conn.execute(insert(tables.documents), batch)
    return SqlUnitOfWorkFactory(session_factory(engine)), orgs


async def export_once(
    uow_factory: SqlUnitOfWorkFactory, org: int, fmt: ExportFormat, folder: Path, trace: bool
) -> tuple[float, float, float, int]:
    """As the command line exports (no person: whoever runs the server): wall seconds, CPU
    seconds, peak MB and the size written."""
    path = folder / "out"
    if trace:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("w+b") as out:
        async with uow_factory() as uow:
            record = await service.export(uow, None, org, NOVEMBER, fmt, out, NOW)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert record.document_count > 0
    return seconds, cpu, peak / 2**20, path.stat().st_size


async def through_database(count: int, url: str | None) -> dict[str, Any]:
    start_mappers()
    small = max(count // 10, 1)
    result: dict[str, Any] = {"documents": count, "database": "sqlite", "formats": {}}
    with tempfile.TemporaryDirectory() as folder:
        if url is None:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
        else:
            await empty_postgres(url)
            result["database"] = "postgresql"
        uow_factory, (org, org_small) = await seed(url, [count, small])
        for fmt in ExportFormat:
            seconds, cpu, _, size = await export_once(uow_factory, org, fmt, Path(folder), False)
            _, _, peak, _ = await export_once(uow_factory, org, fmt, Path(folder), True)
            _, _, peak_small, _ = await export_once(
                uow_factory, org_small, fmt, Path(folder), True
            )
            report(result, fmt.value, seconds, cpu, peak, small, peak_small, size)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument(
        "--through-database",
        action="store_true",
        help="the whole export use case, from documents stored in a database",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to use (EMPTIED first) instead of a fresh SQLite file",
    )
    args = parser.parse_args()
    if args.through_database or args.database_url:
        result = asyncio.run(through_database(args.documents, args.database_url))
    else:
        result = writers_only(args.documents)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
