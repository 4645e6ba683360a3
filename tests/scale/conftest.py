"""Real Redis (database 1 unless TAYUK_TEST_REDIS_URL says otherwise) for the replica tests,
and a real S3 server over HTTP (moto's) for the file store."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest
from redis.asyncio import Redis

from bench.cluster import moto_s3

if TYPE_CHECKING:
    pass

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
        server = moto_s3()
        endpoint = server.__enter__()
    except Exception as error:  # pragma: no cover - the package or its server is missing
        pytest.skip(f"moto's S3 server cannot start here: {error}")
    try:
        yield endpoint
    finally:
        server.__exit__(None, None, None)
