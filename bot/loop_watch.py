"""Watches the event loop for holds: work that runs without awaiting delays every chat.

A bot process handles all its chats in one event loop. A step that computes for a while
without awaiting (a pass over every organization, a big ORM load, a full garbage
collection) holds back every update that arrives meanwhile; under load these holds were
the slowest acknowledgements of a replica (issue 16), and nothing showed where they came
from. Here a heartbeat task measures how late the loop runs it (into the histogram at
/metrics), and a small thread samples the loop thread's stack while a beat is overdue, so a
hold longer than `warn_after` is logged with the code that held it.

The thread costs a wake-up every `interval`; sampling runs only during a hold.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback
from collections import Counter

from bot.metrics import LOOP_HELD_SECONDS

log = logging.getLogger(__name__)

OWN_CODE = ("/bot/", "/core/", "/storage/", "/handlers/")


def _where(frame: object) -> str:
    """The innermost frames of a stack, this project's first, as one line."""
    stack = traceback.extract_stack(frame)  # type: ignore[arg-type]
    own = [f for f in stack if any(part in f.filename for part in OWN_CODE)]
    shown = (own or stack)[-3:] + ([] if not own or own[-1] is stack[-1] else stack[-1:])
    return " > ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in shown)


class LoopWatch:
    """Start it in the loop it watches; `stop` (or the loop closing) ends it."""

    def __init__(self, warn_after: float, interval: float = 0.02) -> None:
        self.warn_after = warn_after
        self.interval = interval
        self._beat = time.perf_counter()
        self._loop_thread = threading.get_ident()
        self._stopped = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self.holds: list[tuple[float, str]] = []  # (seconds, where) of each logged hold
        self.longest = 0.0  # the latest the heartbeat ever ran, in seconds (benchmarks)

    def start(self) -> None:
        self._loop_thread = threading.get_ident()
        self._beat = time.perf_counter()
        self._task = asyncio.create_task(self._heartbeat(), name="loop-watch")
        self._thread = threading.Thread(target=self._watch, name="loop-watch", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def stop(self) -> None:
        if self.running:  # a hold that lasts until now counts too
            self.longest = max(self.longest, time.perf_counter() - self._beat - self.interval)
        self._stopped.set()
        if self._task is not None:
            self._task.cancel()

    async def _heartbeat(self) -> None:
        try:
            while True:
                self._beat = time.perf_counter()
                await asyncio.sleep(self.interval)
                late = time.perf_counter() - self._beat - self.interval
                LOOP_HELD_SECONDS.observe(max(late, 0.0))
                self.longest = max(self.longest, late)
        finally:
            self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(self.interval):
            beat = self._beat
            if time.perf_counter() - beat < self.warn_after:
                continue
            # A hold: sample where the loop's thread is until the heartbeat runs again.
            seen: Counter[str] = Counter()
            while self._beat == beat and not self._stopped.is_set():
                frame = sys._current_frames().get(self._loop_thread)
                if frame is None:
                    return
                seen[_where(frame)] += 1
                del frame
                time.sleep(self.interval)
            held = (self._beat if self._beat != beat else time.perf_counter()) - beat
            held -= self.interval  # the heartbeat's own sleep
            where = seen.most_common(1)[0][0] if seen else "?"
            self.holds.append((held, where))
            log.warning(
                "the event loop was held %.0f ms, mostly at %s (%d samples)",
                held * 1000,
                where,
                sum(seen.values()),
            )
