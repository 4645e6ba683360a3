"""Reminder benchmark: 1,000 clients due a reminder at the same moment.

The timing half of tests/e2e/test_reminder_throughput.py (which keeps the functional
checks): one scheduler tick sends 1,000 reminders through the local Bot API server with the
rate limiter at --rate sends a second. Prints the tick's wall time against the ideal
(clients / rate), the busiest second as the server saw it, and the 429s beyond the injected
ones. Then a second tick at the same minute (the usual one: a pass over the 1,000
organizations that finds everything sent): its wall time. For both, the longest the tick held
the event loop (`loop_held_ms`): in a bot replica the chats' updates wait that long behind it
(issue 16). The last line is one JSON object.

    .venv/bin/python bench/reminders.py [--rate 200] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.loop_watch import LoopWatch  # noqa: E402
from bot.scheduler import DeadlineTicker  # noqa: E402
from bot.sender import RateLimiter, TelegramSender  # noqa: E402
from storage.orm import start_mappers  # noqa: E402
from tests.deadline_world import FakeClock, at  # noqa: E402
from tests.e2e.harness import running_bot  # noqa: E402
from tests.e2e.test_reminder_throughput import CLIENTS, seed  # noqa: E402
from tests.support.scratch import empty_postgres  # noqa: E402

INJECTED_429 = 5


@contextlib.asynccontextmanager
async def loop_held() -> AsyncIterator[LoopWatch]:
    """The bot's own loop watch with a 1 ms heartbeat (`longest`, in seconds, once it exits);
    it logs nothing (no hold reaches `warn_after`)."""
    watch = LoopWatch(warn_after=math.inf, interval=0.001)
    watch.start()
    try:
        yield watch
    finally:
        watch.stop()


async def measure(url: str, rate: float) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory(prefix="tayuk-reminders-") as folder:
        async with running_bot(Path(folder), url) as harness:
            chats = await seed(harness)
            await harness.api.configure(per_second=int(rate * 1.5), per_chat_per_second=1)
            await harness.api.fail_next("sendMessage", count=INJECTED_429, retry_after=1)
            since = max((c.seq for c in await harness.api.calls()), default=0)
            clock = FakeClock(at("2026-11-04 09:00"))
            sender = TelegramSender(harness.app.bot, RateLimiter(per_second=rate))
            ticker = DeadlineTicker(harness.app.uow_factory, sender.send, clock)
            async with loop_held() as held:
                started = time.monotonic()
                await ticker.tick()
                wall = time.monotonic() - started
            calls = await harness.api.calls("sendMessage", since_seq=since)
            async with loop_held() as quiet_held:
                started = time.monotonic()
                again = await ticker.tick()
                quiet_wall = time.monotonic() - started
            assert not again.notices, "the second tick sent again"
    starts = sorted(c.at for c in calls)
    window = int(rate * 2)
    busiest = max(
        sum(1 for t in starts[i : i + window] if t < s + 1.0) for i, s in enumerate(starts)
    )
    refused = sum(1 for c in calls if c.status == 429)
    return {
        "clients": len(chats),
        "tick_s": round(wall, 2),
        "ideal_s": round(CLIENTS / rate, 2),
        "overhead_s": round(wall - CLIENTS / rate, 2),
        "busiest_second": busiest,
        "rate": rate,
        "extra_429": refused - INJECTED_429,
        "loop_held_ms": round(held.longest * 1000, 1),
        "quiet_tick_ms": round(quiet_wall * 1000, 1),
        "quiet_loop_held_ms": round(quiet_held.longest * 1000, 1),
    }


async def main(args: argparse.Namespace) -> dict[str, object]:
    start_mappers()
    results: dict[str, object] = {"load_average": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="tayuk-reminders-db-") as folder:
        results["sqlite"] = await measure(f"sqlite+aiosqlite:///{folder}/bench.db", args.rate)
        print(f"sqlite: {results['sqlite']}")
    if args.postgres:
        await empty_postgres(args.postgres)
        results["postgres"] = await measure(args.postgres, args.rate)
        print(f"postgres: {results['postgres']}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0, help="sends a second")
    parser.add_argument("--postgres", help="also on this PostgreSQL database (emptied first)")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
