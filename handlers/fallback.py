"""Messages no other router took: plain text, stickers, voice, video and the like."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from handlers.texts import Texts


async def text(message: Message, t: Texts) -> None:
    await message.answer(t("intake.text_not_command"))


# What each kind of message is, so the answer can say so and what to send instead.
KINDS = (
    "location",  # a venue is a location too
    "sticker",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "contact",
    "poll",
)


async def unsupported(message: Message, t: Texts) -> None:
    kind = next((k for k in KINDS if getattr(message, k, None) is not None), None)
    await message.reply(t(f"unsupported.{kind}") if kind else t("file.unsupported"))


async def stale_button(query: CallbackQuery, t: Texts) -> None:
    await query.answer(t("error.stale"), show_alert=True)


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(text, F.text)
    router.message.register(unsupported)
    router.callback_query.register(stale_button)
    return router
