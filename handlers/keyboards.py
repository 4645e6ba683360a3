from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core.domain import Organization
from handlers.callbacks import BatchAction, LanguageChoice
from handlers.texts import Texts

LANGUAGE_NAMES = {"he": "עברית", "en": "English"}


def choose_organization(batch: str, organizations: list[Organization]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for org in organizations:
        assert org.id is not None
        builder.button(
            text=org.name, callback_data=BatchAction(action="org", batch=batch, org=org.id)
        )
    builder.adjust(1)
    return builder.as_markup()


def after_upload(
    t: Texts, batch: str, *, offer_income: bool, offer_join: bool
) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    if offer_join:
        builder.button(
            text=t("intake.button_join"), callback_data=BatchAction(action="join", batch=batch)
        )
    if offer_income:
        builder.button(
            text=t("intake.button_income"), callback_data=BatchAction(action="inc", batch=batch)
        )
    builder.adjust(1)
    return builder.as_markup() if offer_income or offer_join else None


def languages(current: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        mark = "✓ " if code == current else ""
        builder.button(text=mark + name, callback_data=LanguageChoice(language=code))
    return builder.as_markup()
