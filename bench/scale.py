"""Scale benchmark: PostgreSQL, one polling bot process, reading workers, 1,000 clients.

Everything runs as it would in production, each part its own process: the bot (`tayuk run`,
long polling the local Bot API server, reading off), `--workers` reading workers
(`tayuk worker`, one OCR process each), PostgreSQL. The clients are an office's: one
organization each, every client sends one phone photo, at a random moment within
`--window` seconds (0: all at once, the worst burst).

Prints the ack time (update available -> the bot's "received" reply) p50/p99, documents
stored per second, documents read per second per worker (measured for at most
`--read-seconds` after the last ack), peak memory per process, and the bot's CPU per
document; the last line is one JSON object, with the load average at start and end (the
machine is shared: read numbers next to it).

    .venv/bin/python bench/scale.py [--clients 1000] [--window 60] [--workers 2]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.intake import PeakMemory, photo  # noqa: E402
from core.domain import AccessLevel, JobState, OfficeRole, VatFrequency  # noqa: E402
from local_api.client import Emitted, LocalApiClient, TgUser  # noqa: E402
from local_api.testing import DEFAULT_TOKEN, local_server  # noqa: E402
from storage import migrate, tables  # noqa: E402
from storage.database import create_engine  # noqa: E402
from tests.support.scratch import empty_postgres  # noqa: E402

FIRST_USER = 7_000_000_000
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def seed(url: str, clients: int) -> None:
    """An office with one organization per client (bulk inserts: seconds, not minutes)."""
    await empty_postgres(url)
    engine = create_engine(url)
    await migrate.upgrade(engine)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(insert(tables.offices), [{"id": 1, "name": "Scale CPA"}])
        await conn.execute(
            insert(tables.organizations),
            [
                {"id": n + 1, "name": f"Org {n}", "vat_frequency": VatFrequency.MONTHLY.value}
                for n in range(clients)
            ],
        )
        await conn.execute(
            insert(tables.people),
            [
                {"id": n + 1, "display_name": f"Client {n}", "language": "he"}
                for n in range(clients + 1)
            ],
        )
        await conn.execute(
            insert(tables.identities),
            [
                {
                    "person_id": n + 1,
                    "platform": "telegram",
                    "external_id": FIRST_USER + n,
                    "chat_id": FIRST_USER + n,
                }
                for n in range(clients)
            ],
        )
        await conn.execute(
            insert(tables.organization_members),
            [
                {
                    "organization_id": n + 1,
                    "person_id": n + 1,
                    "access": AccessLevel.UPLOADER.value,
                    "created_at": now,
                }
                for n in range(clients)
            ],
        )
        await conn.execute(
            insert(tables.office_access),
            [{"office_id": 1, "organization_id": n + 1} for n in range(clients)],
        )
        await conn.execute(
            insert(tables.office_members),
            [{"office_id": 1, "person_id": clients + 1, "role": OfficeRole.OWNER.value}],
        )
        # The bulk insert chose the ids: move the sequences past them.
        for table in ("offices", "organizations", "people"):
            await conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
    await engine.dispose()


async def reading_progress(url: str) -> dict[str, int]:
    """Documents read so far, per worker (the job's last lease holder)."""
    engine = create_engine(url)
    j = tables.jobs.c
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(j.leased_by, func.count())
                .where(j.state == JobState.DONE.value)
                .group_by(j.leased_by)
            )
            return {str(worker): int(count) for worker, count in rows}
    finally:
        await engine.dispose()


async def stored_documents(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(tables.documents)) or 0)
    finally:
        await engine.dispose()


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, int(len(ordered) * share) - 1)], 3)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    load_start = os.getloadavg()
    url = args.database_url
    await seed(url, args.clients)
    photos = [photo(n) for n in range(args.clients)]
    workdir = Path(tempfile.mkdtemp(prefix="tayuk-scale-"))
    rng = random.Random(5)
    moments = [rng.uniform(0, args.window) for _ in range(args.clients)]
    async with local_server() as server:
        env = os.environ | {
            "TAYUK_TELEGRAM_TOKEN": DEFAULT_TOKEN,
            "TAYUK_TELEGRAM_API_URL": server.base_url,
            "TAYUK_DATABASE_URL": url,
            "TAYUK_DATA_DIR": str(workdir),
            "TAYUK_HTTP_ENABLED": "false",
            "TAYUK_WORKER_ENABLED": "false",
            "TAYUK_WORKER_PROCESSES": "1",
            "TAYUK_LOG_LEVEL": "WARNING",
        }
        tayuk = str(ROOT / ".venv/bin/tayuk")
        bot = await asyncio.create_subprocess_exec(tayuk, "run", env=env, cwd=workdir)
        workers = [
            await asyncio.create_subprocess_exec(tayuk, "worker", env=env, cwd=workdir)
            for _ in range(args.workers)
        ]
        processes = {"bot": bot} | {f"worker{n + 1}": w for n, w in enumerate(workers)}
        memory = {name: PeakMemory(p.pid) for name, p in processes.items()}
        watchers = [asyncio.create_task(m.watch()) for m in memory.values()]
        try:
            async with LocalApiClient(server.base_url, DEFAULT_TOKEN, transport="aiohttp") as api:
                for _ in range(600):
                    if await api.calls("getUpdates"):
                        break
                    await asyncio.sleep(0.1)
                users = [
                    TgUser(id=FIRST_USER + n, first_name=f"C{n}") for n in range(args.clients)
                ]
                bot_cpu_before = psutil.Process(bot.pid).cpu_times()
                started = time.monotonic()
                started_wall = time.time()

                async def send(n: int) -> Emitted:
                    await asyncio.sleep(max(0.0, started + moments[n] - time.monotonic()))
                    return await api.send_photo(users[n], photos[n])

                sent = await asyncio.gather(*(send(n) for n in range(args.clients)))
                waited = await api.wait_for_many(
                    [u.id for u in users], 1, timeout=args.window + args.ack_timeout
                )
                acked_wall = time.time()
                bot_cpu_after = psutil.Process(bot.pid).cpu_times()
                # Reading: until every document is read or --read-seconds pass.
                read_started = time.monotonic()
                progress: dict[str, int] = {}
                while time.monotonic() - read_started < args.read_seconds:
                    progress = await reading_progress(url)
                    if sum(progress.values()) >= args.clients:
                        break
                    await asyncio.sleep(2.0)
                read_span = time.time() - started_wall
                for m in memory.values():
                    m.own_high_water()
        finally:
            for process in processes.values():
                if process.returncode is None:
                    process.send_signal(signal.SIGINT)
            for process in processes.values():
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
            for watcher in watchers:
                watcher.cancel()
    acks = []
    for emitted, user in zip(sent, users, strict=True):
        replies = waited.get(user.id) or []
        if replies and emitted.available_at is not None:
            acks.append(replies[0].sent_at - emitted.available_at)
    stored = await stored_documents(url)
    last_ack = max((r[0].sent_at for r in waited.values() if r), default=acked_wall)
    bot_cpu = (bot_cpu_after.user + bot_cpu_after.system) - (
        bot_cpu_before.user + bot_cpu_before.system
    )
    per_worker = sorted(progress.values(), reverse=True)
    result: dict[str, Any] = {
        "clients": args.clients,
        "window_s": args.window,
        "workers": args.workers,
        "acked": len(acks),
        "ack_p50_s": round(statistics.median(acks), 3) if acks else None,
        "ack_p99_s": percentile(acks, 0.99),
        "ack_max_s": round(max(acks), 3) if acks else None,
        "stored": stored,
        "docs_per_s": round(stored / max(last_ack - started_wall, 1e-9), 1),
        "bot_cpu_ms_per_doc": round(bot_cpu * 1000 / max(stored, 1), 1),
        "read": sum(per_worker),
        "read_per_s_per_worker": [round(n / read_span, 2) for n in per_worker],
        "peak_rss_mb": {name: round(m.peak / 2**20, 1) for name, m in memory.items()},
        "load_average": {"start": load_start[0], "end": os.getloadavg()[0]},
    }
    print(f"clients {args.clients} over {args.window} s, {args.workers} workers, PostgreSQL")
    print(
        f"ack: p50 {result['ack_p50_s']} s, p99 {result['ack_p99_s']} s"
        f" ({len(acks)} acked, {stored} stored, {result['docs_per_s']} documents/s,"
        f" bot {result['bot_cpu_ms_per_doc']} ms CPU per document)"
    )
    print(f"read {result['read']} documents: {result['read_per_s_per_worker']} per s per worker")
    print(f"peak memory (MB): {result['peak_rss_mb']}; load {result['load_average']}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds the sends spread")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--read-seconds", type=float, default=60.0)
    parser.add_argument("--ack-timeout", type=float, default=120.0)
    parser.add_argument("--database-url", default=DEFAULT_URL, help="emptied first")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
