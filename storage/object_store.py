"""Files in S3-compatible object storage (AWS S3, MinIO, ...), content-addressed as on disk.

An object's key is the file's SHA-256 under a prefix, so a file is written once whoever
sends it, and a copy between stores (`tayuk files migrate`) can be checked by its name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

from storage.files import is_sha256

_MISSING = {"404", "NoSuchKey", "NotFound"}


class StoredFiles(Protocol):
    """What the bot, the worker, readiness and the migration need of a file store."""

    async def put(self, data: bytes) -> str: ...
    async def get(self, sha256: str) -> bytes: ...
    async def has(self, sha256: str) -> bool: ...
    async def ready(self) -> None: ...
    def names(self) -> AsyncIterator[str]: ...
    async def close(self) -> None: ...


class S3FileStore:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "files/",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        encryption: str = "AES256",
        kms_key_id: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self._session = aioboto3.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region or "us-east-1",
        )
        # What each written object asks of the store: encrypted at rest where it can.
        self._encryption: dict[str, str] = {}
        if encryption != "none":
            self._encryption["ServerSideEncryption"] = encryption
            if encryption == "aws:kms" and kms_key_id:
                self._encryption["SSEKMSKeyId"] = kms_key_id
        self._client: Any = None
        self._stack = contextlib.AsyncExitStack()
        self._opening = asyncio.Lock()

    async def _s3(self) -> Any:
        # One client (and its connection pool) for the process, opened on first use.
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    self._client = await self._stack.enter_async_context(
                        self._session.client(
                            "s3",
                            endpoint_url=self.endpoint_url,
                            config=Config(
                                retries={"max_attempts": 5, "mode": "standard"},
                                max_pool_connections=20,
                            ),
                        )
                    )
        return self._client

    def key(self, sha256: str) -> str:
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    async def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if await self.has(sha256):
            return sha256
        s3 = await self._s3()
        await s3.put_object(
            Bucket=self.bucket,
            Key=self.key(sha256),
            Body=data,
            ContentType="application/octet-stream",
            **self._encryption,
        )
        return sha256

    async def get(self, sha256: str) -> bytes:
        s3 = await self._s3()
        try:
            response = await s3.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _code(error) in _MISSING:
                raise FileNotFoundError(self.key(sha256)) from error
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def has(self, sha256: str) -> bool:
        s3 = await self._s3()
        try:
            await s3.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _code(error) in _MISSING:
                return False
            raise
        return True

    async def encryption_of(self, sha256: str) -> str | None:
        """The server-side encryption the store reports for a file (tests, audits)."""
        s3 = await self._s3()
        head = await s3.head_object(Bucket=self.bucket, Key=self.key(sha256))
        return head.get("ServerSideEncryption")

    async def ready(self) -> None:
        """Raises unless a file can be written now (store away, bucket missing, no rights)."""
        s3 = await self._s3()
        await s3.put_object(
            Bucket=self.bucket, Key=f"{self.prefix}.ready", Body=b"ready", **self._encryption
        )

    async def names(self) -> AsyncIterator[str]:
        s3 = await self._s3()
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = str(item["Key"]).rsplit("/", 1)[-1]
                if is_sha256(name):
                    yield name

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None


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
    for task in await asyncio.gather(*pending, return_exceptions=True):
        if isinstance(task, BaseException):
            raise task
    return counts[0], counts[1]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
