"""Control API: act as Telegram users and inspect what the bot did.

JSON under /_control/<token>/...; files go as multipart parts next to a JSON `payload`
field, or base64 in JSON (`data_b64`) for curl users.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .errors import ApiError
from .files import image_info
from .formatting import format_text
from .params import Params, read_multipart
from .state import BotState, CallbackRecord, ChatInfo, ServerState, StoredMessage, UserInfo
from .validate import ShapeError

SERVER_KEY: web.AppKey[ServerState] = web.AppKey("local_api_server", ServerState)
DEFAULT_PHOTO_SIZE = (1280, 960)  # for photo bytes Pillow cannot read
MAX_WAIT = 120.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(
        data, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


def guarded(handler: Handler) -> Handler:
    """Control errors answer {"error": ...}; Telegram-side checks keep their description."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as exc:
            return _json({"error": exc.message}, exc.status)
        except ApiError as exc:
            return _json({"error": exc.description, "telegram": exc.body()}, 400)
        except ShapeError as exc:
            return _json({"error": f"local Bot API bug: {exc}"}, 500)
        except (KeyError, TypeError, ValueError) as exc:
            return _json({"error": f"bad control request: {type(exc).__name__}: {exc}"}, 400)

    return wrapper


def _bot(request: web.Request) -> BotState:
    return request.app[SERVER_KEY].bot(request.match_info["token"])


class Body:
    """A control request body: JSON fields plus uploaded files."""

    def __init__(self, fields: dict[str, Any], files: dict[str, bytes]) -> None:
        self.fields = fields
        self.files = files

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    def require(self, key: str) -> Any:
        if self.fields.get(key) is None:
            raise ControlError(400, f"missing field {key!r}")
        return self.fields[key]

    def data(self, part: str, item: dict[str, Any] | None = None) -> bytes:
        """File bytes: a multipart part named `part`, or `data_b64` in JSON."""
        source = item if item is not None else self.fields
        if part in self.files:
            return self.files[part]
        encoded = source.get("data_b64")
        if encoded is None:
            raise ControlError(400, f"missing file part {part!r} (or data_b64)")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ControlError(400, "data_b64 is not valid base64") from None


async def read_body(request: web.Request) -> Body:
    if request.content_type.startswith("multipart/"):
        params = Params()
        await read_multipart(await request.multipart(), params)
        fields = dict(params.values)
        payload = fields.pop("payload", None)
        if payload:
            fields.update(json.loads(payload))
        return Body(fields, {name: up.data for name, up in params.files.items()})
    raw = await request.read()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ControlError(400, "a JSON object is expected")
    return Body(data, {})


# --- users, chats, messages ------------------------------------------------------------


def _user(bot: BotState, body: Body) -> UserInfo:
    spec = body.get("user")
    if spec is None and body.get("user_id") is not None:
        spec = {"id": body.get("user_id")}
    if isinstance(spec, int | str):
        spec = {"id": int(spec)}
    if not isinstance(spec, dict) or spec.get("id") is None:
        raise ControlError(400, "missing user (an id or {id, first_name, ...})")
    return bot.upsert_user(spec)


def _chat(bot: BotState, body: Body, user: UserInfo) -> ChatInfo:
    spec = body.get("chat")
    if spec is None and body.get("chat_id") is not None and int(body.get("chat_id")) != user.id:
        spec = {"id": body.get("chat_id")}
    chat = bot.upsert_chat(spec) if spec is not None else bot.private_chat(user)
    chat.known = True  # the user started the bot / added it to the group
    return chat


def _message(chat: ChatInfo, message_id: Any) -> StoredMessage:
    message = chat.messages.get(int(message_id))
    if message is None:
        raise ControlError(404, f"no message {message_id} in chat {chat.id}")
    return message


def _user_message(
    bot: BotState,
    body: Body,
    user: UserInfo,
    chat: ChatInfo,
    kind: str,
    content: dict[str, Any],
    now: float | None = None,
) -> StoredMessage:
    reply_id = body.get("reply_to_message_id")
    reply_to = _message(chat, reply_id) if reply_id is not None else None
    return bot.add_message(
        chat, from_bot=False, kind=kind, content=content, sender=user, reply_to=reply_to, now=now
    )


def _emit_message(
    bot: BotState, message: StoredMessage, now: float | None = None
) -> dict[str, Any]:
    record = bot.emit("message", message.data, message.chat_id, now)
    return {
        "update_id": record.update_id,
        "update": record.update,
        "available_at": record.available_at,
        "message": message.data,
    }


def _caption(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    plain, entities = format_text(text, None, None)
    out: dict[str, Any] = {"caption": plain}
    if entities:
        out["caption_entities"] = entities
    return out


def _photo_content(
    bot: BotState, data: bytes, spec: dict[str, Any], caption: str | None
) -> tuple[dict[str, Any], list[str]]:
    info = image_info(data)
    width = info.width if info else int(spec.get("width") or DEFAULT_PHOTO_SIZE[0])
    height = info.height if info else int(spec.get("height") or DEFAULT_PHOTO_SIZE[1])
    sizes = bot.files.add_photo(
        data, owner="user", width=width, height=height, declared_size=spec.get("declared_size")
    )
    content = {"photo": [s.photo_size() for s in sizes], **_caption(caption)}
    return content, [s.file_id for s in sizes]


def _document_content(
    bot: BotState, data: bytes, spec: dict[str, Any], caption: str | None
) -> tuple[dict[str, Any], list[str]]:
    record = bot.files.add_document(
        data,
        owner="user",
        file_name=spec.get("file_name") or "document.pdf",
        mime_type=spec.get("mime_type"),
        declared_size=spec.get("declared_size"),
    )
    return {"document": record.document(), **_caption(caption)}, [record.file_id]


@guarded
async def send_text(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    user = _user(bot, body)
    chat = _chat(bot, body, user)
    raw = str(body.require("text"))
    text, entities = format_text(raw, None, body.get("entities"))
    if not text:
        raise ControlError(400, "a Telegram message cannot be empty")
    if len(text) > 4096:
        raise ControlError(400, "Telegram clients cannot send more than 4096 characters")
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    message = _user_message(bot, body, user, chat, "text", content)
    return _json(_emit_message(bot, message))


@guarded
async def send_photo(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    user = _user(bot, body)
    chat = _chat(bot, body, user)
    content, file_ids = _photo_content(bot, body.data("photo"), body.fields, body.get("caption"))
    message = _user_message(bot, body, user, chat, "photo", content)
    message.file_ids = file_ids
    return _json(_emit_message(bot, message))


@guarded
async def send_document(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    user = _user(bot, body)
    chat = _chat(bot, body, user)
    data = body.data("document")
    content, file_ids = _document_content(bot, data, body.fields, body.get("caption"))
    message = _user_message(bot, body, user, chat, "document", content)
    message.file_ids = file_ids
    return _json(_emit_message(bot, message))


@guarded
async def send_album(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    user = _user(bot, body)
    chat = _chat(bot, body, user)
    items = body.require("items")
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise ControlError(400, "an album has 2 to 10 items")
    group_id = bot.new_media_group_id()
    now = time.time()  # every part at the same moment, as Telegram clients send them
    messages: list[StoredMessage] = []
    for index, item in enumerate(items):
        # Only one part carries the caption: the first.
        caption = item.get("caption") or (body.get("caption") if index == 0 else None)
        data = body.data(f"file{index}", item)
        kind = item.get("type", "photo")
        if kind == "photo":
            content, file_ids = _photo_content(bot, data, item, caption)
        elif kind == "document":
            content, file_ids = _document_content(bot, data, item, caption)
        else:
            raise ControlError(400, f"unsupported album item type {kind!r}")
        content["media_group_id"] = group_id
        message = _user_message(bot, body, user, chat, kind, content, now)
        message.file_ids = file_ids
        messages.append(message)
    emitted = [_emit_message(bot, m, now) for m in messages]
    return _json({"media_group_id": group_id, "updates": emitted})


@guarded
async def send_contact(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    user = _user(bot, body)
    chat = _chat(bot, body, user)
    contact: dict[str, Any] = {
        "phone_number": str(body.require("phone_number")),
        "first_name": body.get("first_name") or user.first_name,
    }
    if body.get("last_name"):
        contact["last_name"] = body.get("last_name")
    # Sharing one's own number (KeyboardButton request_contact) carries the user id.
    contact_user = body.get("contact_user_id", user.id)
    if contact_user is not None:
        contact["user_id"] = int(contact_user)
    message = _user_message(bot, body, user, chat, "contact", {"contact": contact})
    return _json(_emit_message(bot, message))


# Messages that are neither text nor files the bot reads: the smallest valid content of each.
_OTHER_KINDS: dict[str, Any] = {
    "location": lambda n: {"location": {"latitude": 32.0853, "longitude": 34.7818}},
    "sticker": lambda n: {
        "sticker": {
            "file_id": f"sticker{n}",
            "file_unique_id": f"sticker{n}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "voice": lambda n: {
        "voice": {"file_id": f"voice{n}", "file_unique_id": f"voice{n}", "duration": 3}
    },
    "video": lambda n: {
        "video": {
            "file_id": f"video{n}",
            "file_unique_id": f"video{n}",
            "width": 640,
            "height": 480,
            "duration": 5,
        }
    },
}


@guarded
async def send_other(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    user = _user(bot, body)
    chat = _chat(bot, body, user)
    kind = str(body.require("kind"))
    if kind not in _OTHER_KINDS:
        raise ControlError(400, f"unsupported kind {kind!r}; one of {sorted(_OTHER_KINDS)}")
    content = _OTHER_KINDS[kind](len(bot.pending) + 1)
    message = _user_message(bot, body, user, chat, kind, content)
    return _json(_emit_message(bot, message))


@guarded
async def edit_text(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    user = _user(bot, body)
    chat = _chat(bot, body, user)
    message = _message(chat, body.require("message_id"))
    if message.from_bot or "text" not in message.data:
        raise ControlError(400, "a user can edit only their own text messages")
    text, entities = format_text(str(body.require("text")), None, body.get("entities"))
    now = time.time()
    new = {k: v for k, v in message.data.items() if k != "entities"}
    new.update({"text": text, "edit_date": int(now)})
    if entities:
        new["entities"] = entities
    message.edits.append({"at": now, "method": "user_edit", "text": text})
    message.data = new
    record = bot.emit("edited_message", new, chat.id, now)
    return _json(
        {
            "update_id": record.update_id,
            "update": record.update,
            "available_at": record.available_at,
            "message": new,
        }
    )


@guarded
async def press_button(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    user = _user(bot, body)
    chat = _chat(bot, body, user)
    message_id = int(body.require("message_id"))
    message = chat.messages.get(message_id)
    data = body.get("data")
    if data is None:
        data = _button_data(message, body.require("button_text"))
    query_id = str(secrets.randbits(63))
    payload: dict[str, Any] = {
        "id": query_id,
        "from": user.to_dict(),
        "chat_instance": str(abs(hash((bot.id, chat.id))) % 10**18),
        "data": str(data),
    }
    if message is not None and not message.deleted:
        payload["message"] = message.data
    else:  # forging a press on a message that is gone: Telegram sends an InaccessibleMessage
        payload["message"] = {"chat": chat.to_dict(), "message_id": message_id, "date": 0}
    bot.callbacks[query_id] = CallbackRecord(
        query_id, user.id, chat.id, message_id, str(data), time.time()
    )
    record = bot.emit("callback_query", payload, chat.id)
    return _json(
        {
            "update_id": record.update_id,
            "update": record.update,
            "available_at": record.available_at,
            "callback_query_id": query_id,
        }
    )


def _button_data(message: StoredMessage | None, text: str) -> str:
    if message is None:
        raise ControlError(404, "no such message to press a button on")
    for row in (message.data.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button.get("text") == text:
                if "callback_data" not in button:
                    raise ControlError(400, f"button {text!r} has no callback_data")
                return str(button["callback_data"])
    raise ControlError(404, f"no inline button {text!r} on message {message.message_id}")


@guarded
async def redeliver(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    update_id = int(body.require("update_id"))
    if update_id not in bot.updates_by_id:
        raise ControlError(404, f"no update {update_id}")
    record = bot.redeliver(update_id)
    return _json(
        {
            "update_id": record.update_id,
            "update": record.update,
            "available_at": record.available_at,
        }
    )


@guarded
async def block(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    user = _user(bot, body)
    chat = bot.private_chat(user)
    chat.known = True
    blocked = bool(body.get("blocked", True))
    out: dict[str, Any] = {"user_id": user.id, "blocked": blocked, "update": None}
    if chat.blocked != blocked:
        chat.blocked = blocked
        if body.get("notify", True):
            # Telegram tells the bot with a my_chat_member update.
            member = {"status": "member", "user": bot.bot_user()}
            kicked = {"status": "kicked", "user": bot.bot_user(), "until_date": 0}
            payload = {
                "chat": chat.to_dict(),
                "from": user.to_dict(),
                "date": int(time.time()),
                "old_chat_member": member if blocked else kicked,
                "new_chat_member": kicked if blocked else member,
            }
            out["update"] = bot.emit("my_chat_member", payload, chat.id).update
    return _json(out)


@guarded
async def add_chat(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    if body.get("chat") is not None and body.get("user") is None:
        chat = bot.upsert_chat(body.get("chat"))
        chat.known = True
    else:
        user = _user(bot, body)
        chat = _chat(bot, body, user)
    return _json({"chat": chat.to_dict()})


# --- inspection ----------------------------------------------------------------------------


def _seconds(value: float) -> float:
    return min(max(value, 0.0), MAX_WAIT)


def _timeout(request: web.Request) -> float:
    return _seconds(float(request.query.get("timeout", "0")))


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true", "yes")


async def _wait_for_chats(
    bot: BotState, chat_ids: list[int], wait_count: int, seconds: float, include_user: bool
) -> dict[str, list[dict[str, Any]]]:
    """Each chat's bot messages once every chat has `wait_count` of them, or, after
    `seconds`, what there is."""
    if wait_count > 0 and seconds > 0:
        with contextlib.suppress(TimeoutError):  # answer with what there is
            async with asyncio.timeout(seconds):
                await asyncio.gather(
                    *(bot.wait_for_bot_messages(c, wait_count) for c in set(chat_ids))
                )
    return {
        str(c): [m.view() for m in bot.bot_messages(c, include_user=include_user)]
        for c in chat_ids
    }


@guarded
async def messages(request: web.Request) -> web.StreamResponse:
    """One chat's bot messages: the many-chats wait (`_wait_for_chats`) with one chat."""
    chat_id = int(request.match_info["chat_id"])
    found = await _wait_for_chats(
        _bot(request),
        [chat_id],
        int(request.query.get("wait_count", "0")),
        _timeout(request),
        _flag(request, "include_user"),
    )
    return _json({"messages": found[str(chat_id)]})


@guarded
async def wait_many(request: web.Request) -> web.StreamResponse:
    """Many chats' bot messages in one request: a harness with 1,000 users waits with one
    connection instead of 1,000 long polls (each a socket on both ends)."""
    bot = _bot(request)
    body = await read_body(request)
    chat_ids = [int(c) for c in body.require("chat_ids")]
    found = await _wait_for_chats(
        bot,
        chat_ids,
        int(body.get("wait_count", 1)),
        _seconds(float(body.get("timeout", 0))),
        bool(body.get("include_user")),
    )
    return _json({"chats": found})


@guarded
async def file_bytes(request: web.Request) -> web.StreamResponse:
    bot = _bot(request)
    record = bot.files.get(request.match_info["file_id"])
    if record is None:
        raise ControlError(404, "no such file")
    return web.Response(
        body=bot.files.content(record), content_type=record.mime_type or "application/octet-stream"
    )


@guarded
async def add_failure(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    error_code = body.get("error_code", 429)
    chat_id = body.get("chat_id")
    rule = bot.add_failure(
        str(body.require("method")),
        count=int(body.get("count", 1)),
        error_code=int(error_code) if error_code is not None else None,
        description=body.get("description"),
        retry_after=int(body.get("retry_after")) if body.get("retry_after") is not None else None,
        chat_id=int(chat_id) if chat_id is not None else None,
        delay=float(body.get("delay", 0.0)),
    )
    return _json({"rule": rule.view()})


@guarded
async def list_failures(request: web.Request) -> web.StreamResponse:
    return _json({"rules": [r.view() for r in _bot(request).failures]})


@guarded
async def clear_failures(request: web.Request) -> web.StreamResponse:
    _bot(request).failures.clear()
    return _json({"rules": []})


@guarded
async def calls(request: web.Request) -> web.StreamResponse:
    bot = _bot(request)
    method = request.query.get("method", "").lower()
    since = int(request.query.get("since_seq", "0"))
    found = [
        c.view() for c in bot.calls if c.seq > since and (not method or c.method.lower() == method)
    ]
    return _json({"calls": found})


@guarded
async def updates(request: web.Request) -> web.StreamResponse:
    bot = _bot(request)
    since = int(request.query.get("since", "0"))
    return _json({"updates": [u.view() for u in bot.updates if u.update_id > since]})


@guarded
async def callback_answer(request: web.Request) -> web.StreamResponse:
    bot = _bot(request)
    query_id = request.match_info["query_id"]
    if query_id not in bot.callbacks:
        raise ControlError(404, f"no callback query {query_id}")
    timeout = _timeout(request)
    if timeout > 0:
        try:
            async with asyncio.timeout(timeout):
                await bot.wait_for_callback_answer(query_id)
        except TimeoutError:
            pass
    return _json({"callback": bot.callbacks[query_id].view()})


@guarded
async def callback_answers(request: web.Request) -> web.StreamResponse:
    return _json({"callbacks": [c.view() for c in _bot(request).callbacks.values()]})


def bot_view(bot: BotState) -> dict[str, Any]:
    limits = bot.limits
    return {
        "me": bot.me(),
        "webhook": bot.webhook.view(len(bot.pending)) if bot.webhook else None,
        "pending_update_count": len(bot.pending),
        "commands": [
            {"scope": json.loads(scope), "language_code": lang, "commands": cmds}
            for (scope, lang), cmds in bot.commands.items()
        ],
        "limits": {
            "per_second": limits.per_second,
            "per_chat_per_second": limits.per_chat_per_second,
            "webhook_retries": limits.webhook_retries,
            "webhook_retry_delay": limits.webhook_retry_delay,
            "webhook_timeout": limits.webhook_timeout,
        },
        "internal_errors": list(bot.internal_errors),
    }


@guarded
async def get_bot(request: web.Request) -> web.StreamResponse:
    return _json(bot_view(_bot(request)))


@guarded
async def configure(request: web.Request) -> web.StreamResponse:
    bot, body = _bot(request), await read_body(request)
    if body.get("username"):
        bot.username = str(body.get("username"))
    if body.get("first_name"):
        bot.first_name = str(body.get("first_name"))
    limits = bot.limits
    for key in ("per_second", "per_chat_per_second"):
        if key in body.fields:  # null switches the limit off
            value = body.get(key)
            setattr(limits, key, int(value) if value is not None else None)
    if body.get("webhook_retries") is not None:
        limits.webhook_retries = int(body.get("webhook_retries"))
    for key in ("webhook_retry_delay", "webhook_timeout"):
        if body.get(key) is not None:
            setattr(limits, key, float(body.get(key)))
    return _json(bot_view(bot))


@guarded
async def reset_bot(request: web.Request) -> web.StreamResponse:
    _bot(request).reset()
    return _json({"reset": True})


@guarded
async def reset_all(request: web.Request) -> web.StreamResponse:
    request.app[SERVER_KEY].reset()
    return _json({"reset": True})


ENDPOINTS: list[tuple[str, str, Handler, str]] = [
    ("POST", "send_text", send_text, "user sends text {user, text, reply_to_message_id?}"),
    ("POST", "send_photo", send_photo, "user sends a photo: part 'photo' + payload"),
    ("POST", "send_document", send_document, "user sends a document: part 'document'"),
    ("POST", "send_album", send_album, "2..10 items sharing media_group_id: parts file0.."),
    ("POST", "send_contact", send_contact, "user shares a contact {user, phone_number}"),
    ("POST", "send_other", send_other, "location, sticker, voice or video {user, kind}"),
    ("POST", "edit_text", edit_text, "user edits their message → edited_message"),
    ("POST", "press_button", press_button, "callback_query {user, message_id, data}"),
    ("POST", "redeliver", redeliver, "emit an earlier update again {update_id}"),
    ("POST", "block", block, "user blocks/unblocks the bot {user, blocked}"),
    ("POST", "add_chat", add_chat, "make a chat known without a message"),
    ("GET", "chats/{chat_id}/messages", messages, "?wait_count=&timeout=&include_user="),
    ("POST", "messages", wait_many, "{chat_ids, wait_count, timeout, include_user}"),
    ("GET", "files/{file_id}", file_bytes, "raw bytes of any stored file"),
    ("POST", "failures", add_failure, "{method, count, error_code, retry_after, chat_id}"),
    ("GET", "failures", list_failures, "injected failure rules"),
    ("DELETE", "failures", clear_failures, "drop all failure rules"),
    ("GET", "calls", calls, "Bot API call log ?method=&since_seq="),
    ("GET", "updates", updates, "emitted updates with available_at/delivered_at"),
    ("GET", "callbacks", callback_answers, "all callback queries and answers"),
    ("GET", "callbacks/{query_id}", callback_answer, "one callback ?timeout= waits for answer"),
    ("GET", "bot", get_bot, "identity, webhook, commands, limits, internal errors"),
    ("POST", "configure", configure, "{username, first_name, per_second, ...}"),
    ("POST", "reset", reset_bot, "forget this bot's state"),
]


async def index(request: web.Request) -> web.StreamResponse:
    return _json(
        {
            "endpoints": [
                {"method": verb, "path": f"/_control/<token>/{path}", "about": about}
                for verb, path, _, about in ENDPOINTS
            ]
            + [{"method": "POST", "path": "/_control/reset", "about": "reset every bot"}]
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_control", index)
    app.router.add_get("/_control/", index)
    app.router.add_post("/_control/reset", reset_all)
    for verb, path, handler, _ in ENDPOINTS:
        app.router.add_route(verb, f"/_control/{{token}}/{path}", handler)
