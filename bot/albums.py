"""Collects the parts of an album, which arrive as separate updates, into one reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.inbox import hold_done_until

T = TypeVar("T")
log = logging.getLogger(__name__)


class AlbumCollector(Generic[T]):
    """Waits until no part has arrived for `quiet` seconds, then hands all parts over once.

    In memory: each part is stored before it is collected, and `add` returns a future
    that ends when the summary was sent, so the update inbox keeps the parts unfinished
    until then (a crash before the summary replays them and the summary is sent).
    """

    def __init__(self, quiet: float = 1.2) -> None:
        self.quiet = quiet
        self._parts: dict[str, list[T]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._sent: dict[str, asyncio.Future[None]] = {}

    def add(
        self, key: str, part: T, done: Callable[[list[T]], Awaitable[None]]
    ) -> asyncio.Future[None]:
        """Collects a part; the future ends once the album's summary was sent (or failed).

        The current update stays unfinished in the inbox until then.
        """
        self._parts.setdefault(key, []).append(part)
        sent = self._sent.setdefault(key, asyncio.get_running_loop().create_future())
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._timers[key] = asyncio.create_task(self._fire(key, done), name=f"album:{key}")
        hold_done_until(sent)
        return sent

    async def _fire(self, key: str, done: Callable[[list[T]], Awaitable[None]]) -> None:
        await asyncio.sleep(self.quiet)
        self._timers.pop(key, None)
        parts = self._parts.pop(key, [])
        sent = self._sent.pop(key, None)
        try:
            await done(parts)
        except asyncio.CancelledError:
            if sent is not None:
                sent.cancel()  # not sent: its parts stay unfinished in the inbox
            raise
        except Exception:
            log.exception("album summary failed")
        if sent is not None and not sent.done():
            sent.set_result(None)

    async def flush(self) -> None:
        """Lets pending summaries go out (at shutdown, and in tests)."""
        while self._timers:
            await asyncio.gather(*list(self._timers.values()), return_exceptions=True)
