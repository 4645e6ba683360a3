"""Bot API method implementations: (bot state, params) → result, or raise ApiError.

Checks follow Telegram's order closely enough: chat, content, markup, then "blocked".
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .errors import ApiError, bad_request, conflict, forbidden
from .files import FileRecord, check_upload, image_info
from .formatting import format_text
from .params import Params, Upload
from .state import BotState, ChatInfo, StoredMessage, WebhookConfig
from .validate import check_message

Impl = Callable[[BotState, Params], Any | Awaitable[Any]]
METHODS: dict[str, Impl] = {}
F = TypeVar("F", bound=Impl)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def method(*names: str) -> Callable[[F], F]:
    def register(func: F) -> F:
        for name in names:
            METHODS[name.lower()] = func
        return func

    return register


# --- shared checks -------------------------------------------------------------------------


def chat_id_of(params: Params, name: str = "chat_id") -> int | None:
    """The chat id if it is an integer (for logs and failure rules), else None."""
    raw = params.raw(name)
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def require_chat(bot: BotState, params: Params, name: str = "chat_id") -> ChatInfo:
    if params.raw(name) in (None, ""):
        raise bad_request(f"{name} is empty")
    chat = bot.known_chat(chat_id_of(params, name))  # "@username" chats are never known here
    if chat is None:
        raise bad_request("chat not found")
    return chat


def ensure_can_send(chat: ChatInfo) -> None:
    if chat.blocked:
        if chat.type == "private":
            raise forbidden("bot was blocked by the user")
        raise forbidden(f"bot was kicked from the {chat.type} chat")


def parse_reply_markup(params: Params) -> dict[str, Any] | None:
    markup = params.get_json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                _check_inline_button(button)
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
    elif "remove_keyboard" not in markup and "force_reply" not in markup:
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be a String')
    if not any(key in button for key in _BUTTON_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = str(button["url"])
        if not re.match(r"^(https?|tg)://\S+$", url) and not re.match(r"^[\w.-]+\.\w+", url):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def resolve_reply(bot: BotState, chat: ChatInfo, params: Params) -> StoredMessage | None:
    reply = params.get_json("reply_parameters")
    allow = params.get_bool("allow_sending_without_reply")
    target_chat = chat
    message_id: Any = None
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow = bool(reply.get("allow_sending_without_reply", allow))
        if reply.get("chat_id") not in (None, chat.id):
            other = bot.known_chat(_as_int(reply.get("chat_id")))
            if other is None:
                raise bad_request("message to be replied not found")
            target_chat = other
    else:
        message_id = params.get_int("reply_to_message_id")
    if message_id is None:
        return None
    message = target_chat.messages.get(_as_int(message_id) or 0)
    if message is None or message.deleted:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return message


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def message_text(params: Params) -> tuple[str, list[dict[str, Any]], str]:
    raw = params.get_str("text")
    if raw is None or not raw.strip():
        raise bad_request("message text is empty")
    text, entities = format_text(raw, params.get_str("parse_mode"), params.get_json("entities"))
    if not text:
        raise bad_request("message text is empty")
    if len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, entities, raw


def caption_fields(params: Params) -> tuple[dict[str, Any], str | None]:
    raw = params.get_str("caption")
    if not raw:
        return {}, None
    text, entities = format_text(
        raw, params.get_str("parse_mode"), params.get_json("caption_entities")
    )
    if len(text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    out: dict[str, Any] = {"caption": text} if text else {}
    if entities and text:
        out["caption_entities"] = entities
    if text and params.get_bool("show_caption_above_media"):
        out["show_caption_above_media"] = True
    return out, raw


def photo_files(bot: BotState, value: Upload | str | None) -> list[FileRecord]:
    if value is None or value == "":
        raise bad_request("there is no photo in the request")
    if isinstance(value, Upload):
        check_upload(value.data, photo=True)
        info = image_info(value.data)
        if info is None:
            raise bad_request("IMAGE_PROCESS_FAILED")  # Telegram refuses what is not an image
        if info.width + info.height > 10_000 or max(info.width, info.height) > 20 * max(
            1, min(info.width, info.height)
        ):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return bot.files.add_photo(value.data, owner="bot", width=info.width, height=info.height)
    record = bot.files.require(value, "photo")
    return record.photo_set or [record]


def document_file(bot: BotState, value: Upload | str | None) -> FileRecord:
    if value is None or value == "":
        raise bad_request("there is no document in the request")
    if isinstance(value, Upload):
        check_upload(value.data, photo=False)
        declared = value.content_type
        generic = declared in (None, "", "application/octet-stream")
        return bot.files.add_document(
            value.data,
            owner="bot",
            file_name=value.filename,
            mime_type=None if generic else declared,  # guessed from the name then
        )
    return bot.files.require(value, "document")


def _send(
    bot: BotState,
    chat: ChatInfo,
    params: Params,
    *,
    kind: str,
    content: dict[str, Any],
    raw_text: str | None = None,
    file_ids: list[str] | None = None,
    with_markup: bool = True,
) -> StoredMessage:
    reply_to = resolve_reply(bot, chat, params)
    markup = parse_reply_markup(params) if with_markup else None
    ensure_can_send(chat)
    return bot.add_message(
        chat,
        from_bot=True,
        kind=kind,
        content=content,
        reply_to=reply_to,
        reply_markup=markup,
        parse_mode=params.get_str("parse_mode"),
        raw_text=raw_text,
        file_ids=file_ids,
    )


# --- identity, updates, webhooks ---------------------------------------------------------


@method("getMe")
def get_me(bot: BotState, params: Params) -> dict[str, Any]:
    return bot.me()


@method("logOut", "close")
def log_out(bot: BotState, params: Params) -> bool:
    return True


@method("getUpdates")
async def get_updates(bot: BotState, params: Params) -> list[dict[str, Any]]:
    if bot.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    offset = params.get_int("offset")
    limit = min(max(params.get_int("limit") or 100, 1), 100)
    timeout = max(params.get_float("timeout") or 0.0, 0.0)
    allowed = params.get_json("allowed_updates")
    if isinstance(allowed, list):
        bot.allowed_updates = [str(x) for x in allowed] or None
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.update_signal.fire()  # an older long poll of this bot now answers 409, like Telegram
    bot.acknowledge(offset)
    batch = bot.take_batch(limit)
    if not batch and timeout > 0:
        server = bot.server
        try:
            async with asyncio.timeout(timeout):
                while not batch:
                    await bot.update_signal.wait()
                    if server is not None and server.closing:
                        break
                    if bot.poll_generation != generation:
                        raise conflict(
                            "terminated by other getUpdates request; "
                            "make sure that only one bot instance is running"
                        )
                    if bot.webhook is not None:
                        raise conflict("webhook was set while getUpdates was waiting")
                    batch = bot.take_batch(limit)
        except TimeoutError:
            pass
    bot.mark_delivered(batch)
    return [record.update for record in batch]


@method("setWebhook")
def set_webhook(bot: BotState, params: Params) -> bool:
    url = params.get_str("url") or ""
    if not url:
        return delete_webhook(bot, params)
    if not re.match(r"^https?://[^/\s]+", url):
        raise bad_request("bad webhook: invalid webhook URL specified")
    secret = params.get_str("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.get_int("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.get_json("allowed_updates")
    if params.get_bool("drop_pending_updates"):
        _drop_pending(bot)
    bot.stop_webhook()
    bot.webhook = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        allowed_updates=[str(x) for x in allowed] if isinstance(allowed, list) else None,
        set_at=time.time(),
    )
    # api.call starts the delivery workers once this returns (they need api.call itself).
    bot.update_signal.fire()  # a waiting getUpdates now answers 409
    return True


def _drop_pending(bot: BotState) -> None:
    for record in bot.pending:
        record.dropped = True
    bot.pending.clear()


@method("deleteWebhook")
def delete_webhook(bot: BotState, params: Params) -> bool:
    if params.get_bool("drop_pending_updates"):
        _drop_pending(bot)
    bot.stop_webhook()
    return True


@method("getWebhookInfo")
def get_webhook_info(bot: BotState, params: Params) -> dict[str, Any]:
    if bot.webhook is None:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(bot.pending),
        }
    return bot.webhook.view(len(bot.pending))


# --- sending -------------------------------------------------------------------------------


@method("sendMessage")
def send_message(bot: BotState, params: Params) -> dict[str, Any]:
    chat = require_chat(bot, params)
    text, entities, raw = message_text(params)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    return _send(bot, chat, params, kind="text", content=content, raw_text=raw).data


@method("sendPhoto")
def send_photo(bot: BotState, params: Params) -> dict[str, Any]:
    chat = require_chat(bot, params)
    caption, raw = caption_fields(params)
    sizes = photo_files(bot, params.input_file("photo"))
    content = {"photo": [s.photo_size() for s in sizes], **caption}
    file_ids = [s.file_id for s in sizes]
    return _send(
        bot, chat, params, kind="photo", content=content, raw_text=raw, file_ids=file_ids
    ).data


@method("sendDocument")
def send_document(bot: BotState, params: Params) -> dict[str, Any]:
    chat = require_chat(bot, params)
    caption, raw = caption_fields(params)
    record = document_file(bot, params.input_file("document"))
    content = {"document": record.document(), **caption}
    return _send(
        bot,
        chat,
        params,
        kind="document",
        content=content,
        raw_text=raw,
        file_ids=[record.file_id],
    ).data


@method("sendMediaGroup")
def send_media_group(bot: BotState, params: Params) -> list[dict[str, Any]]:
    chat = require_chat(bot, params)
    media = params.get_json("media")
    if not isinstance(media, list) or not media:
        raise bad_request("media is empty")
    if not 2 <= len(media) <= 10:
        raise bad_request("media group must contain from 2 to 10 media")
    kinds = {item.get("type") if isinstance(item, dict) else None for item in media}
    if not kinds <= {"photo", "document"}:
        raise bad_request("unsupported media type in the media group")
    if len(kinds) > 1:
        raise bad_request("documents can't be mixed with other media types")
    prepared: list[tuple[str, dict[str, Any], str | None, list[str]]] = []
    for item in media:
        item_params = Params(values=dict(item), files=params.files)
        caption, raw = caption_fields(item_params)
        value = item_params.input_file("media")
        if item["type"] == "photo":
            sizes = photo_files(bot, value)
            content = {"photo": [s.photo_size() for s in sizes], **caption}
            prepared.append(("photo", content, raw, [s.file_id for s in sizes]))
        else:
            record = document_file(bot, value)
            content = {"document": record.document(), **caption}
            prepared.append(("document", content, raw, [record.file_id]))
    reply_to = resolve_reply(bot, chat, params)
    ensure_can_send(chat)
    group_id = bot.new_media_group_id()
    now = time.time()
    out = []
    for kind, content, raw, file_ids in prepared:
        message = bot.add_message(
            chat,
            from_bot=True,
            kind=kind,
            content={"media_group_id": group_id, **content},
            reply_to=reply_to,
            raw_text=raw,
            file_ids=file_ids,
            now=now,
        )
        out.append(message.data)
    return out


_COPYABLE = ("text", "entities", "photo", "document", "caption", "caption_entities", "contact")


def _source_message(bot: BotState, params: Params, what: str) -> StoredMessage:
    source_chat = require_chat(bot, params, "from_chat_id")
    message_id = params.get_int("message_id")
    source = source_chat.messages.get(message_id or 0)
    if source is None or source.deleted:
        raise bad_request(f"message to {what} not found")
    return source


@method("copyMessage")
def copy_message(bot: BotState, params: Params) -> dict[str, Any]:
    chat = require_chat(bot, params)
    source = _source_message(bot, params, "copy")
    content = {k: v for k, v in source.data.items() if k in _COPYABLE}
    if params.has("caption"):
        if "text" in content:
            raise bad_request("can't specify caption for a text message")
        content.pop("caption", None)
        content.pop("caption_entities", None)
        caption, _ = caption_fields(params)
        content.update(caption)
    message = _send(
        bot, chat, params, kind=source.kind, content=content, file_ids=list(source.file_ids)
    )
    message.copied_from = (source.chat_id, source.message_id)
    return {"message_id": message.message_id}


@method("forwardMessage")
def forward_message(bot: BotState, params: Params) -> dict[str, Any]:
    chat = require_chat(bot, params)
    source = _source_message(bot, params, "forward")
    content = {k: v for k, v in source.data.items() if k in _COPYABLE}
    content["forward_origin"] = {
        "type": "user",
        "date": source.data["date"],
        "sender_user": source.data["from"],
    }
    message = _send(
        bot,
        chat,
        params,
        kind=source.kind,
        content=content,
        file_ids=list(source.file_ids),
        with_markup=False,
    )
    message.copied_from = (source.chat_id, source.message_id)
    return message.data


@method("sendChatAction")
def send_chat_action(bot: BotState, params: Params) -> bool:
    chat = require_chat(bot, params)
    if params.get_str("action") not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    ensure_can_send(chat)
    return True


# --- editing and deleting ------------------------------------------------------------------


def _editable(bot: BotState, params: Params) -> StoredMessage:
    if params.has("inline_message_id") and not params.has("chat_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # no inline mode in the local server
    chat = require_chat(bot, params)
    message_id = params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(
    bot: BotState,
    message: StoredMessage,
    method_name: str,
    changes: dict[str, Any],
    markup: dict[str, Any] | None,
    raw_text: str | None = None,
) -> dict[str, Any]:
    """Apply an edit (None values remove a field); refuse a no-op like Telegram does."""
    new = dict(message.data)
    for key, value in changes.items():
        if value is None or value == []:
            new.pop(key, None)
        else:
            new[key] = value
    if markup and "inline_keyboard" in markup:
        new["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    else:
        new.pop("reply_markup", None)  # an edit without reply_markup drops the keyboard
    compared = ("text", "entities", "caption", "caption_entities", "reply_markup")
    if all(new.get(k) == message.data.get(k) for k in compared):
        raise bad_request(NOT_MODIFIED)
    now = time.time()
    new["edit_date"] = int(now)
    check_message(new)
    before = message.data
    message.edits.append(
        {
            "at": now,
            "method": method_name,
            "text": new.get("text"),
            "caption": new.get("caption"),
            "reply_markup": markup,
            "before": {
                "text": before.get("text"),
                "caption": before.get("caption"),
                "reply_markup": message.reply_markup,
            },
        }
    )
    message.data = new
    message.reply_markup = markup
    if raw_text is not None:
        message.raw_text = raw_text
    chat = bot.chats.get(message.chat_id)
    if chat is not None:
        chat.changed.fire()
    return new


@method("editMessageText")
def edit_message_text(bot: BotState, params: Params) -> dict[str, Any]:
    message = _editable(bot, params)
    if "text" not in message.data:
        raise bad_request("there is no text in the message to edit")
    text, entities, raw = message_text(params)
    markup = parse_reply_markup(params)
    changes = {"text": text, "entities": entities or None}
    return _apply_edit(bot, message, "editMessageText", changes, markup, raw)


@method("editMessageCaption")
def edit_message_caption(bot: BotState, params: Params) -> dict[str, Any]:
    message = _editable(bot, params)
    if "text" in message.data:
        raise bad_request("there is no caption in the message to edit")
    caption, raw = caption_fields(params)
    markup = parse_reply_markup(params)
    changes = {
        "caption": caption.get("caption"),
        "caption_entities": caption.get("caption_entities"),
    }
    return _apply_edit(bot, message, "editMessageCaption", changes, markup, raw)


@method("editMessageReplyMarkup")
def edit_message_reply_markup(bot: BotState, params: Params) -> dict[str, Any]:
    message = _editable(bot, params)
    markup = parse_reply_markup(params)
    return _apply_edit(bot, message, "editMessageReplyMarkup", {}, markup)


def _delete(bot: BotState, chat: ChatInfo, message_id: int | None) -> bool:
    message = chat.messages.get(message_id or 0)
    if message is None or message.deleted:
        return False
    message.deleted_at = time.time()
    chat.changed.fire()
    return True


@method("deleteMessage")
def delete_message(bot: BotState, params: Params) -> bool:
    chat = require_chat(bot, params)
    if not _delete(bot, chat, params.get_int("message_id")):
        raise bad_request("message to delete not found")
    return True


@method("deleteMessages")
def delete_messages(bot: BotState, params: Params) -> bool:
    chat = require_chat(bot, params)
    ids = params.get_json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 message identifiers")
    deleted = [_delete(bot, chat, _as_int(i)) for i in ids]
    if not any(deleted):
        raise bad_request("message to delete not found")
    return True


# --- callbacks, files, commands, chat info -------------------------------------------------


@method("answerCallbackQuery")
def answer_callback_query(bot: BotState, params: Params) -> bool:
    query_id = params.get_str("callback_query_id") or ""
    record = bot.callbacks.get(query_id)
    if record is None or record.answered_at is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.get_str("text")
    if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered_at = time.time()
    record.answer = {
        "text": text,
        "show_alert": params.get_bool("show_alert"),
        "url": params.get_str("url"),
        "cache_time": params.get_int("cache_time"),
    }
    bot.callbacks_signal.fire()
    return True


@method("getFile")
def get_file(bot: BotState, params: Params) -> dict[str, Any]:
    file_id = params.get_str("file_id")
    if not file_id:
        raise bad_request("file_id is empty")
    return bot.files.get_file_result(file_id)


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.get_json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get_str("language_code") or ""


@method("setMyCommands")
def set_my_commands(bot: BotState, params: Params) -> bool:
    commands = params.get_json("commands")
    if not isinstance(commands, list):
        raise bad_request("commands must be an array")
    if len(commands) > 100:
        raise bad_request("too many commands")
    clean = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("BOT_COMMAND_INVALID")
        name = str(item.get("command", "")).lstrip("/")
        description = str(item.get("description", ""))
        if not _COMMAND_RE.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": name, "description": description})
    bot.commands[_commands_key(params)] = clean
    return True


@method("getMyCommands")
def get_my_commands(bot: BotState, params: Params) -> list[dict[str, Any]]:
    return list(bot.commands.get(_commands_key(params), []))


@method("deleteMyCommands")
def delete_my_commands(bot: BotState, params: Params) -> bool:
    bot.commands.pop(_commands_key(params), None)
    return True


def _setting(kind: str, field_name: str) -> tuple[Impl, Impl]:
    def setter(bot: BotState, params: Params) -> bool:
        key = (kind, params.get_str("language_code") or "")
        bot.settings[key] = params.get_str(field_name) or ""
        return True

    def getter(bot: BotState, params: Params) -> dict[str, Any]:
        key = (kind, params.get_str("language_code") or "")
        return {field_name: bot.settings.get(key, "")}

    return setter, getter


for _kind, _field in (
    ("MyDescription", "description"),
    ("MyShortDescription", "short_description"),
    ("MyName", "name"),
):
    _set, _get = _setting(_kind, _field)
    method(f"set{_kind}")(_set)
    method(f"get{_kind}")(_get)


@method("setChatMenuButton")
def set_chat_menu_button(bot: BotState, params: Params) -> bool:
    bot.settings[("menu", params.get_str("chat_id") or "")] = params.get_json("menu_button")
    return True


@method("getChatMenuButton")
def get_chat_menu_button(bot: BotState, params: Params) -> dict[str, Any]:
    value = bot.settings.get(("menu", params.get_str("chat_id") or ""))
    return value if isinstance(value, dict) else {"type": "commands"}


@method("getChat")
def get_chat(bot: BotState, params: Params) -> dict[str, Any]:
    chat = require_chat(bot, params)
    return {
        **chat.to_dict(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def is_known(name: str) -> bool:
    return name.lower() in METHODS


__all__ = ["METHODS", "ApiError", "chat_id_of", "is_known"]
