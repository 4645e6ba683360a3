"""A real `tayuk run` process against the local Bot API server, killed and started again.

Clients send photos; the bot is stopped by SIGKILL or SIGTERM at moments drawn from a fixed
seed; afterwards the server's records (what it delivered, what the bot answered) are held
against the database (what the bot stored).
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain import AccessLevel, Identity, OrganizationMember, Person
from core.organizations import create_office, create_organization
from local_api.client import Emitted, LocalApiClient, TgUser
from local_api.server import LocalApiServer
from local_api.state import BotState
from local_api.testing import DEFAULT_TOKEN
from storage import tables
from storage.uow import SqlUnitOfWorkFactory

FIRST_USER = 8_100_000_000


def photo(client: int, number: int) -> bytes:
    """A small JPEG, different for every photo (no duplicate by content)."""
    image = Image.new("RGB", (320, 240), "white")
    ImageDraw.Draw(image).text((10, 10), f"client {client} photo {number}", fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


async def seed_clients(uow_factory: SqlUnitOfWorkFactory, count: int) -> list[TgUser]:
    now = datetime.now(UTC)
    async with uow_factory() as uow:
        office, _ = await create_office(uow, "Chaos CPA", now)
    async with uow_factory() as uow:
        org = await create_organization(uow, office_id=office.id or 0, name="Chaos Ltd", now=now)
    users = [TgUser(id=FIRST_USER + n, first_name=f"C{n}") for n in range(count)]
    async with uow_factory() as uow:
        for user in users:
            person = await uow.people.add(
                Person(display_name=user.first_name or ""),
                Identity(person_id=0, platform="telegram", external_id=user.id, chat_id=user.id),
            )
            await uow.organizations.add_member(
                OrganizationMember(
                    organization_id=org.id or 0,
                    person_id=person.id or 0,
                    access=AccessLevel.UPLOADER,
                )
            )
        await uow.commit()
    return users


@dataclass
class BotProcess:
    """`tayuk run` (or `tayuk worker`) as its own process, started again as often as it is
    killed. `env` adds settings (a webhook replica, S3, Redis); `name` names its log."""

    server: LocalApiServer
    api: LocalApiClient
    database_url: str
    workdir: Path
    drain_seconds: float = 10.0
    env: dict[str, str] = field(default_factory=dict)
    command: str = "run"
    name: str = "bot"
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.workdir / f"{self.name}.log"

    @property
    def state(self) -> BotState:
        return self.server.state.bot(DEFAULT_TOKEN)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, *, wait: bool = True) -> None:
        env = (
            os.environ
            | {
                "TAYUK_TELEGRAM_TOKEN": DEFAULT_TOKEN,
                "TAYUK_TELEGRAM_API_URL": self.server.base_url,
                "TAYUK_DATABASE_URL": self.database_url,
                "TAYUK_DATA_DIR": str(self.workdir / "data"),
                "TAYUK_HTTP_ENABLED": "false",
                "TAYUK_WORKER_ENABLED": "false",
                "TAYUK_LOG_LEVEL": "INFO",
                "TAYUK_INBOX_POLLING_TIMEOUT": "1",
                "TAYUK_INBOX_DRAIN_SECONDS": str(self.drain_seconds),
                # The kills here come from outside, not from a poisonous update: never give up.
                "TAYUK_INBOX_MAX_ATTEMPTS": "1000",
            }
            | self.env
        )
        # Ready once it polls, or once it set its webhook (it migrates, replays its inbox
        # and sets its commands first). A worker is not waited for.
        ready = "setWebhook" if "TAYUK_TELEGRAM_WEBHOOK_URL" in env else "getUpdates"
        before = len(await self.api.calls(ready))
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", self.command,
                env=env, cwd=self.workdir, stdout=out, stderr=out,
            )  # fmt: skip
        self.starts += 1
        if not wait or self.command != "run":
            return
        for _ in range(600):
            if len(await self.api.calls(ready)) > before:
                return
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"the bot did not start ({ready}); see {self.log}")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self) -> tuple[int, float]:
        """SIGTERM; returns the exit code and how long the graceful stop took."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), self.drain_seconds + 20)
        return code, time.monotonic() - started

    async def close(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@dataclass
class Tally:
    sent: int
    delivered: int
    documents: int
    answers: int
    duplicate_documents: int
    duplicate_answers: int
    lost: int  # delivered, yet no document or no answer

    def line(self) -> str:
        return (
            f"sent {self.sent}, delivered {self.delivered}, documents {self.documents}, "
            f"answers {self.answers}, duplicate documents {self.duplicate_documents}, "
            f"duplicate answers {self.duplicate_answers}, lost {self.lost}"
        )


async def tally(bot: BotProcess, uow_factory: SqlUnitOfWorkFactory, sent: list[Emitted]) -> Tally:
    """Each sent photo against what the server confirmed, answered, and the bot stored."""
    state = bot.state
    async with uow_factory() as uow:
        assert uow.session is not None
        rows = await uow.session.execute(
            select(tables.documents.c.source_chat_id, tables.documents.c.source_message_id)
        )
        stored = Counter((int(c), int(m)) for c, m in rows)
    delivered = documents = answers = duplicate_documents = duplicate_answers = lost = 0
    for emitted in sent:
        assert emitted.message is not None
        chat_id = emitted.message["chat"]["id"]
        message_id = emitted.message["message_id"]
        # Confirmed to the server: Telegram would never hand this update over again.
        if emitted.update_id >= state.confirmed_offset:
            continue
        delivered += 1
        docs = stored[(chat_id, message_id)]
        replies = replies_to(bot, emitted)
        documents += min(docs, 1)
        answers += min(replies, 1)
        duplicate_documents += max(docs - 1, 0)
        duplicate_answers += max(replies - 1, 0)
        lost += docs == 0 or replies == 0
    return Tally(
        len(sent), delivered, documents, answers, duplicate_documents, duplicate_answers, lost
    )


def replies_to(bot: BotProcess, emitted: Emitted) -> int:
    assert emitted.message is not None
    chat = bot.state.chats.get(emitted.message["chat"]["id"])
    message_id = emitted.message["message_id"]
    if chat is None:
        return 0
    return sum(
        1
        for m in chat.messages.values()
        if m.from_bot and (m.data.get("reply_to_message") or {}).get("message_id") == message_id
    )


@dataclass
class WindowWatch:
    """Counts the updates a kill caught answered but not yet marked done (bot/inbox.py).

    Each such catch is the one way an answer may be repeated, so the repeats seen at the
    end must equal the catches counted here: any other repeat is a bug.
    """

    engine: AsyncEngine
    replies_seen: dict[int, int] = field(default_factory=dict)
    caught: int = 0

    async def after_kill(self, bot: BotProcess, sent: list[Emitted]) -> None:
        await asyncio.sleep(0.2)  # the server finishes requests the dead bot had sent
        async with self.engine.connect() as conn:
            open_ = set(
                (
                    await conn.scalars(
                        select(tables.inbox_updates.c.update_id).where(
                            tables.inbox_updates.c.done_at.is_(None)
                        )
                    )
                ).all()
            )
        for emitted in sent:
            now = replies_to(bot, emitted)
            if emitted.update_id in open_ and now > self.replies_seen.get(emitted.update_id, 0):
                self.caught += 1
            self.replies_seen[emitted.update_id] = now


async def settled(
    bot: BotProcess, uow_factory: SqlUnitOfWorkFactory, sent: list[Emitted], seconds: float
) -> Tally:
    """Waits until every sent photo was delivered, stored and answered (or time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        result = await tally(bot, uow_factory, sent)
        if result.delivered == result.answers == result.documents == len(sent):
            return result
        if time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)
