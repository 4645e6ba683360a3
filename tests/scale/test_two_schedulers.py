"""Two replicas' schedulers tick at the same moments: every notice goes out once."""

from __future__ import annotations

import asyncio
from collections import Counter

from aiogram.types import InlineKeyboardMarkup
from redis.asyncio import Redis

from bot.chat_leases import RedisLock
from bot.scheduler import DeadlineTicker
from bot.sender import Delivery
from storage.uow import SqlUnitOfWorkFactory
from tests.deadline_world import FakeClock, at, build


async def test_two_schedulers_ticking_together_send_each_notice_once(
    uow_factory: SqlUnitOfWorkFactory, redis: Redis
) -> None:
    await build(uow_factory)
    clock = FakeClock(at("2026-11-04 08:00"))
    sent: Counter[tuple[int, str]] = Counter()

    async def send(
        chat_id: int, text: str, *, markup: InlineKeyboardMarkup | None = None
    ) -> Delivery:
        await asyncio.sleep(0)  # let the other scheduler in between
        sent[(chat_id, text)] += 1
        return Delivery.SENT

    # Without the Redis lock: only the database's claim stands between them.
    bare = [DeadlineTicker(uow_factory, send, clock) for _ in range(2)]
    # With it: one of them ticks, the other skips the moment.
    locked = [
        DeadlineTicker(uow_factory, send, clock, lock=RedisLock(redis, 60)) for _ in range(2)
    ]
    reports = []
    for step in range(3):  # 08:00, 08:30 (the digest), 09:00 (the reminders)
        tickers = bare if step != 1 else locked
        reports += await asyncio.gather(*(t.tick() for t in tickers))
        clock.advance(at("2026-11-04 08:30") - at("2026-11-04 08:00"))
    claimed = sum(len(r.notices) for r in reports)
    assert claimed >= 3  # the digest and the two clients' reminders
    assert sum(sent.values()) == claimed
    assert all(count == 1 for count in sent.values()), sent
