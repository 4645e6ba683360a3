"""What smart filing adds to the accountant's card and to the client's reading notice:
the likely duplicate (with its buttons). Pure rendering, so `handlers.review` can call it
without importing the duplicate router (which imports `handlers.review`)."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import duplicates
from core.domain import Document
from handlers.callbacks import DuplicateAct
from handlers.texts import Texts

CAPTION_LIMIT = 1024


def _when(t: Texts, mark: dict[str, Any]) -> str:
    at = mark.get("at")
    return t.date(str(at)[:10]) if at else "?"


def duplicate_line(t: Texts, mark: dict[str, Any]) -> str:
    via = t("dup.via_mail" if mark.get("platform") == "mail" else "dup.via_telegram")
    params = {"number": mark.get("number") or mark.get("of"), "via": via, "date": _when(t, mark)}
    if mark.get("other_org"):
        line = t("dup.card_other_org", org=mark.get("org_name") or "?", **params)
    else:
        line = t("dup.card", **params)
    return line + " · " + t(f"dup.rule_{mark.get('rule')}")


def client_line(t: Texts, document: Document) -> str | None:
    """The gentle word to a client who sent something twice."""
    mark = duplicates.suspected(document)
    if mark is None:
        return None
    params = {"number": mark.get("number") or mark.get("of"), "date": _when(t, mark)}
    if mark.get("other_org"):
        return t("dup.client_other_org", org=mark.get("org_name") or "?", **params)
    return t("dup.client", **params)


def decorate(
    t: Texts, document: Document, caption: str, markup: InlineKeyboardMarkup | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card with the duplicate line under its title and the four answers on top."""
    mark = duplicates.suspected(document)
    if mark is None:
        return caption, markup
    title, _, rest = caption.partition("\n")
    caption = "\n".join(p for p in (title, duplicate_line(t, mark), rest) if p)[:CAPTION_LIMIT]
    d, v = document.id or 0, document.version
    builder = InlineKeyboardBuilder()
    number = mark.get("number") or mark.get("of")
    builder.button(
        text=t("dup.button_see", number=number), callback_data=DuplicateAct(a="see", d=d, v=v)
    )
    for action, key in (("ok", "approve"), ("keep", "keep"), ("ret", "return")):
        builder.button(text=t(f"dup.button_{key}"), callback_data=DuplicateAct(a=action, d=d, v=v))
    builder.adjust(1, 1, 2)
    rows: list[list[InlineKeyboardButton]] = list(builder.as_markup().inline_keyboard)
    if markup is not None:
        rows += markup.inline_keyboard
    return caption, InlineKeyboardMarkup(inline_keyboard=rows)
