"""The Bot API side, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)

from local_api.client import LocalApiClient, TgUser
from local_api.testing import DEFAULT_TOKEN

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs]
    )


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "tayuk_test_bot"
    assert me.id == int(DEFAULT_TOKEN.split(":")[0])


async def test_each_token_is_its_own_bot(api: tuple[str, LocalApiClient]) -> None:
    base_url, client = api
    other = client.for_bot("42:other")
    await other.configure(username="other_bot")
    async with httpx.AsyncClient() as http:
        first = (await http.get(f"{base_url}/bot{DEFAULT_TOKEN}/getMe")).json()["result"]
        second = (await http.get(f"{base_url}/bot42:other/getMe")).json()["result"]
    assert (first["username"], second["username"]) == ("tayuk_test_bot", "other_bot")
    assert second["id"] == 42


async def test_text_update_and_offset(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    sent = await client.send_text(dana, "/start")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [sent.update_id]
    message = updates[0].message
    assert message is not None
    assert message.text == "/start"
    assert message.chat.id == dana.id and message.chat.type == "private"
    assert message.from_user is not None and message.from_user.language_code == "he"
    assert message.entities and message.entities[0].type == "bot_command"
    # Not acknowledged yet: delivered again; then the offset confirms it.
    assert len(await bot.get_updates(timeout=0)) == 1
    assert await bot.get_updates(offset=sent.update_id + 1, timeout=0) == []
    assert await bot.get_updates(timeout=0) == []
    record = (await client.updates())[0]
    assert record["available_at"] and record["delivered_at"] >= record["available_at"]


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    await client.send_text(dana, "שלום")
    updates = await poll
    assert time.monotonic() - started < 2
    assert updates[0].message is not None and updates[0].message.text == "שלום"


async def test_send_message_with_inline_keyboard(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    await client.send_text(dana, "/start")
    sent = await bot.send_message(
        dana.id, "<b>בחר</b> פעולה", parse_mode="HTML", reply_markup=keyboard(("אישור", "ok:1"))
    )
    assert sent.text == "בחר פעולה"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.from_user is not None and sent.from_user.is_bot
    [logged] = await client.messages(dana.id)
    assert logged.message_id == sent.message_id
    assert logged.kind == "text" and logged.text == "בחר פעולה"
    assert logged.raw_text == "<b>בחר</b> פעולה" and logged.parse_mode == "HTML"
    assert logged.inline_keyboard == [[{"text": "אישור", "callback_data": "ok:1"}]]
    assert logged.button_data("אישור") == "ok:1"
    assert logged.sent_at <= time.time()


async def test_reply_to_user_message(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    first = await client.send_text(dana, "קבלה")
    assert first.message_id is not None
    reply = await bot.send_message(
        dana.id, "קיבלתי", reply_parameters=ReplyParameters(message_id=first.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "קבלה"
    legacy = await bot.send_message(dana.id, "שוב", reply_to_message_id=first.message_id)
    assert legacy.reply_to_message is not None
    logged = await client.messages(dana.id)
    assert [m.reply_to for m in logged] == [first.message_id, first.message_id]
    # The user replies to the bot's message.
    answer = await client.send_text(dana, "תודה", reply_to=reply.message_id)
    assert answer.message is not None
    assert answer.message["reply_to_message"]["message_id"] == reply.message_id
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(dana.id, "x", reply_parameters=ReplyParameters(message_id=999))


async def test_send_errors(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(dana.id, "hello")
    await client.send_text(dana, "/start")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(dana.id, "א" * 4097)
    await bot.send_message(dana.id, "א" * 4096)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(dana.id, "   ")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(dana.id, "x", reply_markup=keyboard(("a", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(dana.id, "a <br> b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="reserved and must be escaped"):
        await bot.send_message(dana.id, "סה״כ 5.00", parse_mode="MarkdownV2")


async def test_injected_429_surfaces_as_retry_after(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    await client.send_text(dana, "/start")
    await client.fail_next("sendMessage", error_code=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(dana.id, "one")
    assert caught.value.retry_after == 3
    assert "Too Many Requests: retry after 3" in caught.value.message
    await bot.send_message(dana.id, "one")  # the rule was for one call only
    calls = await client.calls("sendMessage")
    assert [(c.status, c.chat_id) for c in calls] == [(429, dana.id), (200, dana.id)]


async def test_injected_failure_for_one_chat_only(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    other = TgUser(id=7_000_000_002, first_name="Avi")
    await client.send_text(dana, "/start")
    await client.send_text(other, "/start")
    await client.fail_next(
        "sendMessage", error_code=400, description="Bad Request: custom", chat_id=other.id
    )
    await bot.send_message(dana.id, "fine")
    with pytest.raises(TelegramBadRequest, match="custom"):
        await bot.send_message(other.id, "boom")


async def test_blocked_user_gets_403(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    await client.send_text(dana, "/start")
    update = await client.block(dana)
    assert update is not None
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(dana.id, "reminder")
    await client.unblock(dana)
    await bot.send_message(dana.id, "reminder")


async def test_edit_message(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    await client.send_text(dana, "/start")
    markup = keyboard(("כן", "yes"))
    sent = await bot.send_message(dana.id, "שאלה", reply_markup=markup)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            text="שאלה", chat_id=dana.id, message_id=sent.message_id, reply_markup=markup
        )
    assert caught.value.message == NOT_MODIFIED
    edited = await bot.edit_message_text(text="תשובה", chat_id=dana.id, message_id=sent.message_id)
    assert not isinstance(edited, bool)
    assert edited.text == "תשובה" and edited.edit_date is not None
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=dana.id, message_id=sent.message_id)
    await bot.edit_message_reply_markup(
        chat_id=dana.id, message_id=sent.message_id, reply_markup=markup
    )
    [logged] = await client.messages(dana.id)
    assert logged.text == "תשובה"
    assert [e["method"] for e in logged.edits] == ["editMessageText", "editMessageReplyMarkup"]
    assert logged.edits[0]["before"]["text"] == "שאלה"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=dana.id, message_id=999)


async def test_delete_message(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    await client.send_text(dana, "/start")
    sent = await bot.send_message(dana.id, "temporary")
    assert await bot.delete_message(dana.id, sent.message_id)
    [logged] = await client.messages(dana.id)
    assert logged.deleted and logged.deleted_at is not None
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(dana.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=dana.id, message_id=sent.message_id)


async def test_unknown_method_is_404(api: tuple[str, LocalApiClient]) -> None:
    base_url, _ = api
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{base_url}/bot{DEFAULT_TOKEN}/sendTelepathy")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_callback_press_and_answer(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    await client.send_text(dana, "/start")
    sent = await bot.send_message(dana.id, "אשר?", reply_markup=keyboard(("אישור", "ok:1")))
    forged = await client.press_button(dana, sent.message_id, "approve:999")
    by_text = await client.press_button(dana, sent.message_id, button_text="אישור")
    updates = await bot.get_updates(timeout=0)
    queries = [u.callback_query for u in updates if u.callback_query is not None]
    assert [q.data for q in queries] == ["approve:999", "ok:1"]
    assert queries[0].id == forged.callback_query_id
    assert queries[0].message is not None and queries[0].message.message_id == sent.message_id
    assert queries[0].from_user.id == dana.id
    await bot.answer_callback_query(queries[0].id, text="בוצע", show_alert=True)
    answer = await client.wait_for_callback_answer(forged.callback_query_id or "", timeout=1)
    assert answer is not None and answer["text"] == "בוצע" and answer["show_alert"]
    assert by_text.callback_query_id is not None
    assert (await client.callback(by_text.callback_query_id))["answer"] is None
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(queries[0].id)


async def test_redelivered_update_has_the_same_id(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    sent = await client.send_text(dana, "קבלה 1")
    first = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)  # acknowledge
    again = await client.redeliver(sent.update_id)
    assert again.update == sent.update
    later = await client.send_text(dana, "קבלה 2")
    updates = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.update_id for u in updates] == [sent.update_id, later.update_id]
    assert updates[0].model_dump() == first[0].model_dump()
    await bot.get_updates(offset=later.update_id + 1, timeout=0)
    assert await bot.get_updates(timeout=0) == []


async def test_commands_and_misc_methods(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    commands = [BotCommand(command="start", description="התחלה")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(
        [BotCommand(command="help", description="Help")], language_code="en"
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["help"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])
    await client.send_text(dana, "/start")
    assert await bot.send_chat_action(dana.id, "typing")
    chat = await bot.get_chat(dana.id)
    assert chat.first_name == "דנה"
    assert await bot.log_out() and await bot.close()
    info = await client.bot_info()
    assert info["internal_errors"] == []


async def test_wait_for_messages(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    await client.send_text(dana, "/start")

    async def reply_later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(dana.id, "one")
        await bot.send_message(dana.id, "two")

    task = asyncio.create_task(reply_later())
    started = time.monotonic()
    messages = await client.wait_for_messages(dana.id, 2, timeout=5)
    await task
    assert [m.text for m in messages] == ["one", "two"]
    assert time.monotonic() - started < 2
    # A timeout answers with what there is.
    assert len(await client.wait_for_messages(dana.id, 3, timeout=0.1)) == 2


async def test_flood_limit(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    await client.send_text(dana, "/start")
    await client.configure(per_chat_per_second=2)
    await bot.send_message(dana.id, "1")
    await bot.send_message(dana.id, "2")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(dana.id, "3")
    await client.configure(per_chat_per_second=0)
    await bot.send_message(dana.id, "3")


async def test_group_chat(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    office_id = -1001234567890
    office = {"id": office_id, "type": "supergroup", "title": "משרד כהן"}
    sent = await client.send_text(dana, "שלום לכולם", chat=office)
    assert sent.message is not None and sent.message["chat"]["title"] == "משרד כהן"
    reply = await bot.send_message(office_id, "שלום")
    assert reply.chat.type == "supergroup"
    assert [m.text for m in await client.messages(office_id)] == ["שלום"]


async def test_negative_offset_keeps_the_last_updates(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    for text in ("1", "2", "3"):
        await client.send_text(dana, text)
    [last] = await bot.get_updates(offset=-1, timeout=0)
    assert last.message is not None and last.message.text == "3"
    assert [u.message.text for u in await bot.get_updates(timeout=0) if u.message] == ["3"]
