"""Review benchmark: an office with 300 organizations and 100,000 documents.

Times building the /tofile report and opening an organization's next document, through the
real use cases, on SQLite and on PostgreSQL (skipped with a reason when it does not answer).
The last printed line is one JSON object:
{"sqlite": {"tofile_p99_ms": ..., "next_p99_ms": ...}, "postgres": {...}}

    .venv/bin/python bench/review.py [--orgs 300] [--documents 100000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import settle_memory  # noqa: E402
from core import review  # noqa: E402
from core.domain import DocumentState, OfficeRole  # noqa: E402
from storage import migrate, tables  # noqa: E402
from storage.database import create_engine, session_factory  # noqa: E402
from storage.orm import start_mappers  # noqa: E402
from storage.uow import SqlUnitOfWorkFactory  # noqa: E402
from tests.support.scratch import empty_postgres  # noqa: E402

# Most of an office's history is filed; a tenth waits for the accountant.
STATES = (
    [DocumentState.FILED] * 85
    + [DocumentState.TO_FILE] * 9
    + [DocumentState.RETURNED] * 3
    + [DocumentState.NEEDS_MANUAL] * 1
    + [DocumentState.DUPLICATE] * 2
)


async def seed(url: str, orgs: int, documents: int) -> tuple[SqlUnitOfWorkFactory, int, list[int]]:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    now = datetime.now(UTC)
    rng = random.Random(7)
    async with engine.begin() as conn:
        office_id = (
            await conn.execute(
                insert(tables.offices).values(name="Bench CPA").returning(tables.offices.c.id)
            )
        ).scalar_one()
        people = [
            {"display_name": f"p{n}", "language": "he", "reachable": n % 50 != 0}
            for n in range(orgs + 1)
        ]
        person_ids = list(
            (
                await conn.execute(insert(tables.people).returning(tables.people.c.id), people)
            ).scalars()
        )
        accountant = person_ids[0]
        await conn.execute(
            insert(tables.office_members).values(
                office_id=office_id, person_id=accountant, role=OfficeRole.OWNER.value
            )
        )
        org_ids = list(
            (
                await conn.execute(
                    insert(tables.organizations).returning(tables.organizations.c.id),
                    [{"name": f"Client {n:03d}", "vat_frequency": "monthly"} for n in range(orgs)],
                )
            ).scalars()
        )
        await conn.execute(
            insert(tables.office_access),
            [{"office_id": office_id, "organization_id": org} for org in org_ids],
        )
        batch = []
        for n in range(documents):
            index = rng.randrange(orgs)
            created = now - timedelta(minutes=rng.randrange(60 * 24 * 365))
            batch.append(
                {
                    "organization_id": org_ids[index],
                    "uploaded_by": person_ids[index + 1],
                    "batch": f"b{n}",
                    "source_platform": "telegram",
                    "source_chat_id": person_ids[index + 1],
                    "source_message_id": n,
                    "direction": "expense",
                    "kind": "receipt",
                    "state": rng.choice(STATES).value,
                    "fields": {},
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if len(batch) == 5000:
                await conn.execute(insert(tables.documents), batch)
                batch = []
        if batch:
            await conn.execute(insert(tables.documents), batch)
    if url.startswith("postgresql"):
        # Autovacuum would vacuum and analyze a table this size soon after; do it now.
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
            # Seeding wrote a million counter updates in a few transactions, which no
            # real load does: their dead versions would leave the small counter table
            # thousands of pages long (5,645 pages for 5,000 rows; /tofile 25 ms, not 16).
            await conn.execute(text("VACUUM FULL ANALYZE document_counts"))
            # The same for the queue rows the counters' triggers rewrite (migration 0019):
            # 829 pages for 1,000 rows after a seed.
            await conn.execute(text("VACUUM FULL ANALYZE organization_queues"))
    return SqlUnitOfWorkFactory(session_factory(engine)), accountant, org_ids


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2)


async def seeded(url: str) -> tuple[SqlUnitOfWorkFactory, int, list[int]]:
    """A database seeded by an earlier run (--reuse): seeding 1,000,000 takes minutes."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        accountant = (
            await conn.execute(select(func.min(tables.office_members.c.person_id)))
        ).scalar_one()
        org_ids = list((await conn.execute(select(tables.organizations.c.id))).scalars())
    return SqlUnitOfWorkFactory(session_factory(engine)), accountant, org_ids


async def measure(
    url: str, orgs: int, documents: int, rounds: int, reuse: bool = False
) -> dict[str, float]:
    started = time.perf_counter()
    if reuse:
        uow_factory, accountant, org_ids = await seeded(url)
        orgs = len(org_ids)
    else:
        uow_factory, accountant, org_ids = await seed(url, orgs, documents)
        print(
            f"  seeded {documents} documents in {time.perf_counter() - started:.1f} s", flush=True
        )
    # As the bot does once started (bot.app.settle_memory): what start-up and seeding made
    # is moved out of the garbage collector's sight, or every full collection walks it all
    # again inside some /tofile call (147 ms pauses under load; the bot never sees them).
    settle_memory()
    tofile: list[float] = []
    tofile_cpu: list[float] = []
    following: list[float] = []
    rng = random.Random(11)
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        async with uow_factory() as uow:
            rows = await review.to_file_report(uow, accountant)
        tofile.append(time.perf_counter() - t0)
        # This process's CPU (SQLite's work included): what a shared machine's load hides.
        tofile_cpu.append(time.process_time() - c0)
        assert len(rows) == orgs
        org = rng.choice(org_ids)
        t0 = time.perf_counter()
        async with uow_factory() as uow:
            await review.next_document(uow, accountant, org)
        following.append(time.perf_counter() - t0)
    result = {
        "tofile_p50_ms": round(sorted(tofile)[len(tofile) // 2] * 1000, 2),
        "tofile_p99_ms": p99(tofile),
        "tofile_cpu_p50_ms": round(sorted(tofile_cpu)[len(tofile_cpu) // 2] * 1000, 2),
        "tofile_cpu_p99_ms": p99(tofile_cpu),
        "next_p50_ms": round(sorted(following)[len(following) // 2] * 1000, 2),
        "next_p99_ms": p99(following),
    }
    print(
        f"  /tofile p50 {result['tofile_p50_ms']} ms, p99 {result['tofile_p99_ms']} ms"
        f" (CPU p50 {result['tofile_cpu_p50_ms']} ms, p99 {result['tofile_cpu_p99_ms']} ms); "
        f"next document p50 {result['next_p50_ms']} ms, p99 {result['next_p99_ms']} ms",
        flush=True,
    )
    return result


async def reset_postgres(url: str) -> bool:
    try:
        await empty_postgres(url)
        return True
    except (OSError, Exception) as error:  # the server may simply not be there
        print(f"postgres skipped: {error}")
        return False


async def main(args: argparse.Namespace) -> dict[str, object]:
    start_mappers()
    results: dict[str, object] = {"load_average": os.getloadavg()[0]}
    if args.reuse:
        # Measured again on the databases an earlier run seeded and kept (--keep).
        if args.sqlite:
            print("sqlite:")
            results["sqlite"] = await measure(
                f"sqlite+aiosqlite:///{args.sqlite}", 0, 0, args.rounds, reuse=True
            )
        print("postgres:")
        results["postgres"] = await measure(args.postgres, 0, 0, args.rounds, reuse=True)
        return results
    with tempfile.TemporaryDirectory(prefix="tayuk-review-") as folder:
        path = args.sqlite or f"{folder}/bench.db"
        if not args.postgres_only:
            print("sqlite:", flush=True)
            results["sqlite"] = await measure(
                f"sqlite+aiosqlite:///{path}", args.orgs, args.documents, args.rounds
            )
    if await reset_postgres(args.postgres):
        print("postgres:", flush=True)
        results["postgres"] = await measure(args.postgres, args.orgs, args.documents, args.rounds)
    else:
        results["postgres"] = None
    results["load_average_end"] = os.getloadavg()[0]
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orgs", type=int, default=300)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument(
        "--postgres",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help="emptied first",
    )
    parser.add_argument("--sqlite", help="the SQLite file to seed (kept) or, with --reuse, read")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="measure databases seeded by an earlier run"
    )
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
