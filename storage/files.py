"""Content-addressed file store on disk: a file's name is its SHA-256."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

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
