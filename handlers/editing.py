"""Replacing the message whose button was pressed."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def edit_in_place(
    query: CallbackQuery, text: str | None, markup: InlineKeyboardMarkup | None = None
) -> None:
    """New text and buttons for the pressed message (`text` None: only the buttons).

    A double tap asks for the same edit twice; Telegram's "message is not modified" answer
    to the second is not an error the user should see.
    """
    message = query.message
    if not isinstance(message, Message):
        return  # too old to edit: Telegram gives an inaccessible message
    try:
        if text is None:
            await message.edit_reply_markup(reply_markup=markup)
        else:
            await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if "not modified" not in error.message:
            raise
