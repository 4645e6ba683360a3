"""Updates taken from Telegram through the database: none is lost to a crash or a stop.

Telegram hands each update over once: long polling forgets it when the next `getUpdates`
offset moves past it, a webhook when we answer 200. So every update is first written to
the inbox (storage.inbox) and only then confirmed; it is marked done when its handler has
finished, answer included. At start-up the unfinished ones run again, first in their chat.

Handlers run one chat at a time in arrival order (a chat's queue), chats side by side.

What "done" promises: a handler's effects commit in its own unit of work, and "done" is a
later short transaction, after its answer went out. A crash in between runs the handler
again, so handlers must be safe to run twice: a photo is stored once (one document per
message, `uq_documents_source`) and its answer is given again from what was stored. The
answer is sent before "done", so a crash can never lose it; a crash in the few
milliseconds between the answer's HTTP reply and the "done" commit repeats it once. We
chose a possible repeat over a possible silence: a client told twice "received" loses
nothing; a client told nothing sends again or thinks the office has the paper when it
does not. (An outbox of answers written with the handler's commit would narrow nothing:
its own "sent" mark has the same window, because Telegram's sendMessage has no
idempotency key.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Update

from core.ports import Clock
from storage.inbox import InboxUpdate, UpdateInbox

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """The update being handled; a handler may hold its "done" until a later answer."""

    update_id: int
    holds: list[Awaitable[Any]] = field(default_factory=list)
    answered: bool = False  # something reached the chat: stopping now would repeat it


# Calls that put something in front of the client (not reads, not "typing...").
_ANSWERS = ("Send", "Edit", "Copy", "Forward")


class MarkAnswered(BaseRequestMiddleware):
    """Notes on the update being handled that its answer went out."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        delivery = CURRENT_DELIVERY.get()
        name = type(method).__name__
        if delivery is None or not name.startswith(_ANSWERS) or name == "SendChatAction":
            return await make_request(bot, method)
        try:
            return await make_request(bot, method)
        finally:
            # Also when the reply was lost on the way back: Telegram may have it.
            delivery.answered = True


# How long a stop waits past its deadline for handlers whose answer already went out.
ANSWERED_GRACE_S = 3.0
CURRENT_DELIVERY: ContextVar[Delivery | None] = ContextVar("current_delivery", default=None)


def hold_done_until(answered: Awaitable[Any]) -> None:
    """Keeps the current update unfinished until `answered` completes.

    For an answer sent after the handler returned (an album's one summary): a crash
    before it replays the update, so the answer is not lost.
    """
    delivery = CURRENT_DELIVERY.get()
    if delivery is not None:
        delivery.holds.append(answered)


def chat_of(update: Update) -> int | None:
    context = UserContextMiddleware.resolve_event_context(update)
    return context.chat_id if context.chat_id is not None else context.user_id


def raw_of(update: Update) -> dict[str, Any]:
    return update.model_dump(mode="json", exclude_unset=True, by_alias=True)


class InboxProcessor:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        inbox: UpdateInbox,
        clock: Clock,
        *,
        max_attempts: int = 3,
        keep_done: timedelta = timedelta(days=7),
        concurrency: int = 16,
    ) -> None:
        self.dispatcher = dispatcher
        # Chats run side by side, but only this many handlers at once: 1,000 clients at
        # once otherwise start 1,000 handlers that queue for the database pool's few
        # connections, and those waiting longer than its timeout fail (bench/scale.py).
        self._slots = asyncio.Semaphore(concurrency)
        self.bot = bot
        self.inbox = inbox
        self.clock = clock
        self.max_attempts = max_attempts
        self.keep_done = keep_done
        self.taking = True
        self._queues: dict[Hashable, deque[Update]] = {}
        self._runners: dict[Hashable, asyncio.Task[None]] = {}
        self._finishing: set[asyncio.Task[None]] = set()
        self._loose = 0  # keys for updates with no chat
        self._retries: dict[int, int] = {}  # replayed update -> tries before this run
        self._current: dict[Hashable, Delivery] = {}  # the update each chat is handling
        self._closing = False  # past the drain's deadline: start nothing new

    @property
    def busy(self) -> int:
        """Updates taken and not yet done."""
        queued = sum(len(q) for q in self._queues.values())
        return queued + len(self._runners) + len(self._finishing)

    async def replay(self) -> int:
        """Queues what an earlier run left unfinished, before any new update."""
        self.taking, self._closing = True, False
        await self.inbox.forget_done(self.clock.now() - self.keep_done)
        left = await self.inbox.unfinished()
        given_up: list[int] = []
        for row in left:
            try:
                update = Update.model_validate(row.body, context={"bot": self.bot})
            except Exception:
                log.exception("update %s in the inbox cannot be read", row.update_id)
                given_up.append(row.update_id)
                continue
            self._retries[row.update_id] = row.attempts
            self._enqueue(update, row.chat_id)
        await self.inbox.done(given_up, self.clock.now())
        if left:
            log.info("replaying %s unfinished updates", len(left) - len(given_up))
        return len(left) - len(given_up)

    async def take(self, updates: list[Update]) -> None:
        """Writes the updates down (durable once this returns), then queues the new ones."""
        if not updates:
            return
        rows = [InboxUpdate(u.update_id, chat_of(u), raw_of(u), 0) for u in updates]
        fresh = await self.inbox.accept(rows, self.clock.now())
        for update, row in zip(updates, rows, strict=True):
            if update.update_id in fresh:
                self._enqueue(update, row.chat_id)
            else:
                log.info("update %s delivered again; already in the inbox", update.update_id)

    def _enqueue(self, update: Update, chat_id: int | None) -> None:
        key: Hashable = chat_id if chat_id is not None else ("loose", self._next_loose())
        queue = self._queues.setdefault(key, deque())
        queue.append(update)
        if key not in self._runners:
            self._runners[key] = asyncio.create_task(self._run(key), name=f"chat:{key}")

    def _next_loose(self) -> int:
        self._loose += 1
        return self._loose

    async def _run(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue and not self._closing:
                try:
                    await self._handle(key, queue[0])
                except Exception:
                    # Its "done" could not be written (the database is away): it stays
                    # unfinished and runs again at the next start; the chat goes on.
                    log.exception("update %s not marked done", queue[0].update_id)
                queue.popleft()
        finally:
            del self._queues[key], self._runners[key]
            self._current.pop(key, None)

    async def _handle(self, key: Hashable, update: Update) -> None:
        retries = self._retries.pop(update.update_id, None)
        if retries is not None:
            if retries >= self.max_attempts:
                # Each try so far ended with the process (a crash it causes, or a kill):
                # let it go rather than take the bot down forever.
                log.error("update %s given up after %s tries", update.update_id, retries + 1)
                await self.inbox.done([update.update_id], self.clock.now())
                return
            await self.inbox.retrying(update.update_id)
        delivery = Delivery(update.update_id)
        self._current[key] = delivery
        token = CURRENT_DELIVERY.set(delivery)
        try:
            async with self._slots:
                response = await self.dispatcher.feed_update(self.bot, update)
                if isinstance(response, TelegramMethod):
                    await self.dispatcher.silent_call_request(self.bot, response)
        except Exception:
            # Done all the same: an update that fails every time must not block its chat.
            log.exception("update %s failed", update.update_id)
        finally:
            CURRENT_DELIVERY.reset(token)
        if delivery.holds:
            task = asyncio.create_task(self._done_after(delivery))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
        else:
            await self.inbox.done([update.update_id], self.clock.now())

    async def _done_after(self, delivery: Delivery) -> None:
        results = await asyncio.gather(*delivery.holds, return_exceptions=True)
        if any(isinstance(r, asyncio.CancelledError) for r in results):
            return  # the answer was never given: the update runs again at the next start
        try:
            await self.inbox.done([delivery.update_id], self.clock.now())
        except Exception:
            log.exception("update %s not marked done", delivery.update_id)

    async def drain(self, seconds: float) -> bool:
        """Stops taking updates and finishes those taken, for at most `seconds`.

        Whatever is left stays unfinished in the inbox and runs at the next start.
        """
        self.taking = False
        deadline = asyncio.get_running_loop().time() + seconds
        while self._runners or self._finishing:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            await asyncio.wait([*self._runners.values(), *self._finishing], timeout=left)
        # Out of time. A handler whose answer is out is let finish (a moment: its "done"),
        # or the next start would answer again; the others stop and run at the next start.
        self._closing = True
        unfinished = self.busy
        answering = [
            task
            for key, task in self._runners.items()
            if key in self._current and self._current[key].answered
        ]
        for task in list(self._runners.values()):
            if task not in answering:
                task.cancel()
        if answering:
            await asyncio.wait(answering, timeout=ANSWERED_GRACE_S)
        if unfinished:
            log.warning(
                "stopping with %s updates unfinished; they run at the next start", unfinished
            )
        await self.cancel()
        return not unfinished

    async def cancel(self) -> None:
        tasks = [*self._runners.values(), *self._finishing]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def poll(
    bot: Bot,
    processor: InboxProcessor,
    stop: asyncio.Event,
    *,
    polling_timeout: int = 10,
    allowed_updates: list[str] | None = None,
) -> None:
    """Long polling that confirms an update only after the inbox holds it.

    The offset sent with the next `getUpdates` is what confirms a batch to Telegram, and
    it is moved only after `processor.take` has committed the batch.
    """
    request = GetUpdates(timeout=polling_timeout, allowed_updates=allowed_updates)
    request_timeout = int((bot.session.timeout or 60) + polling_timeout)
    stopping = asyncio.create_task(stop.wait())
    delay = 0.5
    try:
        while not stop.is_set():
            fetch = asyncio.ensure_future(bot(request, request_timeout=request_timeout))
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(BaseException):
                    await fetch
                break
            try:
                updates = fetch.result()
                await processor.take(updates)
            except Exception as error:
                log.error("could not take updates (%s); trying again in %.1fs", error, delay)
                await asyncio.wait({stopping}, timeout=delay)
                delay = min(delay * 2, 10.0)
                continue
            delay = 0.5
            if updates:
                request.offset = updates[-1].update_id + 1
    finally:
        stopping.cancel()
