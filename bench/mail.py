"""E-mail intake benchmark: 1,000 messages with one to three attachments, sent over SMTP by
20 concurrent senders to `tayuk mail` running as its own process on a fresh database.

Prints messages accepted per second (first connection to the last "250"), the 99th
percentile from the end of DATA (the kept message's row) to its last document row, the
receiver's peak memory, and whether anything was lost; the last line is one JSON object.

    .venv/bin/python bench/mail.py [--messages 1000] [--senders 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import psutil
from PIL import Image, ImageDraw
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import mail  # noqa: E402
from core.organizations import create_office, create_organization  # noqa: E402
from storage import migrate, tables  # noqa: E402
from storage.database import create_engine, session_factory  # noqa: E402
from storage.orm import start_mappers  # noqa: E402
from storage.uow import SqlUnitOfWorkFactory  # noqa: E402
from tests.support.scratch import empty_postgres  # noqa: E402

DOMAIN = "docs.bench.test"
ORGANIZATIONS = 20


def picture(number: int) -> bytes:
    """A small receipt picture, different for every attachment (no duplicates)."""
    image = Image.new("RGB", (480, 640), "white")
    draw = ImageDraw.Draw(image)
    for line in range(8):
        draw.text((20, 20 + 30 * line), f"receipt {number} line {line} total 118.00", fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


async def seed(url: str) -> list[tuple[str, str]]:
    """Organizations with an address and an allowed sender each: (address, sender)."""
    start_mappers()
    engine = create_engine(url)
    await migrate.upgrade(engine)
    factory = SqlUnitOfWorkFactory(session_factory(engine))
    pairs = []
    async with factory() as uow:
        office, _ = await create_office(uow, "Bench CPA", datetime.now(UTC))
    for index in range(ORGANIZATIONS):
        async with factory() as uow:
            org = await create_organization(
                uow,
                office_id=office.id or 0,
                name=f"Client {index} Ltd",
                now=datetime.now(UTC),
            )
            address = await mail.address_for(uow, org.id or 0)
            sender = f"owner{index}@client{index}.test"
            await uow.mail.add_sender(mail.MailSender(org.id or 0, sender))
            await uow.commit()
            pairs.append((mail.full_address(address.local_part, DOMAIN), sender))
    await engine.dispose()
    return pairs


def messages(count: int, pairs: list[tuple[str, str]]) -> list[tuple[str, str, bytes, int]]:
    rng = random.Random(14)
    made = []
    number = 0
    for index in range(count):
        to, sender = pairs[index % len(pairs)]
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = to
        msg["Subject"] = f"חשבונית {index}"
        msg.set_content("Attached.")
        parts = rng.randint(1, 3)
        for _ in range(parts):
            number += 1
            msg.add_attachment(
                picture(number), maintype="image", subtype="jpeg", filename=f"receipt-{number}.jpg"
            )
        made.append((sender, to, msg.as_bytes(policy=SMTP), parts))
    return made


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_receiver(env: dict[str, str]) -> subprocess.Popen[bytes]:
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "mail"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert receiver.stdout is not None
    for line in receiver.stdout:
        if b"mail ready" in line:
            break
    return receiver


class Peak(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)


async def counts(url: str) -> tuple[int, int, int, list[float]]:
    engine = create_engine(url)
    m, d = tables.inbound_mails.c, tables.documents.c
    async with engine.connect() as conn:
        kept = int(await conn.scalar(select(func.count()).select_from(tables.inbound_mails)))
        done = int(
            await conn.scalar(
                select(func.count()).select_from(tables.inbound_mails).where(m.state == "done")
            )
        )
        documents = int(await conn.scalar(select(func.count()).select_from(tables.documents)))
        rows = await conn.execute(
            select(m.created_at, func.max(d.created_at))
            .join(tables.documents, (d.source_platform == "email") & (d.source_chat_id == m.id))
            .group_by(m.id, m.created_at)
        )
        delays = [(last - first).total_seconds() for first, last in rows]
    await engine.dispose()
    return kept, done, documents, delays


async def main(count: int, senders: int, database_url: str | None) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="tayuk-mail-bench-"))
    url = database_url or f"sqlite+aiosqlite:///{workdir / 'tayuk.db'}"
    if database_url:
        await empty_postgres(database_url)
    pairs = await seed(url)
    batch = messages(count, pairs)
    attachments = sum(parts for *_, parts in batch)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAYUK_")} | {
        "TAYUK_DATABASE_URL": url,
        "TAYUK_DATA_DIR": str(workdir / "data"),
        "TAYUK_MAIL_DOMAIN": DOMAIN,
        "TAYUK_MAIL_SMTP_PORT": str(port),
        "TAYUK_MAIL_AUTH": "none",
        "TAYUK_LOG_LEVEL": "WARNING",
    }
    receiver = await asyncio.to_thread(start_receiver, env)
    memory = Peak(receiver.pid)
    memory.start()
    refused: list[str] = []

    def send_share(share: list[tuple[str, str, bytes, int]]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
            for sender, to, raw, _ in share:
                try:
                    smtp.sendmail(sender, [to], raw)
                except smtplib.SMTPException as error:
                    refused.append(str(error))

    started = time.perf_counter()
    threads = [
        threading.Thread(target=send_share, args=(batch[i::senders],)) for i in range(senders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted_s = time.perf_counter() - started
    accepted = count - len(refused)
    deadline = time.perf_counter() + 600
    while time.perf_counter() < deadline:
        kept, done, documents, delays = await counts(url)
        if done >= accepted:
            break
        await asyncio.sleep(0.5)
    processed_s = time.perf_counter() - started
    memory.running = False
    receiver.send_signal(signal.SIGTERM)
    await asyncio.to_thread(receiver.wait, 30)
    delays.sort()
    p99 = delays[max(0, int(len(delays) * 0.99) - 1)] if delays else float("nan")
    p50 = delays[len(delays) // 2] if delays else float("nan")
    result = {
        "messages": count,
        "senders": senders,
        "attachments": attachments,
        "accepted": accepted,
        "accepted_per_s": round(accepted / accepted_s, 1),
        "kept": kept,
        "processed": done,
        "documents": documents,
        "lost": (count - kept) + (attachments - documents),
        "p50_data_to_document_s": round(p50, 3),
        "p99_data_to_document_s": round(p99, 3),
        "all_processed_s": round(processed_s, 1),
        "peak_rss_mb": round(memory.peak / 2**20, 1),
        "database": "postgresql" if database_url else "sqlite",
    }
    print(
        f"{accepted}/{count} messages accepted in {accepted_s:.1f} s: "
        f"{result['accepted_per_s']} per second"
    )
    print(f"{documents}/{attachments} documents; all processed after {processed_s:.1f} s")
    print(
        f"end of DATA -> document row: p50 {result['p50_data_to_document_s']} s, "
        f"p99 {result['p99_data_to_document_s']} s"
    )
    print(f"receiver peak memory {result['peak_rss_mb']} MB; lost {result['lost']}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file; a PostgreSQL database given here is emptied first",
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.messages, args.senders, args.database_url))))
