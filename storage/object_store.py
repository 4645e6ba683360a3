"""Files in S3-compatible object storage (AWS S3, MinIO, ...), content-addressed as on disk.

An object's key is the file's SHA-256 under a prefix, so a file is written once whoever
sends it, and a copy between stores (`tayuk files migrate`) can be checked by its name.
Imported only when the settings choose S3: boto costs a process about 37 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

from storage.files import is_sha256

_MISSING = {"404", "NoSuchKey", "NotFound"}


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
        encryption = head.get("ServerSideEncryption")
        return str(encryption) if encryption is not None else None

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


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
