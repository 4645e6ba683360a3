"""Engine creation with the settings each dialect needs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.files import make_private_dir
from storage.sqlite_inline import STATEMENT_BUSY_MS, InlineConnection, inline_creator

# Seconds a transaction waits for another process's write lock before it fails.
SQLITE_LOCK_TIMEOUT = 30.0


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 10
) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo}
    database = make_url(url).database if url.startswith("sqlite") else None
    if database and database != ":memory:" and not database.startswith("file:"):
        create_private(Path(database))
        # One connection, statements run inline (see storage.sqlite_inline): every
        # transaction takes SQLite's single write lock anyway, so more connections only
        # add waiting; the pool's queue hands the connection out in order instead.
        kwargs.update(
            async_creator=inline_creator(database, lock_timeout=SQLITE_LOCK_TIMEOUT),
            pool_size=1,
            max_overflow=0,
            pool_timeout=SQLITE_LOCK_TIMEOUT * 2,
        )
    elif url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": SQLITE_LOCK_TIMEOUT}
    else:
        # No pre-ping: it is one more round trip on every checkout (a sixth of the bot's
        # time per document in bench/scale.py). A connection broken by a server restart
        # fails once, SQLAlchemy then drops the whole pool, and the update inbox and the
        # job queue run the failed work again. Recycling covers proxies that drop idle ones.
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock up front: a deferred transaction that reads and then writes fails
    # with SQLITE_BUSY when another writer got in between, and no timeout helps with that.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while the intake writes; busy_timeout waits instead of failing.
    # The driver's own transaction handling is switched off so that "begin" above rules.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    inline = isinstance(getattr(dbapi_connection, "_connection", None), InlineConnection)
    # Inline statements must not block the loop for long; BEGIN waits asynchronously.
    busy_ms = STATEMENT_BUSY_MS if inline else int(SQLITE_LOCK_TIMEOUT * 1000)
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def create_private(database: Path) -> None:
    """A new SQLite database file is readable by this user only (0600) and so, as SQLite
    gives them the database's mode, are its -wal and -shm files."""
    if database.exists():
        return
    make_private_dir(database.parent)
    os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
