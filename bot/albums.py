"""Collects the parts of an album, which arrive as separate updates, into one reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class AlbumCollector(Generic[T]):
    """Waits until no part has arrived for `quiet` seconds, then hands all parts over once.

    In memory: a crash between the parts and the summary loses only the summary reply,
    never a document (each part is stored before it is collected).
    """

    def __init__(self, quiet: float = 1.2) -> None:
        self.quiet = quiet
        self._parts: dict[str, list[T]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}

    def add(self, key: str, part: T, done: Callable[[list[T]], Awaitable[None]]) -> None:
        self._parts.setdefault(key, []).append(part)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._timers[key] = asyncio.create_task(self._fire(key, done), name=f"album:{key}")

    async def _fire(self, key: str, done: Callable[[list[T]], Awaitable[None]]) -> None:
        await asyncio.sleep(self.quiet)
        self._timers.pop(key, None)
        parts = self._parts.pop(key, [])
        try:
            await done(parts)
        except Exception:
            log.exception("album summary failed")

    async def flush(self) -> None:
        """Lets pending summaries go out (at shutdown, and in tests)."""
        while self._timers:
            await asyncio.gather(*list(self._timers.values()), return_exceptions=True)
