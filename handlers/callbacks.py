"""Callback data. Short (Telegram allows 64 bytes), no secrets, and never trusted:
every handler re-checks permissions against the database."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class BatchAction(CallbackData, prefix="b"):
    action: str  # "org" (choose organization), "inc" (mark income), "join" (join pages)
    batch: str
    org: int = 0


class LanguageChoice(CallbackData, prefix="lang"):
    language: str
