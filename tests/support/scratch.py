"""Emptying a scratch PostgreSQL database, for tests and benchmarks only."""

from __future__ import annotations

from sqlalchemy import text

from storage.database import create_engine


async def empty_postgres(url: str) -> None:
    """Drops everything in the `public` schema of the database at `url`."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
