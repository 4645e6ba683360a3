"""Updates taken from Telegram through the database: none is lost to a crash or a stop.

Telegram hands each update over once: long polling forgets it when the next `getUpdates`
offset moves past it, a webhook when we answer 200. So every update is first written to
the inbox (storage.inbox) and only then confirmed; it is marked done when its handler has
finished, answer included. At start-up the unfinished ones run again, first in their chat.

Handlers run one chat at a time in arrival order (a chat's queue), chats side by side.
With several replicas (`leases`, in Redis) a chat is run by the replica holding its lease,
which reads the chat's unfinished updates from the inbox, whichever replica accepted them;
a replica that finds the chat taken leaves its update there for the holder. A lease is
taken only when a handler slot is free, and carries a fencing number: the inbox gives an
update (`take`) and marks it done only under a number not older than the last one it saw,
and an answer is sent only after Redis confirms the lease is still ours. A replica that
stalled past its lease therefore neither answers again nor handles what the next holder
finished.

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
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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

from bot import metrics
from bot.chat_leases import ChatLeases
from bot.logs import REQUEST_ID
from core.ports import Clock
from storage.inbox import InboxUpdate, UpdateInbox

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """The update being handled; a handler may hold its "done" until a later answer."""

    update_id: int
    holds: list[Awaitable[Any]] = field(default_factory=list)
    answered: bool = False  # something reached the chat: stopping now would repeat it
    # With chat leases: asks Redis whether the chat's lease is still ours (our fencing
    # number), before each answer. None once the handler has returned: a held answer (an
    # album's summary) comes after the lease is let go, and is the album's to deduplicate.
    still_ours: Callable[[], Awaitable[bool]] | None = None
    lost: bool = False  # the lease went to another replica: no answer, no "done" from us


class LeaseLost(Exception):
    """The chat's lease ran out while its update was handled here, and may be another
    replica's now: answering would answer twice."""


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
        if delivery.lost or (delivery.still_ours is not None and not await delivery.still_ours()):
            # The check narrows the window; it cannot close it: the lease may run out
            # between this look and Telegram's reply, and sendMessage has no idempotency key.
            delivery.lost = True
            raise LeaseLost(f"update {delivery.update_id}: the chat's lease is not ours now")
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
        leases: ChatLeases | None = None,
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
        self.leases = leases
        # Updates with no chat (a member's status in a group, say) have no chat lease: each
        # is leased by its update id, so one replica only runs it, restarts included.
        self.loose_leases = leases.for_updates() if leases is not None else None
        self._fresh: set[int] = set()  # accepted here, never started: a first try
        self._handled: set[int] = set()  # handled here, "done" not yet written

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
        if self.leases is not None:
            # Each chat's holder reads them from the inbox; a chat held by a live replica
            # is that replica's. An update with no chat is taken only with its own lease:
            # one held by a live replica (running it now) is left to that replica.
            left = [row for row in left if row.chat_id is None]
            left = [row for row in left if await self._claim_loose(row.update_id)]
            for chat_id in await self.inbox.waiting_chats(self.clock.now()):
                self._wake(chat_id)
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
        for update_id in given_up:
            await self._release_loose(update_id)
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
                if self.leases is not None and row.chat_id is not None:
                    self._fresh.add(update.update_id)
                elif row.chat_id is None and not await self._claim_loose(update.update_id):
                    continue  # a restarting replica took it from the inbox in between
                self._enqueue(update, row.chat_id)
            else:
                log.info("update %s delivered again; already in the inbox", update.update_id)

    def _enqueue(self, update: Update, chat_id: int | None) -> None:
        key: Hashable = chat_id if chat_id is not None else ("loose", self._next_loose())
        queue = self._queues.setdefault(key, deque())
        queue.append(update)
        if key not in self._runners:
            run = (
                self._run_leased if self.leases is not None and chat_id is not None else self._run
            )
            self._runners[key] = asyncio.create_task(run(key), name=f"chat:{key}")

    def _wake(self, chat_id: int) -> None:
        """Looks at a chat's unfinished updates in the inbox (lease mode)."""
        self._queues.setdefault(chat_id, deque())
        if chat_id not in self._runners:
            self._runners[chat_id] = asyncio.create_task(
                self._run_leased(chat_id), name=f"chat:{chat_id}"
            )

    async def _run_leased(self, key: Hashable) -> None:
        """Runs a chat while this replica holds its lease, from the inbox, in order.

        A handler slot first, then the lease: a lease is held only by work that runs now.
        Taken before a slot was free, 1,000 chats' leases were held by updates waiting
        behind 16 handlers, on an event loop the burst kept busy; some ran out, the other
        replica took those chats and handled the same updates again (issue 16: 56 chats
        answered twice at 1,000 clients).
        """
        assert self.leases is not None and isinstance(key, int)
        leases, queue = self.leases, self._queues[key]
        try:
            while not self._closing:
                async with self._slots:
                    fence = await leases.acquire(key)
                    if fence is None:
                        return  # another replica runs the chat and finds ours in the inbox
                    try:
                        await self._run_from_inbox(key, queue, fence)
                    finally:
                        await leases.release(key)
                # One may have been accepted elsewhere between our last look and the
                # release, its replica finding the chat still ours: look once more. One
                # taken here after that look began is in the queue, left to this runner
                # (it exists): without another round it waited a lease for the sweep. The
                # queue is looked at after the inbox, so that one taken during the look counts.
                if (
                    not [
                        row
                        for row in await self.inbox.unfinished_of_chat(key)
                        if row.update_id not in self._handled
                    ]
                    and not queue
                ):
                    return
        except Exception:
            # Redis or the database away: the updates stay in the inbox, and the sweep
            # (keep_leases) or the next update of the chat runs them.
            log.exception("chat %s: could not run its updates now", key)
        finally:
            for update in queue:
                self._fresh.discard(update.update_id)
            del self._queues[key], self._runners[key]
            self._current.pop(key, None)

    async def _run_from_inbox(self, key: int, queue: deque[Update], fence: int) -> None:
        while not self._closing:
            rows = [
                row
                for row in await self.inbox.unfinished_of_chat(key)
                if row.update_id not in self._handled
            ]
            # Cleared before the return too: each round of _run_leased empties the queue.
            known = {update.update_id: update for update in queue}
            queue.clear()
            if not rows:
                return
            for row in rows:
                if self._closing:
                    return
                update = known.get(row.update_id)
                if update is None:
                    try:
                        update = Update.model_validate(row.body, context={"bot": self.bot})
                    except Exception:
                        log.exception("update %s in the inbox cannot be read", row.update_id)
                        await self.inbox.done([row.update_id], self.clock.now())
                        continue
                if not await self.inbox.take(row.update_id, fence):
                    # Finished by another replica since we looked (our lease ran out and
                    # it took the chat), or taken by a later holder: not ours to handle.
                    continue
                if row.update_id in self._fresh:
                    self._fresh.discard(row.update_id)
                else:
                    # Maybe started by a replica that died: counted as a try.
                    self._retries[row.update_id] = row.attempts
                self._handled.add(row.update_id)
                try:
                    if not await self._handle(key, update, fence):
                        return  # the lease is lost: the chat is its new holder's
                except Exception:
                    log.exception("update %s not marked done", row.update_id)

    async def _claim_loose(self, update_id: int) -> bool:
        """Takes the lease of an update with no chat (always granted without replicas), and
        the update under it, as a chat's holder does (`inbox.take`).

        The lease alone did not do: two replicas' sweeps listed one update a dead replica
        left; one ran it, marked it done and let its lease go, and the other, its list now
        stale, took the free lease and ran it again (CI, 7 ms apart)."""
        if self.loose_leases is None:
            return True
        try:
            fence = await self.loose_leases.acquire(update_id)
            if fence is None:
                return False
            if await self.inbox.take(update_id, fence):
                return True
        except Exception:
            # Redis or the database away: the update stays in the inbox for a replica that
            # can claim it.
            log.exception("update %s: could not take its lease", update_id)
        await self._release_loose(update_id)  # done meanwhile, or not ours to run
        return False

    async def _release_loose(self, update_id: int) -> None:
        if self.loose_leases is None or update_id not in self.loose_leases.held:
            return
        try:
            await self.loose_leases.release(update_id)
        except Exception:
            log.exception("update %s: could not release its lease", update_id)  # it expires

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

    async def _handle(self, key: Hashable, update: Update, fence: int | None = None) -> bool:
        """Handles one update (in a handler slot) and marks it done; False when the chat's
        lease (numbered `fence`) was lost meanwhile: then neither answered nor done here.

        The one window left: a lease can run out between the look before an answer and
        Telegram's reply, and a crash between the answer and "done" repeats it once; both
        because sendMessage has no idempotency key (see the module's note).
        """
        retries = self._retries.pop(update.update_id, None)
        if retries is not None:
            if retries >= self.max_attempts:
                # Each try so far ended with the process (a crash it causes, or a kill):
                # let it go rather than take the bot down forever.
                log.error("update %s given up after %s tries", update.update_id, retries + 1)
                await self.inbox.done([update.update_id], self.clock.now(), fence)
                self._handled.discard(update.update_id)
                await self._release_loose(update.update_id)
                metrics.UPDATES.labels("given_up").inc()
                return True
            await self.inbox.retrying(update.update_id)
        delivery = Delivery(update.update_id)
        if fence is not None and self.leases is not None and isinstance(key, int):
            leases = self.leases
            delivery.still_ours = lambda: leases.holds(key, fence)
        self._current[key] = delivery
        token = CURRENT_DELIVERY.set(delivery)
        request = REQUEST_ID.set(f"u{update.update_id}")
        started = time.perf_counter()
        outcome = "ok"
        # Under a chat lease the runner holds a slot already (taken before the lease).
        slot = contextlib.nullcontext() if fence is not None else self._slots
        try:
            async with slot:
                response = await self.dispatcher.feed_update(self.bot, update)
                if isinstance(response, TelegramMethod):
                    await self.dispatcher.silent_call_request(self.bot, response)
        except Exception:
            # Done all the same: an update that fails every time must not block its chat.
            outcome = "failed"
            log.exception("update %s failed", update.update_id)
        finally:
            delivery.still_ours = None
            if delivery.lost:
                outcome = "lease_lost"
            CURRENT_DELIVERY.reset(token)
            REQUEST_ID.reset(request)
            metrics.UPDATE_SECONDS.observe(time.perf_counter() - started)
            metrics.UPDATES.labels(outcome).inc()
        if delivery.lost:
            # Not done by us: its new holder (or ours again, once the lease is free) runs it.
            log.warning("update %s: chat lease lost, not answered here", update.update_id)
            self._handled.discard(update.update_id)
            return False
        if delivery.holds:
            task = asyncio.create_task(self._done_after(delivery, fence))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
        else:
            try:
                await self._mark_done(update.update_id, fence)
            finally:
                await self._release_loose(update.update_id)
        return True

    async def _mark_done(self, update_id: int, fence: int | None) -> None:
        if not await self.inbox.done([update_id], self.clock.now(), fence) and fence is not None:
            # A later holder of the chat took it (our lease ran out): its "done" counts.
            log.warning("update %s: taken by a later holder of its chat's lease", update_id)
        self._handled.discard(update_id)

    async def _done_after(self, delivery: Delivery, fence: int | None) -> None:
        try:
            results = await asyncio.gather(*delivery.holds, return_exceptions=True)
            if any(isinstance(r, asyncio.CancelledError) for r in results):
                return  # the answer was never given: the update runs again at the next start
            try:
                await self._mark_done(delivery.update_id, fence)
            except Exception:
                log.exception("update %s not marked done", delivery.update_id)
        finally:
            await self._release_loose(delivery.update_id)

    async def keep_leases(self) -> None:
        """Renews the chats held here; hands over the chats of replicas that died.

        Runs until cancelled (a task of the app) when there are leases. The sweep for dead
        replicas' chats reads the database, whose pool a burst keeps busy for seconds: it
        runs beside the renewals, never in their way (issue 16: 1,000 clients at once,
        renewals waiting behind it let 639 leases lapse while their chats were handled).
        """
        assert self.leases is not None
        seconds = self.leases.seconds
        loop = asyncio.get_running_loop()
        last_sweep = loop.time()
        sweeping: asyncio.Task[None] | None = None
        me = asyncio.current_task()
        try:
            while True:
                await asyncio.sleep(seconds / 3)
                try:
                    await self.leases.renew_all()
                    if self.loose_leases is not None:
                        await self.loose_leases.renew_all()
                except Exception:
                    log.exception("could not renew the chat leases")
                if me is not None and me.cancelling():
                    # Told to stop, but a call in the renewal lost the cancellation
                    # (asyncio.wait_for on Python 3.11 can). Renewing on, a stopping
                    # replica would keep its chats from every other replica for ever.
                    raise asyncio.CancelledError
                now = loop.time()
                if (
                    self.taking
                    and now - last_sweep >= seconds
                    and (sweeping is None or sweeping.done())
                ):
                    last_sweep = now
                    sweeping = asyncio.create_task(self._sweep(seconds), name="lease-sweep")
        finally:
            if sweeping is not None:
                sweeping.cancel()

    async def _sweep(self, seconds: float) -> None:
        """Wakes the chats with an update waiting longer than a lease (its replica died)."""
        try:
            stale = self.clock.now() - timedelta(seconds=seconds)
            for chat_id in await self.inbox.waiting_chats(stale):
                self._wake(chat_id)
            await self._sweep_loose(stale)
        except Exception:
            log.exception("could not sweep for chats left by other replicas")

    async def _sweep_loose(self, received_before: datetime) -> None:
        """Runs the updates with no chat that a dead replica left (their lease expired)."""
        for row in await self.inbox.unfinished_without_chat(received_before):
            if not await self._claim_loose(row.update_id):
                continue  # a live replica runs it (or it is ours, already queued)
            try:
                update = Update.model_validate(row.body, context={"bot": self.bot})
            except Exception:
                log.exception("update %s in the inbox cannot be read", row.update_id)
                await self.inbox.done([row.update_id], self.clock.now())
                await self._release_loose(row.update_id)
                continue
            self._retries[row.update_id] = row.attempts
            self._enqueue(update, None)

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
