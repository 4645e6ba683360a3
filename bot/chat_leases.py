"""Which replica handles a chat now: a lease per chat in Redis, so a chat's updates run one
at a time and in order even when a load balancer spreads them over several replicas.

A lease is a key with this process's owner id (host, process id and a random part, so an
operator reading Redis sees which replica holds a chat) and an expiry; the holder renews it
while it works, and a replica that was killed loses its chats when their leases expire.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

# Only the owner may extend or drop its lease (a lease that expired and was taken by
# another replica must not be dropped by the one that lost it).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# A fenced lease: taken only if free, its value the owner and the next number of one
# counter (KEYS[2]), the number returned (0: someone holds it). One call, so no number goes
# to a lease that was not taken, and the numbers only grow.
_ACQUIRE_FENCED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '#' .. fence, 'PX', ARGV[2])
return fence
"""
# Every lease of this process at once: one round trip, not one per chat. Renewed one by one,
# 1,000 chats on a busy event loop took longer than the lease itself, and chats were lost
# while still being handled (issue 16's kill test). Each key is compared with its own value
# (ARGV[i + 1]: owner and fencing number).
_RENEW_MANY_FENCED = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    out[i] = redis.call('PEXPIRE', key, ARGV[1])
  else
    out[i] = 0
  end
end
return out
"""


def owner_id() -> str:
    """`host:pid:random`: unique per process, and telling whose a lease is."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class RedisLock:
    """One named lease: taken if free, renewed and released only by its owner."""

    def __init__(self, redis: Redis, seconds: float, owner: str | None = None) -> None:
        self.redis = redis
        self.ms = max(1, int(seconds * 1000))
        self.owner = owner or owner_id()
        self._renew: Any = redis.register_script(_RENEW)
        self._release: Any = redis.register_script(_RELEASE)

    async def acquire(self, name: str) -> bool:
        return bool(await self.redis.set(name, self.owner, nx=True, px=self.ms))

    async def renew(self, name: str) -> bool:
        return bool(await self._renew(keys=[name], args=[self.owner, self.ms]))

    async def release(self, name: str) -> None:
        await self._release(keys=[name], args=[self.owner])


class ChatLeases:
    """Chat leases with fencing numbers.

    Each lease taken gets the next number of one Redis counter (INCR), kept in the lease's
    value beside the owner. A holder whose lease ran out (its process stalled past it) and
    was taken by another replica carries a smaller number than the new holder: the update
    inbox refuses it the update (storage.inbox `take`, `done`), and `holds` tells it before
    it answers. Without the numbers the two could not be told apart in the database.
    """

    def __init__(self, redis: Redis, seconds: float = 30.0, prefix: str = "tayuk:chat:") -> None:
        self.redis = redis
        self.seconds = seconds
        self.ms = max(1, int(seconds * 1000))
        self.prefix = prefix
        self.owner = owner_id()
        self.held: dict[int, int] = {}  # chat -> the fencing number of our lease
        self._acquire: Any = redis.register_script(_ACQUIRE_FENCED)
        self._renew_many: Any = redis.register_script(_RENEW_MANY_FENCED)
        self._release: Any = redis.register_script(_RELEASE)

    def for_updates(self) -> ChatLeases:
        """Leases of single updates that have no chat (keyed by update id), renewed and
        expiring like a chat's: such an update is run by the one replica holding it."""
        return ChatLeases(self.redis, self.seconds, prefix=f"{self.prefix}update:")

    def _value(self, fence: int) -> str:
        return f"{self.owner}#{fence}"

    async def acquire(self, chat_id: int) -> int | None:
        """The lease's fencing number (1 or more) if it was free; None if someone holds it."""
        fence = int(
            await self._acquire(
                keys=[f"{self.prefix}{chat_id}", f"{self.prefix}fence"], args=[self.owner, self.ms]
            )
        )
        if not fence:
            return None
        self.held[chat_id] = fence
        return fence

    async def holds(self, chat_id: int, fence: int) -> bool:
        """Still ours, under that number (not run out, not taken by another since)."""
        value = await self.redis.get(f"{self.prefix}{chat_id}")
        if isinstance(value, bytes):
            value = value.decode()
        return bool(value == self._value(fence))

    async def release(self, chat_id: int) -> None:
        fence = self.held.pop(chat_id, None)
        if fence is not None:
            await self._release(keys=[f"{self.prefix}{chat_id}"], args=[self._value(fence)])

    async def renew_all(self) -> None:
        held = list(self.held.items())
        if not held:
            return
        renewed = await self._renew_many(
            keys=[f"{self.prefix}{chat_id}" for chat_id, _ in held],
            args=[self.ms, *(self._value(fence) for _, fence in held)],
        )
        for (chat_id, fence), ok in zip(held, renewed, strict=True):
            if not ok and self.held.get(chat_id) == fence:  # not let go meanwhile: lost
                # Expired while we worked (the process stalled longer than the lease):
                # another replica may take the chat; our number no longer opens the inbox.
                log.warning("lost the lease of chat %s", chat_id)
