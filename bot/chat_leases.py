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
# Every lease of this process at once: one round trip, not one per chat. Renewed one by one,
# 1,000 chats on a busy event loop took longer than the lease itself, and chats were lost
# while still being handled (issue 16's kill test).
_RENEW_MANY = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    out[i] = redis.call('PEXPIRE', key, ARGV[2])
  else
    out[i] = 0
  end
end
return out
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
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
        self._renew_many: Any = redis.register_script(_RENEW_MANY)

    async def acquire(self, name: str) -> bool:
        return bool(await self.redis.set(name, self.owner, nx=True, px=self.ms))

    async def renew(self, name: str) -> bool:
        return bool(await self._renew(keys=[name], args=[self.owner, self.ms]))

    async def renew_many(self, names: list[str]) -> list[bool]:
        """Renews each of `names` still ours; False for those lost meanwhile."""
        if not names:
            return []
        renewed = await self._renew_many(keys=names, args=[self.owner, self.ms])
        return [bool(r) for r in renewed]

    async def release(self, name: str) -> None:
        await self._release(keys=[name], args=[self.owner])


class ChatLeases:
    def __init__(self, redis: Redis, seconds: float = 30.0, prefix: str = "tayuk:chat:") -> None:
        self.seconds = seconds
        self.prefix = prefix
        self.lock = RedisLock(redis, seconds)
        self.held: set[int] = set()

    def for_updates(self) -> ChatLeases:
        """Leases of single updates that have no chat (keyed by update id), renewed and
        expiring like a chat's: such an update is run by the one replica holding it."""
        return ChatLeases(self.lock.redis, self.seconds, prefix=f"{self.prefix}update:")

    async def acquire(self, chat_id: int) -> bool:
        if await self.lock.acquire(f"{self.prefix}{chat_id}"):
            self.held.add(chat_id)
            return True
        return False

    async def release(self, chat_id: int) -> None:
        self.held.discard(chat_id)
        await self.lock.release(f"{self.prefix}{chat_id}")

    async def renew_all(self) -> None:
        held = list(self.held)
        renewed = await self.lock.renew_many([f"{self.prefix}{chat_id}" for chat_id in held])
        for chat_id, ok in zip(held, renewed, strict=True):
            if not ok and chat_id in self.held:  # not let go meanwhile: lost
                # Expired while we worked (the process stalled longer than the lease):
                # another replica may run this chat's next update alongside ours.
                log.warning("lost the lease of chat %s", chat_id)
