"""Intake benchmark: N clients send a photo at the same moment; how fast does the bot answer?

The bot runs as its own process (`tayuk run`) against the local Bot API server, on a fresh
SQLite database, so its memory can be measured alone. Reading (OCR) is switched off: this
measures receiving and storing. Prints the median and 99th percentile time from an update
becoming available to the bot's reply, documents stored per second, and the bot's peak
memory; the last line is one JSON object.

    .venv/bin/python bench/intake.py [--clients 200]

Big files at once (issue 10: twenty 15 MB files), with the bound on downloads in hand:

    .venv/bin/python bench/intake.py --clients 20 --file-mb 15 --downloads 4
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
from PIL import Image, ImageDraw
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.domain import AccessLevel, Identity, OrganizationMember, Person  # noqa: E402
from core.organizations import create_office, create_organization  # noqa: E402
from local_api.client import LocalApiClient, TgUser  # noqa: E402
from local_api.testing import DEFAULT_TOKEN, local_server  # noqa: E402
from storage import migrate, tables  # noqa: E402
from storage.database import create_engine, session_factory  # noqa: E402
from storage.orm import start_mappers  # noqa: E402
from storage.uow import SqlUnitOfWorkFactory  # noqa: E402
from tests.support.scratch import empty_postgres  # noqa: E402

FIRST_USER = 7_000_000_000


def photo(number: int) -> bytes:
    """A phone-sized JPEG, different for every client (no duplicates)."""
    image = Image.new("RGB", (1280, 960), "white")
    draw = ImageDraw.Draw(image)
    for line in range(20):
        draw.text((40, 40 + 40 * line), f"client {number} line {line} total 118.00", fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def big_scan(megabytes: float) -> bytes:
    """A PNG of noise (it does not compress) of about this size: a scan sent as a file."""
    side = int((megabytes * 2**20 / 3) ** 0.5)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


async def seed(url: str, clients: int) -> None:
    start_mappers()
    engine = create_engine(url)
    await migrate.upgrade(engine)
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
    now = datetime.now(UTC)
    async with uow_factory() as uow:
        office, _ = await create_office(uow, "Bench CPA", now)
    async with uow_factory() as uow:
        org = await create_organization(uow, office_id=office.id or 0, name="Bench Ltd", now=now)
    async with uow_factory() as uow:
        for n in range(clients):
            user_id = FIRST_USER + n
            person = await uow.people.add(
                Person(display_name=f"Client {n}"),
                Identity(person_id=0, platform="telegram", external_id=user_id, chat_id=user_id),
            )
            await uow.organizations.add_member(
                OrganizationMember(
                    organization_id=org.id or 0,
                    person_id=person.id or 0,
                    access=AccessLevel.UPLOADER,
                )
            )
        await uow.commit()
    await engine.dispose()


async def count_documents(url: str) -> int:
    engine = create_engine(url)
    async with engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(tables.documents))
    await engine.dispose()
    return int(count or 0)


class PeakMemory:
    """The bot's peak resident memory.

    Linux keeps the high-water mark itself (VmHWM), so nothing is missed between samples
    and the benchmark does not spend a core scanning /proc. Children (an OCR pool, when
    reading is on) are sampled once a second.
    """

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.children_peak = 0
        self.own_peak = 0

    def own_high_water(self) -> int:
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return self.own_peak
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                self.own_peak = max(self.own_peak, int(line.split()[1]) * 1024)
        return self.own_peak

    @property
    def peak(self) -> int:
        return self.own_peak + self.children_peak

    async def watch(self) -> None:
        while True:
            try:
                self.own_high_water()
                children = self.process.children(recursive=True)
                self.children_peak = max(
                    self.children_peak, sum(c.memory_info().rss for c in children)
                )
            except psutil.Error:
                return
            await asyncio.sleep(1.0)


async def main(
    clients: int,
    database_url: str | None = None,
    file_mb: float = 0,
    downloads: int | None = None,
) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="tayuk-bench-"))
    url = database_url or f"sqlite+aiosqlite:///{workdir / 'tayuk.db'}"
    if url.startswith("postgresql"):
        await empty_postgres(url)
    await seed(url, clients)
    photos = [big_scan(file_mb) if file_mb else photo(n) for n in range(clients)]
    async with local_server() as server:
        env = os.environ | {
            "TAYUK_TELEGRAM_TOKEN": DEFAULT_TOKEN,
            "TAYUK_TELEGRAM_API_URL": server.base_url,
            "TAYUK_DATABASE_URL": url,
            "TAYUK_DATA_DIR": str(workdir),
            "TAYUK_HTTP_ENABLED": "false",
            "TAYUK_WORKER_ENABLED": "false",
            "TAYUK_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
        if downloads is not None:
            env["TAYUK_INTAKE_DOWNLOADS"] = str(downloads)
        command = [str(ROOT / ".venv/bin/tayuk"), "run"]
        if os.environ.get("BENCH_PROFILE"):
            command = [
                sys.executable,
                "-m",
                "cProfile",
                "-o",
                os.environ["BENCH_PROFILE"],
                "-m",
                "bot.cli",
                "run",
            ]
        bot = await asyncio.create_subprocess_exec(*command, env=env, cwd=workdir)
        memory = PeakMemory(bot.pid)
        watcher = asyncio.create_task(memory.watch())
        try:
            async with LocalApiClient(server.base_url, DEFAULT_TOKEN, transport="aiohttp") as api:
                # Wait until the bot polls (it migrates and sets its commands first).
                for _ in range(200):
                    if await api.calls("getUpdates"):
                        break
                    await asyncio.sleep(0.05)
                users = [TgUser(id=FIRST_USER + n, first_name=f"C{n}") for n in range(clients)]
                cpu_before = psutil.Process(bot.pid).cpu_times()
                harness_before = psutil.Process().cpu_times()
                started = time.time()
                sent = await asyncio.gather(
                    *(
                        api.send_document(u, photos[n], file_name="a.png", mime_type="image/png")
                        if file_mb
                        else api.send_photo(u, photos[n])
                        for n, u in enumerate(users)
                    )
                )
                # One long poll for every chat (not 1,000 sockets).
                waited = await api.wait_for_many([u.id for u in users], 1, timeout=60)
                replies = [waited[u.id] for u in users]
                finished = time.time()
                cpu_after = psutil.Process(bot.pid).cpu_times()
                harness_after = psutil.Process().cpu_times()
                memory.own_high_water()
                harness_cpu = (harness_after.user + harness_after.system) - (
                    harness_before.user + harness_before.system
                )
                bot_cpu = (cpu_after.user + cpu_after.system) - (
                    cpu_before.user + cpu_before.system
                )
        finally:
            bot.send_signal(signal.SIGINT)
            await asyncio.wait_for(bot.wait(), 30)
            watcher.cancel()
    latencies = []
    for emitted, messages in zip(sent, replies, strict=True):
        if messages and emitted.available_at is not None:
            latencies.append(messages[0].sent_at - emitted.available_at)
    stored = await count_documents(url)
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("nan")
    last_reply = max((m[0].sent_at for m in replies if m), default=finished)
    result = {
        "clients": clients,
        "file_mb": round(len(photos[0]) / 2**20, 1),
        "downloads": downloads,
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p99_s": round(p99, 3),
        "stored": stored,
        "lost": clients - stored,
        "docs_per_s": round(stored / max(last_reply - started, 1e-9), 1),
        "peak_rss_mb": round(memory.peak / 2**20, 1),
        "bot_cpu_ms_per_doc": round(bot_cpu * 1000 / clients, 1),
        # The local server and the simulated clients share this machine's cores.
        "harness_cpu_ms_per_doc": round(harness_cpu * 1000 / clients, 1),
    }
    print(f"clients {clients}: replies {len(latencies)}, stored {stored}")
    print(f"update -> reply: median {result['p50_s']} s, p99 {result['p99_s']} s")
    print(f"stored {result['docs_per_s']} documents/s; bot peak memory {result['peak_rss_mb']} MB")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--file-mb", type=float, default=0, help="send PNG scans this big")
    parser.add_argument("--downloads", type=int, help="TAYUK_INTAKE_DOWNLOADS for the bot")
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file; a PostgreSQL database given here is emptied first",
    )
    args = parser.parse_args()
    print(
        json.dumps(
            asyncio.run(main(args.clients, args.database_url, args.file_mb, args.downloads))
        )
    )
