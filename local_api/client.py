"""Python client of the control API (tests, benchmarks): act as users, inspect the bot."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, cast

import aiohttp
import httpx

# Sockets one client opens at most (aiohttp transport); more calls wait for a free one.
CONNECTIONS = 200


class ControlApiError(Exception):
    def __init__(self, status: int, message: str, telegram: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.telegram = telegram  # the Telegram-shaped error, when a Telegram rule refused it


@dataclass(frozen=True, slots=True)
class TgUser:
    """A Telegram user as the control API creates them (private chat id == user id)."""

    id: int
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def spec(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


@dataclass(slots=True)
class Emitted:
    """An update the server emitted for the bot."""

    update_id: int
    update: dict[str, Any]
    available_at: float | None
    message: dict[str, Any] | None = None
    callback_query_id: str | None = None

    @property
    def message_id(self) -> int | None:
        return self.message["message_id"] if self.message else None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Emitted:
        return cls(
            update_id=data["update_id"],
            update=data["update"],
            available_at=data.get("available_at"),
            message=data.get("message"),
            callback_query_id=data.get("callback_query_id"),
        )


@dataclass(slots=True)
class ChatMessage:
    """A message in a chat as the server recorded it (see StoredMessage.view)."""

    message_id: int
    chat_id: int
    from_bot: bool
    kind: str
    text: str | None
    caption: str | None
    entities: list[dict[str, Any]]
    parse_mode: str | None
    raw_text: str | None
    reply_markup: dict[str, Any] | None
    inline_keyboard: list[list[dict[str, Any]]] | None
    reply_to: int | None
    media_group_id: str | None
    file_id: str | None
    file_unique_id: str | None
    file_name: str | None
    mime_type: str | None
    file_size: int | None
    file_ids: list[str]
    edits: list[dict[str, Any]]
    deleted: bool
    deleted_at: float | None
    sent_at: float
    copied_from: list[int] | None
    message: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatMessage:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def content(self) -> str | None:
        """Text, or caption for media."""
        return self.text if self.text is not None else self.caption

    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, row by row, flattened."""
        return [button for row in self.inline_keyboard or [] for button in row]

    def button_data(self, text: str) -> str:
        for button in self.buttons():
            if button.get("text") == text:
                return str(button["callback_data"])
        raise KeyError(f"no inline button {text!r}")


@dataclass(slots=True)
class AlbumItem:
    data: bytes
    type: str = "photo"  # or "document"
    file_name: str | None = None
    mime_type: str | None = None
    caption: str | None = None
    width: int | None = None
    height: int | None = None
    declared_size: int | None = None

    def spec(self) -> dict[str, Any]:
        out = {"type": self.type}
        for key in ("file_name", "mime_type", "caption", "width", "height", "declared_size"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(slots=True)
class CallRecord:
    """One Bot API call the bot made."""

    seq: int
    method: str
    chat_id: int | str | None
    at: float
    finished_at: float | None
    status: int | None
    ok: bool | None
    description: str | None
    source: str
    params: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _user(user: TgUser | int | dict[str, Any]) -> dict[str, Any]:
    if isinstance(user, TgUser):
        return user.spec()
    if isinstance(user, int):
        return {"id": user}
    return dict(user)


def _chat(chat: int | dict[str, Any] | None) -> dict[str, Any]:
    if chat is None:
        return {}
    return {"chat": {"id": chat} if isinstance(chat, int) else dict(chat)}


@dataclass(slots=True)
class _Reply:
    status: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class _Transport:
    """The HTTP client under LocalApiClient: httpx (default) or aiohttp.

    Why two: httpcore 1.0's connection pool is quadratic in open connections, so 200
    simultaneous uploads take seconds with httpx and ~0.5 s with aiohttp. Benchmarks that
    fire hundreds of users at once should pass transport="aiohttp".
    """

    def __init__(self, kind: str, timeout: float, http: httpx.AsyncClient | None = None) -> None:
        if kind not in ("httpx", "aiohttp"):
            raise ValueError(f"unknown transport {kind!r}")
        self.kind = kind
        self.timeout = timeout
        self._owns_httpx = http is None
        self._httpx = http
        self._aiohttp: aiohttp.ClientSession | None = None

    async def request(
        self,
        verb: str,
        url: str,
        *,
        query: dict[str, Any] | None,
        body: dict[str, Any] | None,
        files: dict[str, tuple[str, bytes]] | None,
        seconds: float,
    ) -> _Reply:
        if self.kind == "aiohttp":
            return await self._aiohttp_request(verb, url, query, body, files, seconds)
        if self._httpx is None:
            self._httpx = httpx.AsyncClient(
                timeout=self.timeout,
                limits=httpx.Limits(max_connections=50, max_keepalive_connections=50),
            )
        kwargs: dict[str, Any] = {"params": query, "timeout": seconds}
        if files:
            kwargs["data"] = {"payload": json.dumps(body or {})}
            kwargs["files"] = files
        elif body is not None:
            kwargs["json"] = body
        response = await self._httpx.request(verb, url, **kwargs)
        return _Reply(response.status_code, response.content)

    async def _aiohttp_request(
        self,
        verb: str,
        url: str,
        query: dict[str, Any] | None,
        body: dict[str, Any] | None,
        files: dict[str, tuple[str, bytes]] | None,
        seconds: float,
    ) -> _Reply:
        if self._aiohttp is None or self._aiohttp.closed:
            # Created lazily: aiohttp wants a running loop.
            # Bounded: 1,000 simultaneous calls queue for 200 sockets instead of opening
            # 1,000 (and the server's 1,000 more), which ran a process with the usual
            # 1,024 open files out of descriptors: connections reset mid-request.
            self._aiohttp = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=CONNECTIONS)
            )
        kwargs: dict[str, Any] = {"timeout": aiohttp.ClientTimeout(total=seconds)}
        if query:
            kwargs["params"] = {k: str(v) for k, v in query.items() if v is not None}
        if files:
            form = aiohttp.FormData()
            form.add_field("payload", json.dumps(body or {}))
            for name, (filename, data) in files.items():
                form.add_field(name, data, filename=filename)
            kwargs["data"] = form
        elif body is not None:
            kwargs["json"] = body
        async with self._aiohttp.request(verb, url, **kwargs) as response:
            return _Reply(response.status, await response.read())

    async def aclose(self) -> None:
        if self._httpx is not None and self._owns_httpx:
            await self._httpx.aclose()
        if self._aiohttp is not None:
            await self._aiohttp.close()


class LocalApiClient:
    """Control API client for one bot token (use for_bot() for another bot on the server).

    transport="aiohttp" is much faster with hundreds of concurrent requests (benchmarks);
    `http` lets you pass your own httpx.AsyncClient.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        transport: str = "httpx",
        _shared: _Transport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._owns_transport = _shared is None
        self._transport = _shared or _Transport(transport, timeout, http)
        self._prefix = f"{self.base_url}/_control/{token}"

    def for_bot(self, token: str) -> LocalApiClient:
        """A client for another bot on the same server, sharing this one's connections."""
        return LocalApiClient(self.base_url, token, timeout=self.timeout, _shared=self._transport)

    @property
    def api_base(self) -> str:
        """What to give TelegramAPIServer.from_base()."""
        return self.base_url

    async def aclose(self) -> None:
        if self._owns_transport:
            await self._transport.aclose()

    async def __aenter__(self) -> LocalApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- transport -------------------------------------------------------------------

    async def _request(
        self,
        verb: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes]] | None = None,
        query: dict[str, Any] | None = None,
        wait: float = 0.0,
        prefix: str | None = None,
    ) -> _Reply:
        url = f"{prefix or self._prefix}/{path}"
        # The server answers a waiting request by `wait` at the latest.
        timeout = self.timeout + wait
        response = await self._transport.request(
            verb, url, query=query, body=body, files=files, seconds=timeout
        )
        if response.status >= 400:
            try:
                data = response.json()
            except ValueError:
                data = {"error": response.content.decode(errors="replace")}
            raise ControlApiError(response.status, data.get("error", ""), data.get("telegram"))
        return response

    async def _json(self, verb: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return cast(dict[str, Any], (await self._request(verb, path, **kwargs)).json())

    # --- acting as users ----------------------------------------------------------------

    async def send_text(
        self,
        user: TgUser | int | dict[str, Any],
        text: str,
        *,
        reply_to: int | None = None,
        chat: int | dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> Emitted:
        body: dict[str, Any] = {"user": _user(user), "text": text, **_chat(chat)}
        if reply_to is not None:
            body["reply_to_message_id"] = reply_to
        if entities is not None:
            body["entities"] = entities
        return Emitted.from_json(await self._json("POST", "send_text", body=body))

    async def send_photo(
        self,
        user: TgUser | int | dict[str, Any],
        data: bytes,
        *,
        caption: str | None = None,
        width: int | None = None,
        height: int | None = None,
        declared_size: int | None = None,
        reply_to: int | None = None,
        chat: int | dict[str, Any] | None = None,
    ) -> Emitted:
        """width/height are used only when Pillow cannot read the bytes."""
        body: dict[str, Any] = {"user": _user(user), **_chat(chat)}
        extra = {
            "caption": caption,
            "width": width,
            "height": height,
            "declared_size": declared_size,
            "reply_to_message_id": reply_to,
        }
        body.update({k: v for k, v in extra.items() if v is not None})
        files = {"photo": ("photo.jpg", data)}
        return Emitted.from_json(await self._json("POST", "send_photo", body=body, files=files))

    async def send_document(
        self,
        user: TgUser | int | dict[str, Any],
        data: bytes,
        *,
        file_name: str = "document.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
        declared_size: int | None = None,
        reply_to: int | None = None,
        chat: int | dict[str, Any] | None = None,
    ) -> Emitted:
        """declared_size simulates a big file (e.g. 25 MB) without sending its bytes."""
        body: dict[str, Any] = {"user": _user(user), "file_name": file_name, **_chat(chat)}
        extra = {
            "mime_type": mime_type,
            "caption": caption,
            "declared_size": declared_size,
            "reply_to_message_id": reply_to,
        }
        body.update({k: v for k, v in extra.items() if v is not None})
        files = {"document": (file_name, data)}
        return Emitted.from_json(await self._json("POST", "send_document", body=body, files=files))

    async def send_album(
        self,
        user: TgUser | int | dict[str, Any],
        items: Sequence[AlbumItem | bytes],
        *,
        caption: str | None = None,
        chat: int | dict[str, Any] | None = None,
    ) -> list[Emitted]:
        """2..10 parts sharing a media_group_id, one update each; the caption goes on the
        first part only."""
        parts = [i if isinstance(i, AlbumItem) else AlbumItem(i) for i in items]
        body: dict[str, Any] = {
            "user": _user(user),
            "items": [p.spec() for p in parts],
            **_chat(chat),
        }
        if caption is not None:
            body["caption"] = caption
        files = {f"file{i}": (p.file_name or f"file{i}", p.data) for i, p in enumerate(parts)}
        data = await self._json("POST", "send_album", body=body, files=files)
        return [Emitted.from_json(u) for u in data["updates"]]

    async def send_contact(
        self,
        user: TgUser | int | dict[str, Any],
        phone_number: str,
        *,
        first_name: str | None = None,
        chat: int | dict[str, Any] | None = None,
    ) -> Emitted:
        body: dict[str, Any] = {"user": _user(user), "phone_number": phone_number, **_chat(chat)}
        if first_name:
            body["first_name"] = first_name
        return Emitted.from_json(await self._json("POST", "send_contact", body=body))

    async def send_other(
        self,
        user: TgUser | int | dict[str, Any],
        kind: str,
        *,
        chat: int | dict[str, Any] | None = None,
    ) -> Emitted:
        """A location, sticker, voice message or video: things that are not documents."""
        body: dict[str, Any] = {"user": _user(user), "kind": kind, **_chat(chat)}
        return Emitted.from_json(await self._json("POST", "send_other", body=body))

    async def edit_text(
        self,
        user: TgUser | int | dict[str, Any],
        message_id: int,
        text: str,
        *,
        chat: int | dict[str, Any] | None = None,
    ) -> Emitted:
        """The user edits their own message: an edited_message update."""
        body = {"user": _user(user), "message_id": message_id, "text": text, **_chat(chat)}
        return Emitted.from_json(await self._json("POST", "edit_text", body=body))

    async def press_button(
        self,
        user: TgUser | int | dict[str, Any],
        message_id: int,
        data: str | None = None,
        *,
        button_text: str | None = None,
        chat: int | dict[str, Any] | None = None,
    ) -> Emitted:
        """A callback_query: with any `data` (to forge one), or the data of the button
        labelled `button_text`. The result's callback_query_id identifies the answer."""
        body: dict[str, Any] = {"user": _user(user), "message_id": message_id, **_chat(chat)}
        if data is not None:
            body["data"] = data
        if button_text is not None:
            body["button_text"] = button_text
        return Emitted.from_json(await self._json("POST", "press_button", body=body))

    async def click(
        self, user: TgUser | int | dict[str, Any], message: ChatMessage, button_text: str
    ) -> Emitted:
        chat = None if message.chat_id == _user(user)["id"] else message.chat_id
        return await self.press_button(
            user, message.message_id, button_text=button_text, chat=chat
        )

    async def redeliver(self, update_id: int) -> Emitted:
        """Emit an earlier update again, unchanged (same update_id)."""
        data = await self._json("POST", "redeliver", body={"update_id": update_id})
        return Emitted.from_json(data)

    async def block(
        self, user: TgUser | int | dict[str, Any], blocked: bool = True, *, notify: bool = True
    ) -> dict[str, Any] | None:
        """The user blocks (or unblocks) the bot; sends to them answer 403. Returns the
        my_chat_member update emitted (None when notify=False or nothing changed)."""
        body = {"user": _user(user), "blocked": blocked, "notify": notify}
        data = await self._json("POST", "block", body=body)
        return cast(dict[str, Any] | None, data["update"])

    async def unblock(self, user: TgUser | int | dict[str, Any]) -> dict[str, Any] | None:
        return await self.block(user, False)

    async def add_chat(
        self,
        user: TgUser | int | dict[str, Any] | None = None,
        *,
        chat: int | dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Make a chat known (the user pressed Start earlier) without emitting anything."""
        body: dict[str, Any] = _chat(chat)
        if user is not None:
            body["user"] = _user(user)
        data = await self._json("POST", "add_chat", body=body)
        return cast(dict[str, Any], data["chat"])

    # --- inspecting the bot ----------------------------------------------------------

    async def messages(self, chat_id: int, *, include_user: bool = False) -> list[ChatMessage]:
        """Bot messages in a chat, oldest first (user messages too with include_user)."""
        query = {"include_user": "1"} if include_user else None
        data = await self._json("GET", f"chats/{chat_id}/messages", query=query)
        return [ChatMessage.from_json(m) for m in data["messages"]]

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a server-side wait, not a client timeout
        *,
        include_user: bool = False,
    ) -> list[ChatMessage]:
        """Long-polls until the chat has `count` bot messages; on timeout, what there is."""
        found = await self.wait_for_many([chat_id], count, timeout, include_user=include_user)
        return found[chat_id]

    async def wait_for_many(
        self,
        chat_ids: list[int],
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a server-side wait, not a client timeout
        *,
        include_user: bool = False,
    ) -> dict[int, list[ChatMessage]]:
        """One long poll until every chat has `count` bot messages; on timeout, what there is."""
        body = {
            "chat_ids": chat_ids,
            "wait_count": count,
            "timeout": timeout,
            "include_user": include_user,
        }
        data = await self._json("POST", "messages", body=body, wait=timeout)
        return {
            int(chat): [ChatMessage.from_json(m) for m in found]
            for chat, found in data["chats"].items()
        }

    async def last_message(self, chat_id: int) -> ChatMessage | None:
        found = await self.messages(chat_id)
        return found[-1] if found else None

    async def file_bytes(self, file_id: str) -> bytes:
        return (await self._request("GET", f"files/{file_id}")).content

    async def fail_next(
        self,
        method: str,
        *,
        count: int = 1,
        error_code: int | None = 429,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
        delay: float = 0.0,
    ) -> dict[str, Any]:
        """The next `count` calls of `method` ("*" = any) answer this error; error_code=None
        with a delay only slows them down. Descriptions default to Telegram's."""
        body = {
            "method": method,
            "count": count,
            "error_code": error_code,
            "retry_after": retry_after,
            "description": description,
            "chat_id": chat_id,
            "delay": delay,
        }
        data = await self._json("POST", "failures", body=body)
        return cast(dict[str, Any], data["rule"])

    async def clear_failures(self) -> None:
        await self._request("DELETE", "failures")

    async def calls(self, method: str | None = None, *, since_seq: int = 0) -> list[CallRecord]:
        query: dict[str, Any] = {"since_seq": since_seq}
        if method:
            query["method"] = method
        data = await self._json("GET", "calls", query=query)
        return [CallRecord.from_json(c) for c in data["calls"]]

    async def updates(self, *, since: int = 0) -> list[dict[str, Any]]:
        """Emitted updates with emitted_at, available_at, delivered_at, deliveries, ..."""
        data = await self._json("GET", "updates", query={"since": since})
        return cast(list[dict[str, Any]], data["updates"])

    async def callback(self, query_id: str, *, wait: float = 0.0) -> dict[str, Any]:
        """A callback query and the bot's answer (wait: seconds to wait for the answer)."""
        query = {"timeout": wait} if wait else None
        data = await self._json("GET", f"callbacks/{query_id}", query=query, wait=wait)
        return cast(dict[str, Any], data["callback"])

    async def wait_for_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - a server-side wait, not a client timeout
    ) -> dict[str, Any] | None:
        """The answerCallbackQuery parameters, or None if the bot did not answer in time."""
        answer = (await self.callback(query_id, wait=timeout))["answer"]
        return cast(dict[str, Any] | None, answer)

    async def callbacks(self) -> list[dict[str, Any]]:
        data = await self._json("GET", "callbacks")
        return cast(list[dict[str, Any]], data["callbacks"])

    async def bot_info(self) -> dict[str, Any]:
        """Identity, webhook, commands, limits and the server's internal errors."""
        return await self._json("GET", "bot")

    async def configure(
        self,
        *,
        username: str | None = None,
        first_name: str | None = None,
        per_second: int | None = None,
        per_chat_per_second: int | None = None,
        webhook_retries: int | None = None,
        webhook_retry_delay: float | None = None,
        webhook_timeout: float | None = None,
    ) -> dict[str, Any]:
        """Bot identity and optional flood limits (429 when exceeded) / webhook retries."""
        body: dict[str, Any] = {
            k: v
            for k, v in {
                "username": username,
                "first_name": first_name,
                "webhook_retries": webhook_retries,
                "webhook_retry_delay": webhook_retry_delay,
                "webhook_timeout": webhook_timeout,
            }.items()
            if v is not None
        }
        if per_second is not None:
            body["per_second"] = per_second or None  # 0 switches the limit off
        if per_chat_per_second is not None:
            body["per_chat_per_second"] = per_chat_per_second or None
        return await self._json("POST", "configure", body=body)

    async def reset(self) -> None:
        """Forget this bot's users, chats, messages, files, updates, calls and failures."""
        await self._request("POST", "reset")

    async def reset_all(self) -> None:
        await self._request("POST", "reset", prefix=f"{self.base_url}/_control")


__all__ = [
    "AlbumItem",
    "CallRecord",
    "ChatMessage",
    "ControlApiError",
    "Emitted",
    "LocalApiClient",
    "TgUser",
]
