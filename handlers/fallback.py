"""Messages no other router took: plain text, stickers, voice, video and the like."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from handlers.texts import Texts


async def text(message: Message, t: Texts) -> None:
    await message.answer(t("intake.text_not_command"))


async def unsupported(message: Message, t: Texts) -> None:
    await message.reply(t("file.unsupported"))


async def stale_button(query: CallbackQuery, t: Texts) -> None:
    await query.answer(t("error.stale"), show_alert=True)


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(text, F.text)
    router.message.register(unsupported)
    router.callback_query.register(stale_button)
    return router
