"""Real Redis (database 1 unless TAYUK_TEST_REDIS_URL says otherwise) for the replica tests,
and a real S3 server over HTTP (moto's) for the file store."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest
from redis.asyncio import Redis

if TYPE_CHECKING:
    from storage.object_store import S3FileStore

_REDIS_URL = os.environ.get("TAYUK_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def _for_this_test_process(url: str) -> str:
    """Database 1 + N for pytest-xdist worker gwN, so that side-by-side tests never flush each
    other's keys; `url` itself outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    if not number.isdigit():  # no database in the URL: database 0
        base, number = url.rstrip("/"), "0"
    return f"{base}/{int(number) + 1 + int(worker[2:])}"


REDIS_URL = _for_this_test_process(_REDIS_URL)


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as error:
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL} ({error}): start redis-server")
    await client.flushdb()  # this test database only
    try:
        yield REDIS_URL
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
    except Exception as error:  # pragma: no cover - the package or its server is missing
        pytest.skip(f"moto's S3 server cannot start here: {error}")
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its buckets in this process, not in the server: each test starts empty.
    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10
    ).close()
    try:
        yield endpoint
    finally:
        server.stop()


async def make_bucket(store: S3FileStore) -> None:
    s3 = await store._s3()
    await s3.create_bucket(
        Bucket=store.bucket, CreateBucketConfiguration={"LocationConstraint": "il-central-1"}
    )
