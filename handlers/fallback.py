"""Messages no other router took: plain text, stickers, voice, video and the like."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from handlers.texts import Texts

router = Router(name=__name__)


@router.message(F.text)
async def text(message: Message, t: Texts) -> None:
    await message.answer(t("intake.text_not_command"))


@router.message()
async def unsupported(message: Message, t: Texts) -> None:
    await message.reply(t("file.unsupported"))


@router.callback_query()
async def stale_button(query: CallbackQuery, t: Texts) -> None:
    await query.answer(t("error.stale"), show_alert=True)
