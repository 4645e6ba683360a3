"""SQLite run inline: many transactions on one connection, and another process's lock."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import database
from storage.database import create_engine
from storage.sqlite_inline import InlineConnection


async def make_counter(path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await conn.execute(text("INSERT INTO counter VALUES (0)"))
    await engine.dispose()


async def test_file_databases_run_inline_on_one_connection(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, InlineConnection)
        mode = await conn.scalar(text("PRAGMA journal_mode"))
        assert mode == "wal"
    assert engine.pool.size() == 1
    await engine.dispose()


async def test_concurrent_transactions_queue_and_all_commit(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    await make_counter(path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")

    async def bump() -> None:
        async with engine.begin() as conn:
            n = await conn.scalar(text("SELECT n FROM counter"))
            await asyncio.sleep(0)  # let every other task try to get in between
            await conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    await asyncio.gather(*(bump() for _ in range(300)))
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT n FROM counter")) == 300
    await engine.dispose()


async def test_waiting_for_another_process_does_not_block_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    await make_counter(path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def release_later() -> None:
        await asyncio.sleep(0.5)
        other.execute("UPDATE counter SET n = 41")
        other.execute("COMMIT")

    tick_task = asyncio.create_task(ticker())
    release = asyncio.create_task(release_later())
    started = time.monotonic()
    async with engine.begin() as conn:
        waited = time.monotonic() - started
        n = await conn.scalar(text("SELECT n FROM counter"))
        await conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
    tick_task.cancel()
    await release
    assert waited >= 0.45
    assert n == 41  # it saw the other process's committed write
    assert ticks >= 15  # the loop kept running (blocked, it would not tick at all)
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT n FROM counter")) == 42
    other.close()
    await engine.dispose()


async def test_a_lock_held_too_long_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.db"
    await make_counter(path)
    monkeypatch.setattr(database, "SQLITE_LOCK_TIMEOUT", 0.3)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE counter SET n = 1"))
    assert 0.25 <= time.monotonic() - started < 5
    other.execute("ROLLBACK")
    async with engine.begin() as conn:  # the connection is usable again
        await conn.execute(text("UPDATE counter SET n = 7"))
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT n FROM counter")) == 7
    other.close()
    await engine.dispose()
