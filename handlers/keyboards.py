from __future__ import annotations

from collections.abc import Callable, Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core.domain import Organization
from handlers.callbacks import BatchAction, LanguageChoice
from handlers.texts import Texts

LANGUAGE_NAMES = {"he": "עברית", "en": "English"}


def one_a_line(buttons: Iterable[tuple[str, CallbackData]]) -> InlineKeyboardMarkup:
    """A chooser: a button a line (text, what a tap sends), in the order given."""
    builder = InlineKeyboardBuilder()
    for text, data in buttons:
        builder.button(text=text, callback_data=data)
    builder.adjust(1)
    return builder.as_markup()


def organizations_chooser(
    organizations: Iterable[Organization], data: Callable[[int], CallbackData]
) -> InlineKeyboardMarkup:
    """Which organization: a button each, named, that sends `data(its id)` (the first step
    of /vat, /export, /filed, /duedate, /invite and of a file sent to several of them)."""
    return one_a_line((org.name, data(org.id or 0)) for org in organizations)


def choose_organization(batch: str, organizations: list[Organization]) -> InlineKeyboardMarkup:
    return organizations_chooser(
        organizations, lambda org: BatchAction(action="org", batch=batch, org=org)
    )


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
