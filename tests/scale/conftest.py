"""Real Redis (database 1 unless TAYUK_TEST_REDIS_URL says otherwise) for the replica tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

REDIS_URL = os.environ.get("TAYUK_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


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
