"""A replica told to stop stops renewing its chat leases.

Its renewals run until cancelled. A cancellation lost inside a Redis call left a stopping
replica renewing its chats for ever: no other replica could take them, and the chat went
silent (the replica conversation test stalled so on CI: B waited 30 s for a lease that A's
cancelled renewal task still renewed). redis-py 8 sends every command under
`asyncio.wait_for` (its default 5 s socket timeout), and on Python 3.11 `wait_for` loses a
cancellation that arrives as the send completes (CPython gh-86296, fixed in 3.12).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from pathlib import Path

from aiogram import Bot, Dispatcher
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import connect_redis
from bot.chat_leases import ChatLeases
from bot.inbox import InboxProcessor
from bot.settings import RedisSettings
from core.clock import SystemClock
from storage.inbox import UpdateInbox
from tests.e2e.harness import test_settings as settings_for


async def _ends_when_cancelled(task: asyncio.Task[None], seconds: float = 2.0) -> bool:
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=seconds)
    if not done:  # let it go, or the test's loop never closes
        while not task.done():
            task.cancel()
            await asyncio.sleep(0.01)
    with contextlib.suppress(BaseException):
        await task
    return bool(done)


async def test_a_task_cancelled_in_the_middle_of_its_redis_calls_ends(
    redis_url: str, tmp_path: Path
) -> None:
    """The client the bot builds (connect_redis), cancelled at random moments of lease
    renewals: each time the task ends. With redis-py 8.1 on Python 3.11 about one task in
    two went on renewing after its cancellation."""
    settings = settings_for(tmp_path, "http://127.0.0.1:9", "sqlite+aiosqlite://")
    settings.redis = RedisSettings(_env_file=None, url=SecretStr(redis_url))  # type: ignore[call-arg]
    client = connect_redis(settings)
    assert client is not None
    leases = ChatLeases(client, 5.0, prefix="test:cancel:")
    for chat_id in range(50):
        assert await leases.acquire(chat_id)

    async def renewing() -> None:
        while True:
            await leases.renew_all()

    chance = random.Random(7)
    try:
        for trial in range(200):
            task = asyncio.create_task(renewing())
            await asyncio.sleep(chance.random() * 0.003)
            assert await _ends_when_cancelled(task), f"trial {trial}: the cancellation was lost"
    finally:
        await client.aclose()


class _LosingLeases(ChatLeases):
    """Renewals that lose the task's cancellation, as a Redis call did (see above)."""

    def __init__(self, redis: Redis, seconds: float, prefix: str) -> None:
        super().__init__(redis, seconds, prefix)
        # Each test's own: one made with the class was still set from the test before.
        self.renewing = asyncio.Event()

    async def renew_all(self) -> None:
        self.renewing.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)
        await super().renew_all()


async def test_the_lease_renewal_stops_when_asked_even_if_a_call_lost_the_cancellation(
    redis: Redis, engine: AsyncEngine
) -> None:
    leases = _LosingLeases(redis, 0.3, prefix="test:losing:")
    assert await leases.acquire(1)
    bot = Bot("123:abc")
    processor = InboxProcessor(
        Dispatcher(), bot, UpdateInbox(engine), SystemClock(), leases=leases
    )
    processor.taking = False  # renewals only, no sweep of the database
    task = asyncio.create_task(processor.keep_leases())
    try:
        await asyncio.wait_for(leases.renewing.wait(), 2)
        assert await _ends_when_cancelled(task), "still renewing after it was told to stop"
    finally:
        await bot.session.close()
