"""SQLite for the async engine without a thread hop per call.

aiosqlite runs every call on its own thread and hands each result back through the event
loop. A bot under load keeps its loop busy, so every hop waits its turn, and the
connection sits idle for most of the time a transaction holds it: measured with
`bench/intake.py`, 17 statements per received document held the one writer for about
15 ms, against well under 1 ms of SQLite work. This adapter gives SQLAlchemy's aiosqlite
dialect objects with aiosqlite's shape that call `sqlite3` directly on the loop's thread.

Statements here take tens of microseconds, so running them inline costs the loop less
than one hop did. The one wait that can be long, another process holding the write lock,
is kept off the loop: `BEGIN IMMEDIATE` is retried with `asyncio.sleep` instead of
SQLite's blocking busy handler.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# How long a statement may block the loop waiting for a lock before SQLite gives up.
# Inside a transaction that began IMMEDIATE the lock is ours, so this is a safety net.
STATEMENT_BUSY_MS = 50
_RETRY_FIRST_S = 0.002
_RETRY_MAX_S = 0.05


def _is_busy(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


class InlineCursor:
    """An aiosqlite-shaped cursor whose coroutines finish without suspending."""

    def __init__(self, connection: InlineConnection) -> None:
        self._owner = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        if sql.lstrip()[:5].upper() == "BEGIN":
            await self._owner.begin(self._cursor, sql)
            return self
        self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _ImmediateQueue:
    """SQLAlchemy sets the isolation level through aiosqlite's private call queue."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the waiting future, as aiosqlite does
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection:
    """An aiosqlite-shaped connection over a plain `sqlite3` connection."""

    def __init__(self, conn: sqlite3.Connection, lock_timeout: float) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn  # aiosqlite's "still open" flag
        self._tx = _ImmediateQueue()
        self.lock_timeout = lock_timeout

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def begin(self, cursor: sqlite3.Cursor, sql: str) -> None:
        """Begins, waiting for another process's write lock without blocking the loop."""
        deadline = time.monotonic() + self.lock_timeout
        delay = _RETRY_FIRST_S
        while True:
            try:
                cursor.execute(sql)
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_S)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """aiosqlite's forced close; here the same as closing, and safe to repeat."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_creator(path: str, *, lock_timeout: float = 30.0) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine` opening `path` inline."""

    async def connect() -> InlineConnection:
        # The pool may close a connection from a garbage collector on another thread.
        conn = sqlite3.connect(
            path, timeout=STATEMENT_BUSY_MS / 1000, isolation_level=None, check_same_thread=False
        )
        return InlineConnection(conn, lock_timeout)

    return connect
