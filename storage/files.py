"""Content-addressed file store on disk: a file's name is its SHA-256."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path


class DiskFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

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
        target.parent.mkdir(parents=True, exist_ok=True)
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
