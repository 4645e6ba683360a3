"""`tayuk mail` as a real process, killed in the middle of a message: the message was kept
before "250", and after a restart it is filed exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from email.policy import SMTP
from pathlib import Path

from sqlalchemy import func, select

from core import mail
from storage import migrate, tables
from storage.database import create_engine, session_factory
from storage.files import DiskFileStore
from storage.orm import start_mappers
from storage.uow import SqlUnitOfWorkFactory
from tests import images, scenario
from tests.mail.world import DOMAIN, free_port, message

ROOT = Path(__file__).resolve().parents[2]
PARTS = 50


@contextmanager
def tayuk_mail(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "mail"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if b"mail ready" in line:
                break
        else:
            raise AssertionError("tayuk mail did not start")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_a_killed_receiver_loses_nothing_and_files_once(tmp_path: Path) -> None:
    start_mappers()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'tayuk.db'}"
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
    office = await scenario.office(uow_factory)
    org = await scenario.organization(uow_factory, office.id or 0)
    async with uow_factory() as uow:
        address = mail.full_address((await mail.address_for(uow, org.id or 0)).local_part, DOMAIN)
        await uow.mail.add_sender(mail.MailSender(org.id or 0, "dana@falafel.test"))
        await uow.commit()
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TAYUK_")} | {
        "TAYUK_DATABASE_URL": database_url,
        "TAYUK_DATA_DIR": str(tmp_path / "data"),
        "TAYUK_MAIL_DOMAIN": DOMAIN,
        "TAYUK_MAIL_SMTP_PORT": str(port),
        "TAYUK_MAIL_AUTH": "none",
        "TAYUK_MAIL_LEASE_SECONDS": "1",
        "TAYUK_LOG_LEVEL": "WARNING",
    }
    pictures = [images.png(700, 900, f"receipt {i}") for i in range(PARTS)]
    msg = message(
        sender="dana@falafel.test",
        to=address,
        subject="A month of receipts",
        attachments=[(f"r{i}.png", data, "image/png") for i, data in enumerate(pictures)],
    )

    async def count(table: object, *where: object) -> int:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(table).where(*where)))

    import smtplib

    def send() -> dict[str, object]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            return smtp.sendmail("dana@falafel.test", [address], msg.as_bytes(policy=SMTP))

    with tayuk_mail(env) as first:
        assert await asyncio.to_thread(send) == {}  # "250": from here it must not be lost
        for _ in range(2000):
            # Its job taken: the 50 pictures are being checked and written.
            if await count(tables.jobs, tables.jobs.c.state == "running"):
                break
            await asyncio.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait()
    # A mail is filed in one transaction: killed while filing, none of it is in.
    [kept] = await _mails(uow_factory)
    assert kept.state == mail.MailState.RECEIVED, "the kill should land while it is filed"
    assert await count(tables.documents) == 0
    assert DiskFileStore(tmp_path / "data" / "files").exists(kept.raw_sha256)

    with tayuk_mail(env):
        for _ in range(600):
            [kept] = await _mails(uow_factory)
            if kept.state == mail.MailState.DONE:
                break
            await asyncio.sleep(0.05)
    assert kept.state == mail.MailState.DONE and kept.documents == PARTS
    assert await count(tables.documents) == PARTS
    assert await count(tables.stored_files) == PARTS
    # One read job per document: nothing was queued twice.
    assert await count(tables.jobs, tables.jobs.c.kind == "read_document") == PARTS
    await engine.dispose()


async def _mails(uow_factory: SqlUnitOfWorkFactory) -> list[mail.InboundMail]:
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(mail.InboundMail)))
