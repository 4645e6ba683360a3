"""Invite links as text and as a QR code picture, ready to forward."""

from __future__ import annotations

import io

import segno
from aiogram import Bot
from aiogram.types import BufferedInputFile, Message


async def invite_link(bot: Bot, token: str) -> str:
    me = await bot.me()
    return f"https://t.me/{me.username}?start={token}"


def qr_png(link: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


async def send_link(message: Message, link: str, caption: str) -> None:
    """The link as text (to copy) and as a QR code photo (to show or print)."""
    await message.answer(f"{caption}\n{link}")
    await message.answer_photo(BufferedInputFile(qr_png(link), "invite.png"), caption=link)
