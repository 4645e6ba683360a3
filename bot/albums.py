"""Collects the parts of an album, which arrive as separate updates, into one reply."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from redis.asyncio import Redis

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
        self,
        key: str,
        part: T,
        done: Callable[[list[T]], Awaitable[None]],
        part_id: str | None = None,  # a part given again replaces itself (Redis only)
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


# Takes the album if no part came since `seq` (read, compare and delete in one step, so
# of two replicas whose timers fire together only one gets the parts).
_TAKE = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return false end
local parts = redis.call('HVALS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
return parts
"""


class RedisAlbumCollector(AlbumCollector[T]):
    """The same grouping with the parts in Redis, so an album split across replicas gets
    one summary.

    Each part is kept in a hash (by `part_id`: a part handled again replaces itself) with
    a counter bumped on every part. The replica that received a part looks again after
    `quiet` seconds: if the counter still shows its part as the last one, it takes all the
    parts (one atomic script) and sends the summary, then marks the album sent. The other
    replicas' parts wait for that mark, so their updates stay unfinished until the summary
    is out; if it never comes (the sender died) they are cancelled, and run again.
    """

    def __init__(
        self,
        redis: Redis,
        encode: Callable[[T], str],
        decode: Callable[[str], T],
        *,
        quiet: float = 1.2,
        wait_sent: float = 30.0,
        prefix: str = "tayuk:album:",
    ) -> None:
        super().__init__(quiet)
        self.redis = redis
        self.encode = encode
        self.decode = decode
        self.wait_sent = wait_sent
        self.prefix = prefix
        self.keep_seconds = 3600  # what a crashed replica left behind expires
        self._take: Any = redis.register_script(_TAKE)
        self._tasks: set[asyncio.Task[None]] = set()

    def add(
        self,
        key: str,
        part: T,
        done: Callable[[list[T]], Awaitable[None]],
        part_id: str | None = None,
    ) -> asyncio.Future[None]:
        task = asyncio.create_task(
            self._collect(key, part_id or uuid.uuid4().hex, part, done), name=f"album:{key}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _collect(
        self, key: str, part_id: str, part: T, done: Callable[[list[T]], Awaitable[None]]
    ) -> None:
        parts, seq, sent = (f"{self.prefix}{key}:{name}" for name in ("parts", "seq", "sent"))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(parts, part_id, self.encode(part))
            pipe.incr(seq)
            pipe.expire(parts, self.keep_seconds)
            pipe.expire(seq, self.keep_seconds)
            pipe.delete(sent)
            _, mine, *_ = await pipe.execute()
        await asyncio.sleep(self.quiet)
        taken = await self._take(keys=[parts, seq], args=[mine])
        if taken:
            try:
                await done([self.decode(_text(raw)) for raw in taken])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("album summary failed")
            await self.redis.set(sent, "1", ex=self.keep_seconds)
            return
        # A later part (here or on another replica) has the album: wait for its summary.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.quiet + self.wait_sent
        while loop.time() < deadline:
            if await self.redis.exists(sent):
                return
            await asyncio.sleep(min(0.2, self.quiet / 2))
        log.warning("album %s: no summary seen; its part runs again at the next start", key)
        raise asyncio.CancelledError

    async def flush(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
