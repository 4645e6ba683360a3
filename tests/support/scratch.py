"""Emptying a scratch PostgreSQL database, for tests and benchmarks only."""

from __future__ import annotations

import os

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.database import create_engine


def for_this_test_process(url: str) -> str:
    """The scratch database of this pytest-xdist worker (`test_gw0`, ...), so that tests running
    side by side never empty each other's database; `url` itself outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


async def empty_postgres(url: str) -> None:
    """Drops everything in the `public` schema of the database at `url`, first creating the
    database when it does not exist yet (a worker's own scratch database)."""
    await _create_if_missing(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def _create_if_missing(url: str) -> None:
    parsed = make_url(url)
    name = parsed.database
    assert name, url
    # The maintenance database, outside a transaction: CREATE DATABASE cannot run inside one.
    admin = create_async_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
