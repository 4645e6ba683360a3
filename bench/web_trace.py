"""Where a web request's time goes in the bot's process, for `bench/web.py --trace`.

Per request kind (review action, review read, upload): the server-side time, the time spent
waiting for a database connection from the pool and how often one was taken, and how long
each connection was held. Beside them, the event loop's lag (how late a 5 ms timer fires):
the time any ready request waits for the loop while other work runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import os
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_CURRENT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "bench_trace", default=None
)


def kind_of(request: Request) -> str:
    path = request.url.path
    if path.startswith("/app/api/review/documents/") and request.method == "POST":
        return "review_action"
    if path.startswith("/app/api/review/"):
        return "review_read"
    if path.startswith("/app/api/upload"):
        return "upload"
    return "other"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {}

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 2)

    return {"n": len(ordered), "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": at(1.0)}


class Trace:
    def __init__(self) -> None:
        self.requests: dict[str, list[dict[str, float]]] = defaultdict(list)
        self.holds: dict[str, list[float]] = defaultdict(list)
        self.lag: list[float] = []
        self._lag_task: asyncio.Task[None] | None = None
        self.slow: dict[str, list[float]] = {}
        self.gc_pauses: dict[str, list[float]] = defaultdict(list)

    def install(self, web: FastAPI, engines: list[AsyncEngine]) -> None:
        @web.middleware("http")
        async def traced(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            record = {"wait": 0.0, "checkouts": 0.0, "hold": 0.0}
            token = _CURRENT.set(record)
            started = time.perf_counter()
            try:
                return await call_next(request)
            finally:
                record["total"] = time.perf_counter() - started
                self.requests[kind_of(request)].append(record)
                _CURRENT.reset(token)

        for engine in engines:
            self._watch(engine)

    def _watch(self, engine: AsyncEngine) -> None:
        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            record = _CURRENT.get()
            if record is not None:
                record["statements"] = record.get("statements", 0.0) + 1
                if os.environ.get("BENCH_SQL"):  # the statements of each kind's last request
                    record.setdefault("sql", []).append(" ".join(statement.split())[:160])
                record["_sql_at"] = time.perf_counter()

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def timed_sql(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            record = _CURRENT.get()
            if record is not None and "_sql_at" in record:
                spent = time.perf_counter() - record.pop("_sql_at")
                record.setdefault("timed", []).append((" ".join(statement.split()[:4]), spent))

        pool = engine.sync_engine.pool
        original = pool._do_get

        def timed_get() -> Any:
            started = time.perf_counter()
            try:
                return original()
            finally:
                record = _CURRENT.get()
                if record is not None:
                    record["wait"] += time.perf_counter() - started
                    record["checkouts"] += 1

        pool._do_get = timed_get  # type: ignore[method-assign]

        @event.listens_for(pool, "checkout")
        def checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
            record.info["bench_out"] = time.perf_counter()
            current = _CURRENT.get()
            record.info["bench_kind"] = current.get("kind") if current else None
            record.info["bench_record"] = current

        @event.listens_for(pool, "checkin")
        def checkin(_dbapi: Any, record: Any) -> None:
            out = record.info.pop("bench_out", None)
            owner = record.info.pop("bench_record", None)
            if out is None:
                return
            held = time.perf_counter() - out
            if owner is not None:
                owner["hold"] += held
            self.holds["all"].append(held)

    def watch_callbacks(self, slower_than: float = 0.02) -> None:
        """Which steps of which coroutines keep the loop longer than `slower_than`."""
        original = asyncio.events.Handle._run
        slow = self.slow = defaultdict(list)

        def timed(handle: asyncio.events.Handle) -> None:
            started = time.perf_counter()
            original(handle)
            spent = time.perf_counter() - started
            if spent > slower_than:
                callback = handle._callback  # type: ignore[attr-defined]
                owner = getattr(callback, "__self__", None)
                coro = getattr(owner, "get_coro", lambda: None)()
                where = coro
                while where is not None and getattr(where, "cr_await", None) is not None:
                    inner = where.cr_await
                    if not hasattr(inner, "cr_code"):
                        break
                    where = inner
                name = (
                    f"{coro.__qualname__} -> {where.__qualname__}"
                    if coro is not None and where is not None
                    else repr(callback)[:80]
                )
                slow[name].append(spent)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]

    def watch_gc(self) -> None:
        """How long the garbage collector stops everything, by generation."""
        started: dict[str, float] = {}
        pauses = self.gc_pauses

        def callback(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                started["at"] = time.perf_counter()
            elif "at" in started:
                pauses[f"gen{info['generation']}"].append(time.perf_counter() - started.pop("at"))

        gc.callbacks.append(callback)

    def start_lag_monitor(self) -> None:
        async def watch() -> None:
            loop = asyncio.get_running_loop()
            while True:
                planned = loop.time() + 0.005
                await asyncio.sleep(0.005)
                self.lag.append(max(0.0, loop.time() - planned))

        self._lag_task = asyncio.create_task(watch())

    @staticmethod
    def _slowest(records: list[dict[str, Any]], share: float = 0.02) -> list[dict[str, Any]]:
        """The slowest requests of a kind: their statements' own times, and the rest of the
        connection's hold (the commit, and the loop's delays between statements)."""
        ordered = sorted(records, key=lambda r: -r["total"])[: max(1, int(len(records) * share))]
        out = []
        for r in ordered:
            timed = r.get("timed", [])
            in_sql = sum(t for _, t in timed)
            out.append(
                {
                    "total_ms": round(r["total"] * 1e3, 1),
                    "held_ms": round(r["hold"] * 1e3, 1),
                    "sql_ms": round(in_sql * 1e3, 1),
                    "top": [
                        (name, round(t * 1e3, 1))
                        for name, t in sorted(timed, key=lambda x: -x[1])[:3]
                    ],
                }
            )
        return out

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"loop_lag_ms": percentiles(self.lag)}
        for kind, records in sorted(self.requests.items()):
            out[kind] = {
                "total_ms": percentiles([r["total"] for r in records]),
                "pool_wait_ms": percentiles([r["wait"] for r in records]),
                "held_ms": percentiles([r["hold"] for r in records]),
                "checkouts_mean": round(sum(r["checkouts"] for r in records) / len(records), 2),
                "sql_example": records[-1].get("sql"),
                "statements_mean": round(
                    sum(r.get("statements", 0) for r in records) / len(records), 2
                ),
            }
            out[kind]["slowest"] = self._slowest(records)
        out["connection_held_ms"] = percentiles(self.holds["all"])
        out["gc_pause_ms"] = {
            gen: {**percentiles(times), "sum": round(sum(times) * 1000)}
            for gen, times in sorted(self.gc_pauses.items())
        }
        out["slow_steps"] = {
            name: {"n": len(times), "ms": round(sum(times) * 1e3), "max": round(max(times) * 1e3)}
            for name, times in sorted(self.slow.items(), key=lambda kv: -sum(kv[1]))[:12]
        }
        return out
