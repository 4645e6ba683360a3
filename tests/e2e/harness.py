"""The real bot, polling the local Bot API server over HTTP, on a fresh database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import App, build_app, prepare
from bot.inbox import poll
from bot.settings import (
    DatabaseSettings,
    HttpSettings,
    Settings,
    TelegramSettings,
    WorkerSettings,
)
from core import invites
from core.domain import AccessLevel, InviteKind
from local_api.client import ChatMessage, LocalApiClient, TgUser
from local_api.testing import DEFAULT_TOKEN, local_api
from tests import scenario
from tests.counts import assert_counts_fresh


@dataclass
class Harness:
    app: App
    api: LocalApiClient
    username: str
    polling: asyncio.Task[None] | None = None
    stop: asyncio.Event | None = None

    def start_polling(self) -> None:
        """The bot's own polling: each update kept in the inbox before it is confirmed."""
        self.stop = asyncio.Event()
        self.polling = asyncio.create_task(
            poll(
                self.app.bot,
                self.app.inbox,
                self.stop,
                polling_timeout=1,
                allowed_updates=self.app.dispatcher.resolve_used_update_types(),
            )
        )

    async def stop_polling(self) -> None:
        """Updates sent while stopped reach the bot together, in one batch, on restart."""
        if self.polling is not None and self.stop is not None:
            self.stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self.polling
            self.polling = None

    async def office_and_org(self, name: str = "Falafel Ltd") -> tuple[int, int]:
        office = await scenario.office(self.app.uow_factory)
        org = await scenario.organization(self.app.uow_factory, office.id or 0, name=name)
        return office.id or 0, org.id or 0

    async def invite_token(
        self,
        org_id: int,
        *,
        access: AccessLevel = AccessLevel.FULL,
        ttl: timedelta = timedelta(days=14),
        reusable: bool = False,
    ) -> str:
        async with self.app.uow_factory() as uow:
            issued = await invites.issue(
                uow,
                kind=InviteKind.ORG_MEMBER,
                organization_id=org_id,
                access=access,
                now=datetime.now(UTC),
                ttl=ttl,
                reusable=reusable,
            )
            await uow.commit()
            return issued.token

    async def join(self, user: TgUser, org_id: int, **kwargs: Any) -> ChatMessage:
        token = await self.invite_token(org_id, **kwargs)
        return await self.say(user, f"/start {token}")

    async def say(self, user: TgUser, text: str) -> ChatMessage:
        return await self.after(user, self.api.send_text(user, text))

    async def after(self, user: TgUser, action: Any, count: int = 1) -> Any:
        """Performs `action` and waits for the bot's next `count` messages in the chat."""
        before = len(await self.api.messages(user.id))
        await action
        messages = await self.api.wait_for_messages(user.id, before + count, timeout=10)
        new = messages[before:]
        assert len(new) >= count, f"expected {count} new bot messages, got {new}"
        return new[0] if count == 1 else new

    async def edited(self, user: TgUser, action: Any, message: ChatMessage) -> ChatMessage:
        """Performs `action` (a button press) and waits until `message` is edited."""
        await action
        for _ in range(100):
            for current in await self.api.messages(user.id):
                if current.message_id == message.message_id and len(current.edits) > len(
                    message.edits
                ):
                    return current
            await asyncio.sleep(0.05)
        raise AssertionError(f"message {message.message_id} was not edited")

    async def quiet(self, user: TgUser, seconds: float = 0.6) -> list[ChatMessage]:
        """Messages that arrive in the next moments (to check that nothing more is sent)."""
        before = len(await self.api.messages(user.id))
        await asyncio.sleep(seconds)
        return (await self.api.messages(user.id))[before:]


def test_settings(tmp_path: Path, base_url: str, database_url: str, **worker: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        telegram=TelegramSettings(
            _env_file=None,
            token=DEFAULT_TOKEN,  # type: ignore[call-arg]
            api_url=base_url,
            bot_username="tayuk_test_bot",
        ),
        database=DatabaseSettings(_env_file=None, url=database_url),  # type: ignore[call-arg]
        http=HttpSettings(_env_file=None, enabled=False),  # type: ignore[call-arg]
        worker=WorkerSettings(_env_file=None, **({"enabled": False} | worker)),  # type: ignore[call-arg]
    )


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, database_url: str, **worker: Any) -> AsyncIterator[Harness]:
    async with local_api(DEFAULT_TOKEN, bot_username="tayuk_test_bot") as (base_url, api):
        app = build_app(test_settings(tmp_path, base_url, database_url, **worker))
        app.albums.quiet = 0.4
        await prepare(app)
        harness = Harness(app, api, "tayuk_test_bot")
        harness.start_polling()
        if worker.get("enabled"):
            from bot.worker import start_worker

            app.tasks.append(start_worker(app))
        try:
            yield harness
            # Every story also checks the /tofile counters against a fresh count.
            await assert_counts_fresh(app.uow_factory)
        finally:
            await harness.stop_polling()
            await app.close()
