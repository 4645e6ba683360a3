"""Server state: bots, users, chats, messages, the update queue, call log, injected failures.

Everything lives in one event loop, so plain mutation between awaits needs no locks.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .errors import ApiError, default_description, too_many_requests
from .files import FileStore
from .validate import check_message, check_update

DEFAULT_USERNAME = "tayuk_test_bot"
DEFAULT_FIRST_NAME = "Tayuk (local)"
# Telegram leaves these out unless allowed_updates asks for them.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
SEND_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendmediagroup",
        "copymessage",
        "copymessages",
        "forwardmessage",
        "sendcontact",
        "sendlocation",
    }
)


class Signal:
    """Wakes every current waiter at once; waiters re-check their own condition."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self) -> None:
        # Callers bound the wait with asyncio.timeout() and re-check their condition.
        await self._event.wait()


@dataclass(slots=True)
class UserInfo:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code", "is_premium"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(slots=True)
class StoredMessage:
    chat_id: int
    message_id: int
    from_bot: bool
    kind: str  # text, photo, document, contact, ...
    data: dict[str, Any]  # the current Telegram Message object
    sent_at: float
    reply_markup: dict[str, Any] | None = None  # as sent, any keyboard kind
    parse_mode: str | None = None
    raw_text: str | None = None  # text/caption before parse_mode was applied
    file_ids: list[str] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted_at: float | None = None
    copied_from: tuple[int, int] | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def view(self) -> dict[str, Any]:
        """The control API's record of a message (what a test asserts on)."""
        data = self.data
        markup = self.reply_markup
        file_info: dict[str, Any] = {}
        if "photo" in data:
            file_info = data["photo"][-1]
        elif "document" in data:
            file_info = data["document"]
        reply = data.get("reply_to_message")
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "kind": self.kind,
            "text": data.get("text"),
            "caption": data.get("caption"),
            "entities": data.get("entities") or data.get("caption_entities") or [],
            "parse_mode": self.parse_mode,
            "raw_text": self.raw_text,
            "reply_markup": markup,
            "inline_keyboard": (markup or {}).get("inline_keyboard"),
            "reply_to": reply["message_id"] if reply else None,
            "media_group_id": data.get("media_group_id"),
            "file_id": file_info.get("file_id"),
            "file_unique_id": file_info.get("file_unique_id"),
            "file_name": file_info.get("file_name"),
            "mime_type": file_info.get("mime_type"),
            "file_size": file_info.get("file_size"),
            "file_ids": list(self.file_ids),
            "edits": list(self.edits),
            "deleted": self.deleted,
            "deleted_at": self.deleted_at,
            "sent_at": self.sent_at,
            "copied_from": list(self.copied_from) if self.copied_from else None,
            "message": data,
        }


@dataclass(slots=True)
class ChatInfo:
    id: int
    type: str  # private, group, supergroup, channel
    title: str | None = None
    user: UserInfo | None = None  # the other side of a private chat
    blocked: bool = False  # the user blocked the bot / the bot was removed from the group
    known: bool = False  # Telegram lets a bot write only where it was started/added
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    bot_message_count: int = 0
    changed: Signal = field(default_factory=Signal)
    # Sends in the last second, for optional flood limits.
    recent_sends: deque[float] = field(default_factory=deque)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            out["first_name"] = self.user.first_name
            if self.user.last_name:
                out["last_name"] = self.user.last_name
            if self.user.username:
                out["username"] = self.user.username
        else:
            out["title"] = self.title or f"Chat {self.id}"
        return out


@dataclass(slots=True)
class UpdateRecord:
    update_id: int
    kind: str
    update: dict[str, Any]
    emitted_at: float
    chat_id: int | None = None
    available_at: float | None = None  # when the bot could first get it (queue / webhook)
    delivered_at: float | None = None  # when the bot first actually got it
    deliveries: int = 0
    redelivery: bool = False  # a duplicate re-emitted by the control API
    webhook_attempts: list[dict[str, Any]] = field(default_factory=list)
    dropped: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "update_id": self.update_id,
            "kind": self.kind,
            "chat_id": self.chat_id,
            "emitted_at": self.emitted_at,
            "available_at": self.available_at,
            "delivered_at": self.delivered_at,
            "deliveries": self.deliveries,
            "redelivery": self.redelivery,
            "webhook_attempts": list(self.webhook_attempts),
            "dropped": self.dropped,
            "update": self.update,
        }


@dataclass(slots=True)
class FailureRule:
    id: int
    method: str  # lower-case method name or "*"
    remaining: int
    error_code: int | None
    description: str | None
    retry_after: int | None
    chat_id: int | None
    delay: float

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.remaining <= 0 or self.method not in ("*", method):
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self) -> ApiError | None:
        if self.error_code is None:
            return None
        params = {"retry_after": self.retry_after or 1} if self.error_code == 429 else None
        description = self.description or default_description(self.error_code, self.retry_after)
        return ApiError(self.error_code, description, params)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "remaining": self.remaining,
            "error_code": self.error_code,
            "description": self.description,
            "retry_after": self.retry_after,
            "chat_id": self.chat_id,
            "delay": self.delay,
        }


@dataclass(slots=True)
class CallRecord:
    seq: int
    method: str
    chat_id: int | str | None
    at: float
    params: dict[str, Any]
    source: str = "http"  # "http" or "webhook-reply"
    finished_at: float | None = None
    status: int | None = None
    ok: bool | None = None
    description: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "chat_id": self.chat_id,
            "at": self.at,
            "finished_at": self.finished_at,
            "status": self.status,
            "ok": self.ok,
            "description": self.description,
            "source": self.source,
            "params": self.params,
        }


@dataclass(slots=True)
class CallbackRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float
    answered_at: float | None = None
    answer: dict[str, Any] | None = None

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "created_at": self.created_at,
            "answered": self.answered_at is not None,
            "answered_at": self.answered_at,
            "answer": self.answer,
        }


@dataclass(slots=True)
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    set_at: float
    last_error_date: int | None = None
    last_error_message: str | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def view(self, pending: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "max_connections": self.max_connections,
        }
        if self.allowed_updates:
            out["allowed_updates"] = self.allowed_updates
        if self.last_error_date is not None:
            out["last_error_date"] = self.last_error_date
            out["last_error_message"] = self.last_error_message
        return out


@dataclass(slots=True)
class Limits:
    """Optional flood limits (off by default): 429 when a bot sends faster than this."""

    per_second: int | None = None
    per_chat_per_second: int | None = None
    webhook_retries: int = 3
    webhook_retry_delay: float = 0.2  # doubled after each failed attempt
    webhook_timeout: float = 30.0


def bot_id_for(token: str) -> int:
    # Real tokens start with the bot id; other strings get a stable made-up id.
    match = re.match(r"^(\d{1,15}):", token)
    if match:
        return int(match.group(1))
    return 5_000_000_000 + int(hashlib.sha256(token.encode()).hexdigest()[:8], 16)


class BotState:
    def __init__(self, token: str, username: str, first_name: str = DEFAULT_FIRST_NAME) -> None:
        self.token = token
        self.id = bot_id_for(token)
        self.username = username
        self.first_name = first_name
        self.limits = Limits()
        self.server: ServerState | None = None  # set by ServerState.bot(); webhooks need it
        self.update_signal = Signal()  # new pending update (or a poll was superseded)
        self.calls_signal = Signal()
        self.messages_signal = Signal()  # any chat got a message
        self.callbacks_signal = Signal()
        # Counters stay monotonic across reset(): a polling bot's offset must not hide new
        # updates, and a bot may cache albums by media_group_id.
        self._update_ids = itertools.count(1)
        self._media_groups = itertools.count(1)
        self._seq = itertools.count(1)
        # The bot's own configuration survives reset(): it set these up at startup.
        self.poll_generation = 0
        self.allowed_updates: list[str] | None = None
        self.webhook: WebhookConfig | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.settings: dict[tuple[str, str], Any] = {}  # descriptions, names, menu buttons
        self._clear()

    def _clear(self) -> None:
        self.users: dict[int, UserInfo] = {}
        self.chats: dict[int, ChatInfo] = {}
        self.files = FileStore()
        self.updates: list[UpdateRecord] = []
        self.updates_by_id: dict[int, UpdateRecord] = {}
        self.pending: deque[UpdateRecord] = deque()
        self.confirmed_offset = 0
        self.callbacks: dict[str, CallbackRecord] = {}
        self.failures: list[FailureRule] = []
        self.calls: list[CallRecord] = []
        self.internal_errors: list[str] = []
        self.recent_sends: deque[float] = deque()

    def reset(self) -> None:
        """Forget users, chats, messages, files, updates, calls and failure rules. Identity,
        limits, webhook and commands stay, so a running bot keeps working."""
        self._clear()
        self.update_signal.fire()

    def stop_webhook(self) -> list[asyncio.Task[None]]:
        """Cancel the delivery workers; returns them so a shutdown can await them."""
        tasks: list[asyncio.Task[None]] = []
        if self.webhook is not None:
            tasks = list(self.webhook.tasks)
            for task in tasks:
                task.cancel()
            self.webhook = None
        return tasks

    # --- identity ------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # --- users and chats -------------------------------------------------------------

    def upsert_user(self, spec: dict[str, Any]) -> UserInfo:
        user_id = int(spec["id"])
        user = self.users.get(user_id)
        if user is None:
            user = UserInfo(id=user_id, first_name=str(spec.get("first_name") or f"User{user_id}"))
            self.users[user_id] = user
        for key in ("first_name", "last_name", "username", "language_code", "is_premium"):
            if spec.get(key) is not None:
                setattr(user, key, spec[key])
        return user

    def private_chat(self, user: UserInfo) -> ChatInfo:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = ChatInfo(id=user.id, type="private", user=user)
            self.chats[user.id] = chat
        return chat

    def upsert_chat(self, spec: dict[str, Any]) -> ChatInfo:
        chat_id = int(spec["id"])
        chat = self.chats.get(chat_id)
        if chat is None:
            kind = spec.get("type") or ("private" if chat_id > 0 else "supergroup")
            chat = ChatInfo(id=chat_id, type=kind)
            self.chats[chat_id] = chat
        if spec.get("title"):
            chat.title = spec["title"]
        return chat

    def known_chat(self, chat_id: int | None) -> ChatInfo | None:
        chat = self.chats.get(chat_id) if chat_id is not None else None
        return chat if chat is not None and chat.known else None

    # --- messages --------------------------------------------------------------------

    def add_message(
        self,
        chat: ChatInfo,
        *,
        from_bot: bool,
        kind: str,
        content: dict[str, Any],
        sender: UserInfo | None = None,
        reply_to: StoredMessage | None = None,
        reply_markup: dict[str, Any] | None = None,
        parse_mode: str | None = None,
        raw_text: str | None = None,
        file_ids: list[str] | None = None,
        now: float | None = None,
    ) -> StoredMessage:
        """Store a message (checked against aiogram's Message model) and wake chat waiters."""
        now = time.time() if now is None else now
        message_id = chat.next_message_id
        data: dict[str, Any] = {
            "message_id": message_id,
            "date": int(now),
            "chat": chat.to_dict(),
            "from": self.bot_user() if from_bot else (sender or chat.user).to_dict(),  # type: ignore[union-attr]
        }
        if reply_to is not None:
            nested = dict(reply_to.data)
            nested.pop("reply_to_message", None)  # Telegram nests one level only
            data["reply_to_message"] = nested
        data.update(content)
        if reply_markup and "inline_keyboard" in reply_markup:
            data["reply_markup"] = {"inline_keyboard": reply_markup["inline_keyboard"]}
        check_message(data)
        chat.next_message_id += 1
        message = StoredMessage(
            chat_id=chat.id,
            message_id=message_id,
            from_bot=from_bot,
            kind=kind,
            data=data,
            sent_at=now,
            reply_markup=reply_markup,
            parse_mode=parse_mode,
            raw_text=raw_text,
            file_ids=file_ids or [],
        )
        chat.messages[message_id] = message
        if from_bot:
            chat.bot_message_count += 1
        chat.changed.fire()
        self.messages_signal.fire()
        return message

    def bot_messages(self, chat_id: int, include_user: bool = False) -> list[StoredMessage]:
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        return [m for m in chat.messages.values() if include_user or m.from_bot]

    async def wait_for_bot_messages(self, chat_id: int, count: int) -> None:
        """Until the chat has `count` bot messages; bound it with asyncio.timeout()."""
        while True:
            chat = self.chats.get(chat_id)
            if chat is not None and chat.bot_message_count >= count:
                return
            if chat is None:  # wait for the chat to appear
                await self.messages_signal.wait()
            else:
                await chat.changed.wait()

    def new_media_group_id(self) -> str:
        return str(13_000_000_000_000_000 + next(self._media_groups))

    # --- updates ---------------------------------------------------------------------

    def emit(
        self, kind: str, payload: dict[str, Any], chat_id: int | None, now: float | None = None
    ) -> UpdateRecord:
        """Queue an update (checked against aiogram's Update model) for polling or webhook."""
        update_id = next(self._update_ids)
        update = {"update_id": update_id, kind: payload}
        check_update(update)
        now = time.time() if now is None else now
        record = UpdateRecord(update_id, kind, update, emitted_at=now, chat_id=chat_id)
        self.updates.append(record)
        self.updates_by_id[update_id] = record
        self._enqueue(record, now)
        return record

    def redeliver(self, update_id: int) -> UpdateRecord:
        """Telegram delivering the same update again (same update_id, same body)."""
        original = self.updates_by_id[update_id]
        now = time.time()
        record = UpdateRecord(
            update_id,
            original.kind,
            original.update,
            emitted_at=now,
            chat_id=original.chat_id,
            redelivery=True,
        )
        self.updates.append(record)
        self._enqueue(record, now)
        return record

    def _enqueue(self, record: UpdateRecord, now: float) -> None:
        if self.webhook is None:
            record.available_at = now  # webhook mode sets it when the POST starts
        self.pending.append(record)
        self.update_signal.fire()

    def _allowed(self, kind: str) -> bool:
        allowed = self.webhook.allowed_updates if self.webhook else self.allowed_updates
        if allowed:
            return kind in allowed
        return kind not in NOT_DEFAULT_UPDATES

    def acknowledge(self, offset: int | None) -> None:
        """getUpdates(offset): every update with a smaller id is confirmed for good."""
        if offset is None or offset == 0:
            return
        if offset < 0:  # keep only the last -offset updates, forget the rest
            records = list(self.pending)
            for record in records[:offset]:
                record.dropped = True
            self.pending = deque(records[offset:])
            return
        self.confirmed_offset = max(self.confirmed_offset, offset)
        confirmed = self.confirmed_offset
        if not any(r.update_id < confirmed for r in self.pending):
            return
        # A re-emitted duplicate has an old id but must still reach the bot once.
        self.pending = deque(
            r
            for r in self.pending
            if not (r.update_id < confirmed and (not r.redelivery or r.deliveries > 0))
        )

    def take_batch(self, limit: int) -> list[UpdateRecord]:
        if self.pending and not all(self._allowed(r.kind) for r in self.pending):
            for record in self.pending:
                if not self._allowed(record.kind):
                    record.dropped = True  # Telegram drops updates the bot did not ask for
            self.pending = deque(r for r in self.pending if self._allowed(r.kind))
        return list(itertools.islice(self.pending, limit))

    @staticmethod
    def mark_delivered(records: list[UpdateRecord], now: float | None = None) -> None:
        now = time.time() if now is None else now
        for record in records:
            if record.delivered_at is None:
                record.delivered_at = now
            record.deliveries += 1

    async def next_for_webhook(self) -> UpdateRecord:
        while True:
            while self.pending:
                record = self.pending.popleft()
                if self._allowed(record.kind):
                    return record
                record.dropped = True
            await self.update_signal.wait()

    # --- callbacks -------------------------------------------------------------------

    async def wait_for_callback_answer(self, query_id: str) -> None:
        """Until the bot answered the query; bound it with asyncio.timeout()."""
        while True:
            record = self.callbacks.get(query_id)
            if record is None or record.answered_at is not None:
                return
            await self.callbacks_signal.wait()

    # --- call log, failures, flood limits --------------------------------------------

    def log_call(
        self, method: str, chat_id: int | str | None, params: dict[str, Any], source: str
    ) -> CallRecord:
        record = CallRecord(next(self._seq), method, chat_id, time.time(), params, source)
        self.calls.append(record)
        return record

    def finish_call(self, record: CallRecord, status: int, body: dict[str, Any]) -> None:
        record.finished_at = time.time()
        record.status = status
        record.ok = bool(body.get("ok"))
        record.description = body.get("description")
        self.calls_signal.fire()

    def add_failure(
        self,
        method: str,
        *,
        count: int = 1,
        error_code: int | None = 429,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
        delay: float = 0.0,
    ) -> FailureRule:
        rule = FailureRule(
            id=len(self.failures) + 1,
            method=method.lower(),
            remaining=count,
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            chat_id=chat_id,
            delay=delay,
        )
        self.failures.append(rule)
        return rule

    async def apply_failures(self, method: str, chat_id: int | None) -> None:
        for rule in self.failures:
            if rule.matches(method, chat_id):
                rule.remaining -= 1
                if rule.delay > 0:
                    await asyncio.sleep(rule.delay)  # only this request waits
                error = rule.error()
                if error is not None:
                    raise error
                return

    def check_flood(self, method: str, chat_id: int | None) -> None:
        limits = self.limits
        if method not in SEND_METHODS or (
            limits.per_second is None and limits.per_chat_per_second is None
        ):
            return
        now = time.monotonic()
        chat = self.chats.get(chat_id) if chat_id is not None else None
        windows: list[tuple[deque[float], int]] = []
        if limits.per_second is not None:
            windows.append((self.recent_sends, limits.per_second))
        if limits.per_chat_per_second is not None and chat is not None:
            windows.append((chat.recent_sends, limits.per_chat_per_second))
        for window, limit in windows:
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= limit:
                raise too_many_requests(max(1, round(window[0] + 1.0 - now + 0.49)))
        for window, _ in windows:
            window.append(now)


class ServerState:
    """All bots of one server; each distinct token is its own bot."""

    def __init__(self, bot_username: str = DEFAULT_USERNAME) -> None:
        self.bot_username = bot_username
        self.bots: dict[str, BotState] = {}
        self.closing = False
        self.started_at = time.time()
        self.http: aiohttp.ClientSession | None = None  # for webhook deliveries

    def http_session(self) -> aiohttp.ClientSession:
        if self.http is None or self.http.closed:
            self.http = aiohttp.ClientSession()
        return self.http

    def bot(self, token: str) -> BotState:
        bot = self.bots.get(token)
        if bot is None:
            bot = BotState(token, self.bot_username)
            bot.server = self
            self.bots[token] = bot
        return bot

    def close(self) -> list[asyncio.Task[None]]:
        """Wake every long poll and waiter so shutdown does not wait for their timeouts."""
        self.closing = True
        tasks: list[asyncio.Task[None]] = []
        for bot in self.bots.values():
            tasks += bot.stop_webhook()
            bot.update_signal.fire()
            bot.calls_signal.fire()
            bot.callbacks_signal.fire()
            bot.messages_signal.fire()
            for chat in bot.chats.values():
                chat.changed.fire()
        return tasks

    async def aclose(self) -> None:
        tasks = self.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.close()
            self.http = None

    def reset(self) -> None:
        for bot in self.bots.values():
            bot.reset()
