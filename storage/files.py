"""Content-addressed file stores: a file's name is its SHA-256. The disk store, what every
store offers (`StoredFiles`), and the fallback used while moving between stores."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

# Below this much free space the store says it is not ready: one more file may not fit.
MIN_FREE_BYTES = 32 * 1024 * 1024


def make_private_dir(path: Path) -> None:
    """Creates the folder and its missing parents readable by this user only (0700): the
    clients' documents and the database live below it."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # whatever the umask


def is_sha256(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


class DiskFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def check_writable(self) -> None:
        """Raises OSError unless a file can be written here now (full, read-only, missing)."""
        make_private_dir(self.root)
        if shutil.disk_usage(self.root).free < MIN_FREE_BYTES:
            raise OSError(28, "No space left for another file", str(self.root))
        fd, probe = tempfile.mkstemp(dir=self.root, prefix=".ready-")
        try:
            os.write(fd, b"ready")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)

    async def ready(self) -> None:
        await asyncio.to_thread(self.check_writable)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def has(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.exists, sha256)

    async def names(self) -> AsyncIterator[str]:
        """Every stored file's SHA-256 (for `tayuk files migrate`)."""
        listing = await asyncio.to_thread(
            lambda: sorted(p.name for p in self.root.glob("??/??/*") if is_sha256(p.name))
        )
        for name in listing:
            yield name

    async def close(self) -> None:
        return None

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self._put, data)

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self.path(sha256).read_bytes)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def _put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if target.exists():
            return sha256
        make_private_dir(target.parent)
        # Write, flush to disk, then rename: a crash leaves the old state or the whole file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256


class StoredFiles(Protocol):
    """What the bot, the worker, readiness and the migration need of a file store."""

    async def put(self, data: bytes) -> str: ...
    async def get(self, sha256: str) -> bytes: ...
    async def has(self, sha256: str) -> bool: ...
    async def ready(self) -> None: ...
    def names(self) -> AsyncIterator[str]: ...
    async def close(self) -> None: ...


class FallbackFileStore:
    """Writes to the new store; a read the new store misses is served by the old one.

    For moving between stores without stopping: the replicas run on this while
    `tayuk files migrate` copies the old store's files over.
    """

    def __init__(self, new: StoredFiles, old: StoredFiles) -> None:
        self.new = new
        self.old = old

    async def put(self, data: bytes) -> str:
        return await self.new.put(data)

    async def get(self, sha256: str) -> bytes:
        try:
            return await self.new.get(sha256)
        except FileNotFoundError:
            return await self.old.get(sha256)

    async def has(self, sha256: str) -> bool:
        return await self.new.has(sha256) or await self.old.has(sha256)

    async def ready(self) -> None:
        await self.new.ready()

    def names(self) -> AsyncIterator[str]:
        return self.new.names()

    async def close(self) -> None:
        await self.new.close()
        await self.old.close()


async def copy_files(
    source: StoredFiles, target: StoredFiles, *, concurrency: int = 8
) -> tuple[int, int]:
    """Copies what the target lacks, each file checked against its name; (copied, present)."""
    gate = asyncio.Semaphore(concurrency)
    counts = [0, 0]

    async def one(sha256: str) -> None:
        async with gate:
            if await target.has(sha256):
                counts[1] += 1
                return
            data = await source.get(sha256)
            if hashlib.sha256(data).hexdigest() != sha256:
                raise ValueError(f"{sha256}: the source holds different content")
            await target.put(data)
            counts[0] += 1

    pending: set[asyncio.Task[None]] = set()
    async for name in source.names():
        pending.add(asyncio.create_task(one(name)))
        if len(pending) >= concurrency * 4:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
    for outcome in await asyncio.gather(*pending, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome
    return counts[0], counts[1]
