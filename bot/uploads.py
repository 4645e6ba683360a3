"""Fairness at intake: how many files are downloaded at once, and how fast one client goes.

Every file a client sends is taken (nothing is refused for speed); a client sending faster
than the rate waits for their turn, so twenty clients' big files do not fill the memory
at once and one client's flood does not hold everyone else's downloads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float
    told: bool = False  # the client already heard that their files come in more slowly


class UploadGate:
    def __init__(
        self,
        *,
        downloads: int,
        burst: int,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slots = asyncio.Semaphore(max(1, downloads))
        self._burst = float(max(1, burst))
        self._rate = max(per_minute, 0.001) / 60.0  # tokens a second
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self.in_flight = 0
        self.peak = 0  # the most files in hand at once, for tests and benchmarks

    def reserve(self, client: int) -> float:
        """Takes this upload's turn; the seconds to wait for it (0 within the burst)."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens >= self._burst:
            bucket.told = False  # rested: a later flood is told again
        bucket.tokens -= 1  # below zero: a reservation further in the future
        if len(self._buckets) > 10_000:
            self._forget_rested(now)
        return 0.0 if bucket.tokens >= 0 else -bucket.tokens / self._rate

    def _forget_rested(self, now: float) -> None:
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.at) * self._rate >= self._burst
        ]
        for key in full:
            del self._buckets[key]

    def should_tell(self, client: int) -> bool:
        """True once per flood: the first time this client has to wait."""
        bucket = self._buckets.get(client)
        if bucket is None or bucket.tokens >= 0 or bucket.told:
            return False
        bucket.told = True
        return True

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One of the few files downloaded, checked and written at the same moment."""
        async with self._slots:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1
