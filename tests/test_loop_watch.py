"""The loop watch names the code that held the event loop (issue 16)."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.loop_watch import LoopWatch
from bot.metrics import REGISTRY


def _count_over(seconds: float) -> float:
    """Heartbeats the histogram saw later than `seconds`."""
    total = REGISTRY.get_sample_value("tayuk_event_loop_held_seconds_count") or 0.0
    under = REGISTRY.get_sample_value("tayuk_event_loop_held_seconds_bucket", {"le": str(seconds)})
    return total - (under or 0.0)


def a_pass_that_never_awaits() -> None:
    time.sleep(0.3)


def a_short_step() -> None:
    time.sleep(0.005)


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_hold_is_logged_with_the_code_that_held_the_loop() -> None:
    # On the logger itself: a test that set up the bot's logging may have stopped "bot"
    # records from reaching the root logger, where pytest's capture listens.
    logger = logging.getLogger("bot.loop_watch")
    kept, level = Kept(), logger.level
    logger.addHandler(kept)
    logger.setLevel(logging.WARNING)
    late_before = _count_over(0.1)
    watch = LoopWatch(warn_after=0.1)
    watch.start()
    try:
        await asyncio.sleep(0.05)
        a_pass_that_never_awaits()
        for _ in range(50):  # the watch logs once the heartbeat runs again
            await asyncio.sleep(0.02)
            if watch.holds:
                break
    finally:
        watch.stop()
        logger.removeHandler(kept)
        logger.setLevel(level)
    [(held, where)] = watch.holds
    assert 0.2 <= held < 1.0
    assert "a_pass_that_never_awaits" in where
    assert any("a_pass_that_never_awaits" in r.getMessage() for r in kept.records)
    assert 0.2 <= watch.longest < 1.0
    assert _count_over(0.1) == late_before + 1


async def test_a_loop_that_keeps_turning_logs_nothing() -> None:
    watch = LoopWatch(warn_after=0.1)
    watch.start()
    try:
        for _ in range(20):
            a_short_step()  # short steps between awaits: no hold
            await asyncio.sleep(0.01)
    finally:
        watch.stop()
    assert watch.holds == []


async def test_a_hold_still_going_on_when_the_watch_stops_is_the_longest() -> None:
    watch = LoopWatch(warn_after=10.0)
    watch.start()
    await asyncio.sleep(0.05)
    a_pass_that_never_awaits()  # no await after it: the heartbeat never sees its end
    watch.stop()
    assert watch.holds == []  # shorter than warn_after: nothing logged
    assert 0.2 <= watch.longest < 1.0
