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

`--replicas N` (N >= 2) runs issue 16's configuration instead: N bot replicas in webhook
mode behind a small round-robin proxy, chat leases in Redis (`--redis-url`, its database
flushed), files in S3 (moto's server, its own process), the same workers; bench/cluster.py
puts it together, as for tests/scale/test_replicas_killed.py. It prints the same numbers
(memory per replica and per worker, CPU summed over the replicas) and the chats answered
twice. The default stays one polling bot, so that earlier numbers stay comparable.

    .venv/bin/python bench/scale.py [--clients 1000] [--window 60] [--workers 2]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
        [--replicas 2 --redis-url redis://127.0.0.1:6379/1] [--generator-nice 10]

This process plays Telegram's Bot API server, the proxy and the phones; during the load it
runs at nice 10 (`--generator-nice 0`: as in the numbers before session 7), so that on one
2-core machine its own work does not take the processors from the parts measured. It is
small: 8 CPU-s of a 1,000-client run. (Before session 7 the "bench" CPU figure also summed
the bots, workers and S3 server this process starts, about 100 CPU-s more.)

Whatever stalls this process stalls every update on its way, and the ack times with it. It
freezes what it built before the load out of the garbage collector's sight (full
collections had held it 0.3-0.8 s in mid-run: the slowest 1 % of a run all became
available in that second), and it counts the times its own event loop was held over 0.1 s
(`bench_holds_over_0_1_s`); the bots log theirs (bot/loop_watch.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from redis.asyncio import Redis
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cluster import (  # noqa: E402
    cluster,
    free_port,
    make_bucket,
    moto_s3_process,
    replies,
    round_robin_proxy,
    s3_store,
    shared_env,
)
from bench.intake import PeakMemory, photo  # noqa: E402
from bot.loop_watch import LoopWatch  # noqa: E402
from core.domain import AccessLevel, JobState, OfficeRole, VatFrequency  # noqa: E402
from handlers.texts import Texts  # noqa: E402
from local_api.client import ChatMessage, Emitted, LocalApiClient, TgUser  # noqa: E402
from local_api.server import LocalApiServer  # noqa: E402
from local_api.state import BotState  # noqa: E402
from local_api.testing import DEFAULT_TOKEN, local_server  # noqa: E402
from storage import migrate, tables  # noqa: E402
from storage.database import create_engine  # noqa: E402
from tests.support.scratch import empty_postgres  # noqa: E402

FIRST_USER = 7_000_000_000
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/1"
LEASE_S = 30.0  # production's chat lease
BOT_HOLD_S = 0.1  # the replicas log holds of their event loop from this long


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


@dataclass
class Load:
    """What one run measured, however the bot was deployed."""

    sent: list[Emitted]
    waited: dict[int, list[ChatMessage]]
    started_wall: float
    acked_wall: float
    cpu_s: dict[str, float]  # per process, from the first send to the last acknowledgement
    progress: dict[str, int]
    read_span: float
    holds: list[tuple[float, str]]  # this process's event loop held over 0.1 s: (s, where)
    bot_holds: list[tuple[float, str]] = field(default_factory=list)  # the replicas' (logged)


HELD = re.compile(
    r"^(\S+ \S+) WARNING bot\.loop_watch: the event loop was held (\d+) ms, mostly at (.*) \("
)


def logged_holds(log: Path, since: float) -> list[tuple[float, str]]:
    """The holds a bot's loop watch logged from `since` (a wall-clock time) on."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if (match := HELD.match(line)) is None:
            continue
        at = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").astimezone(UTC)
        if at.timestamp() >= since:
            found.append((int(match[2]) / 1000, match[3]))
    return found


def longest(holds: list[tuple[float, str]], count: int = 3) -> list[tuple[float, str]]:
    """The longest holds, in seconds, with where they were."""
    return [(round(s, 2), where) for s, where in sorted(holds, reverse=True)[:count]]


def cpu_seconds(pid: int, *, children: bool = True) -> float:
    """A process's CPU so far, with its live children's (a worker's reading process)."""
    total = 0.0
    with contextlib.suppress(psutil.Error):
        process = psutil.Process(pid)
        for p in [process, *(process.children(recursive=True) if children else [])]:
            with contextlib.suppress(psutil.Error):
                times = p.cpu_times()
                total += times.user + times.system
    return total


async def load(
    args: argparse.Namespace, api: LocalApiClient, pids: dict[str, int], photos: list[bytes]
) -> Load:
    """The clients send their photos; waits for every acknowledgement, then for the reading
    (at most --read-seconds more)."""
    rng = random.Random(5)
    moments = [rng.uniform(0, args.window) for _ in range(args.clients)]
    users = [TgUser(id=FIRST_USER + n, first_name=f"C{n}") for n in range(args.clients)]
    # This process too: the Bot API server, the proxy and the clients run here.
    pids = pids | {"bench": os.getpid()}
    # Telegram's servers and a thousand phones are other machines: this process, which
    # plays them, yields the processors to the bots, workers and databases (all started
    # by now). What it delays is on the measured path only (the updates it hands out, the
    # replies it stamps, the proxy), so it can make the acks look slower, never faster.
    os.nice(args.generator_nice)
    # This process alone: the bots, workers and S3 it started are its children, counted
    # under their own names (before session 7 "bench" summed them all).
    own = {"bench"}
    cpu_before = {name: cpu_seconds(pid, children=name not in own) for name, pid in pids.items()}
    # What this process built so far (aiogram's models, the photos, the server's state)
    # lives to the end: out of the collector's sight, as a bot's start-up is. Full
    # collections walking it held this loop 0.3-0.8 s in mid-run, and every update on its
    # way waited (the slowest 1 % of a run all became available within that second).
    gc.collect()
    gc.freeze()
    # Where this process stalls, it stalls every update on its way: its holds are counted.
    logging.getLogger("bot.loop_watch").setLevel(logging.ERROR)  # summed up at the end
    watch = LoopWatch(warn_after=0.1)
    watch.start()
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
    watch.stop()
    cpu = {
        name: cpu_seconds(pid, children=name not in own) - cpu_before[name]
        for name, pid in pids.items()
    }
    # Reading: until every document is read or --read-seconds pass.
    read_started = time.monotonic()
    progress: dict[str, int] = {}
    while time.monotonic() - read_started < args.read_seconds:
        progress = await reading_progress(args.database_url)
        if sum(progress.values()) >= args.clients:
            break
        await asyncio.sleep(2.0)
    return Load(
        list(sent), waited, started_wall, acked_wall, cpu, progress,
        time.time() - started_wall, watch.holds,
    )  # fmt: skip


async def one_polling_bot(
    args: argparse.Namespace, server: LocalApiServer, api: LocalApiClient, photos: list[bytes]
) -> tuple[Load, dict[str, PeakMemory], BotState]:
    """The default: one `tayuk run` long polling, --workers `tayuk worker`, local files."""
    workdir = Path(tempfile.mkdtemp(prefix="tayuk-scale-"))
    env = os.environ | {
        "TAYUK_TELEGRAM_TOKEN": DEFAULT_TOKEN,
        "TAYUK_TELEGRAM_API_URL": server.base_url,
        "TAYUK_DATABASE_URL": args.database_url,
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
        for _ in range(600):
            if await api.calls("getUpdates"):
                break
            await asyncio.sleep(0.1)
        measured = await load(args, api, {n: p.pid for n, p in processes.items()}, photos)
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
    return measured, memory, server.state.bot(DEFAULT_TOKEN)


async def webhook_replicas(
    args: argparse.Namespace, server: LocalApiServer, api: LocalApiClient, photos: list[bytes]
) -> tuple[Load, dict[str, PeakMemory], BotState]:
    """--replicas N: N webhook replicas behind the round-robin proxy, chat leases in Redis,
    files in S3 (moto's server, its own process), as tests/scale/test_replicas_killed.py."""
    redis = Redis.from_url(args.redis_url)
    await redis.flushdb()  # the bench's own database number: leases of an earlier run
    await redis.aclose()
    workdir = Path(tempfile.mkdtemp(prefix="tayuk-scale-"))
    ports = [free_port() for _ in range(args.replicas)]
    async with moto_s3_process() as (endpoint, s3_pid):
        store = s3_store(endpoint)
        await make_bucket(store)
        await store.close()
        backends = [f"http://127.0.0.1:{p}" for p in ports]
        async with round_robin_proxy(backends) as hook:
            service = cluster(
                server, api, args.database_url, workdir, ports=ports, hook=hook,
                shared=shared_env(args.redis_url, endpoint, LEASE_S) | {
                    "TAYUK_LOOP_HELD_WARN_MS": str(int(BOT_HOLD_S * 1000))
                },
                workers=args.workers, reading={},
            )  # fmt: skip
            watchers: list[asyncio.Task[None]] = []
            try:
                await service.start(api)
                memory = {p.name: PeakMemory(p.pid) for p in service.processes}
                watchers = [asyncio.create_task(m.watch()) for m in memory.values()]
                pids = {p.name: p.pid for p in service.processes} | {"s3": s3_pid}
                measured = await load(args, api, pids, photos)
                for m in memory.values():
                    m.own_high_water()
                for replica in service.processes:
                    if replica.name.startswith("bot"):
                        measured.bot_holds += logged_holds(replica.log, measured.started_wall)
            finally:
                for watcher in watchers:
                    watcher.cancel()
                await service.close()
    return measured, memory, server.state.bot(DEFAULT_TOKEN)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    load_start = os.getloadavg()
    url = args.database_url
    await seed(url, args.clients)
    photos = [photo(n) for n in range(args.clients)]
    run = webhook_replicas if args.replicas else one_polling_bot
    async with (
        local_server() as server,
        LocalApiClient(server.base_url, DEFAULT_TOKEN, transport="aiohttp") as api,
    ):
        measured, memory, state = await run(args, server, api, photos)
    # A webhook's update is available once the server starts its POST, after the send.
    available = {r.update_id: r.available_at for r in state.updates}
    acks = []
    moments = []  # (ack, seconds into the run): whether the slowest come together
    for emitted in measured.sent:
        chat_id = emitted.message["chat"]["id"] if emitted.message else 0
        first = measured.waited.get(chat_id) or []
        at = available.get(emitted.update_id, emitted.available_at)
        if first and at is not None:
            acks.append(first[0].sent_at - at)
            moments.append((acks[-1], at - measured.started_wall))
    slowest = sorted(moments, reverse=True)[: max(1, len(moments) // 100)]
    received = Texts("he")("intake.received", id="\0", org="\0").split("\0")[0]
    twice = sum(
        1
        for texts in replies(state, measured.sent).values()
        if sum(t.startswith(received) for t in texts) > 1
    )
    stored = await stored_documents(url)
    bot_cpu = sum(v for k, v in measured.cpu_s.items() if k.startswith("bot"))
    last_ack = max(
        (r[0].sent_at for r in measured.waited.values() if r), default=measured.acked_wall
    )
    per_worker = sorted(measured.progress.values(), reverse=True)
    result: dict[str, Any] = {
        "clients": args.clients,
        "window_s": args.window,
        "replicas": args.replicas,
        "workers": args.workers,
        "acked": len(acks),
        "answered_twice": twice,
        "ack_p50_s": round(statistics.median(acks), 3) if acks else None,
        "ack_p99_s": percentile(acks, 0.99),
        "ack_max_s": round(max(acks), 3) if acks else None,
        "slowest_at_s": sorted(round(moment, 1) for _, moment in slowest),
        # This process plays Telegram: while its loop is held, updates wait on their way.
        "bench_holds_over_0_1_s": len(measured.holds),
        "bot_holds_over_0_1_s": len(measured.bot_holds),
        "bot_longest_holds": longest(measured.bot_holds),
        "bench_longest_holds": longest(measured.holds),
        "started_at": datetime.fromtimestamp(measured.started_wall, UTC).isoformat(),
        "stored": stored,
        "docs_per_s": round(stored / max(last_ack - measured.started_wall, 1e-9), 1),
        "bot_cpu_ms_per_doc": round(bot_cpu * 1000 / max(stored, 1), 1),
        "cpu_s_until_acked": {k: round(v, 1) for k, v in measured.cpu_s.items()},
        "read": sum(per_worker),
        "read_per_s_per_worker": [round(n / measured.read_span, 2) for n in per_worker],
        "peak_rss_mb": {name: round(m.peak / 2**20, 1) for name, m in memory.items()},
        "load_average": {"start": load_start[0], "end": os.getloadavg()[0]},
        "generator_nice": args.generator_nice,
    }
    bots = f"{args.replicas} webhook replicas (Redis, S3)" if args.replicas else "one polling bot"
    print(
        f"clients {args.clients} over {args.window} s, {bots}, {args.workers} workers, PostgreSQL"
    )
    print(
        f"ack: p50 {result['ack_p50_s']} s, p99 {result['ack_p99_s']} s"
        f" ({len(acks)} acked, {twice} answered twice, {stored} stored,"
        f" {result['docs_per_s']} documents/s,"
        f" bots {result['bot_cpu_ms_per_doc']} ms CPU per document)"
    )
    print(f"the slowest 1 % became available at (s into the run): {result['slowest_at_s']}")
    held = {"this process (Telegram's side) held its": measured.holds}
    if args.replicas:
        held["the replicas held their"] = measured.bot_holds
    for who, holds in held.items():
        most = max((s for s, _ in holds), default=0.0)
        print(f"{who} event loop over 0.1 s {len(holds)} times, the longest {most:.2f} s")
    print(f"read {result['read']} documents: {result['read_per_s_per_worker']} per s per worker")
    print(f"CPU s until the last acknowledgement: {result['cpu_s_until_acked']}")
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
    parser.add_argument(
        "--replicas", type=int, default=0, help="N >= 2: webhook replicas, Redis, S3; 0: polling"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="its database is flushed")
    parser.add_argument(
        "--generator-nice",
        type=int,
        default=10,
        help="this process's priority during the load (it plays Telegram and the phones)",
    )
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
