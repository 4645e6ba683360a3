"""What smart filing adds to the accountant's card and to the client's reading notice:
the likely duplicate (with its buttons). Pure rendering, so `handlers.review` can call it
without importing the duplicate router (which imports `handlers.review`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import duplicates, ready, suggestions
from core.domain import Document
from core.ports import UnitOfWork
from core.suggestions import Reason, Suggestion
from handlers.callbacks import DuplicateAct, ReadyAct
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


def suggestion_line(t: Texts, found: Suggestion) -> str:
    """ "Suggested category: fuel (92%: like 14 earlier documents from Paz)"."""
    if found.reason is Reason.VENDOR:
        reason = t("suggest.reason_vendor", count=found.count, vendor=found.vendor or "?")
    else:
        words = ", ".join(f"'{w}'" for w in found.words) or "—"
        key = "suggest.reason_rule" if found.reason is Reason.RULE else "suggest.reason_words"
        reason = t(key, words=words)
    return t(
        "suggest.card",
        category=t(f"category.{found.category}"),
        percent=round(found.confidence * 100),
        reason=reason,
    )


@dataclass(frozen=True)
class Extras:
    suggestion: Suggestion | None  # why the card's category is suggested
    ready: bool  # obvious enough to approve with the others in one tap


async def extras(
    uow: UnitOfWork,
    document: Document,
    category: str | None,
    asked: suggestions.Asked | None = None,
) -> Extras:
    """`asked`: what the card (`core.review_card.Card.asked`) already read."""
    asked = asked or suggestions.Asked(uow, document)
    return Extras(
        await suggestions.for_card(uow, document, category, asked),
        await ready.readiness(uow, document, asked) is not None,
    )


def decorate(
    t: Texts,
    document: Document,
    caption: str,
    markup: InlineKeyboardMarkup | None,
    more: Extras | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card with the suggestion's reason, "ready" with its approve-all button, the
    duplicate line under its title and the four answers to a duplicate on top."""
    if more is not None and more.suggestion is not None:
        found = more.suggestion
        plain = t("review.card_suggested", category=t(f"category.{found.category}"))
        caption = caption.replace(plain, suggestion_line(t, found), 1)[:CAPTION_LIMIT]
    if more is not None and more.ready and document.organization_id is not None:
        title, _, rest = caption.partition("\n")
        caption = "\n".join((title, t("ready.card"), rest))[:CAPTION_LIMIT]
        button = InlineKeyboardButton(
            text=t("ready.button_all"),
            callback_data=ReadyAct(a="ask", o=document.organization_id).pack(),
        )
        rows = [[button], *(markup.inline_keyboard if markup is not None else [])]
        markup = InlineKeyboardMarkup(inline_keyboard=rows)
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
    dup_rows: list[list[InlineKeyboardButton]] = list(builder.as_markup().inline_keyboard)
    if markup is not None:
        dup_rows += markup.inline_keyboard
    return caption, InlineKeyboardMarkup(inline_keyboard=dup_rows)
