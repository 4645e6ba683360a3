"""End to end: an aiogram Dispatcher long-polling the local server."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Dispatcher, F
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from local_api.client import LocalApiClient, TgUser


async def test_polling_dispatcher(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        button = InlineKeyboardButton(text="אישור", callback_data="ok")
        await message.answer(
            "ברוכים הבאים", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
        )

    @dp.callback_query(F.data == "ok")
    async def approve(query: CallbackQuery) -> None:
        await query.answer("אושר")
        if isinstance(query.message, Message):
            await query.message.edit_text("אושר ✅")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        sent = await client.send_text(dana, "/start")
        [welcome] = await client.wait_for_messages(dana.id, 1, timeout=5)
        assert welcome.text == "ברוכים הבאים"
        assert welcome.sent_at >= (sent.available_at or 0)
        pressed = await client.click(dana, welcome, "אישור")
        answer = await client.wait_for_callback_answer(pressed.callback_query_id or "", 5)
        assert answer is not None and answer["text"] == "אושר"
        [edited] = await client.messages(dana.id)
        assert edited.text == "אושר ✅" and edited.inline_keyboard is None
    finally:
        await dp.stop_polling()
        await polling
