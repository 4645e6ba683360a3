"""How the review screens look: the to-file report, the accountant's card and its menus.

Pure rendering (and sending a card's file): what to show is decided by `core.review_card`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramEntityTooLarge
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import review
from core.categories import CATEGORIES
from core.domain import PARTIAL, Direction, Document, ReportRow, StoredFile
from core.files import EXTENSIONS, photo_preview, safe_name
from handlers.callbacks import ReviewAct, ReviewAction, ReviewOrg
from handlers.reading_notice import UNSURE_BELOW
from handlers.texts import Texts, number_of

log = logging.getLogger(__name__)
PAGE = 10
CAPTION_LIMIT = 1024
AMOUNTS = ("total", "vat", "net")
LABELLED = (*review.EDITABLE, "currency", "net")


def report_text(t: Texts, rows: list[ReportRow], now: datetime, page: int) -> str:
    if not rows:
        return t("review.nothing")
    lines = [t("review.report_title")]
    for row in rows[page * PAGE : (page + 1) * PAGE]:
        days = (now - row.oldest).days if row.oldest else 0
        if not row.to_file:  # only the client's side waits: no "0 to file, all from today"
            line = t("review.report_line_none", org=row.name)
        elif days >= 2:
            line = t("review.report_line", org=row.name, count=row.to_file, days=days)
        else:  # "0 days old" is no way to say "today"
            key = "review.report_line_one" if days == 1 else "review.report_line_today"
            line = t(key, org=row.name, count=row.to_file)
        if row.returned:
            line += " " + t("review.report_returned", count=row.returned)
        if row.retake:
            line += " " + t("review.report_retake", count=row.retake)
        if row.unreachable:
            line += " " + t("review.report_unreachable")
        lines.append(line)
    return "\n".join(lines)


def report_keyboard(rows: list[ReportRow], page: int) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    shown = [r for r in rows[page * PAGE : (page + 1) * PAGE] if r.to_file]
    for row in shown:
        builder.button(
            text=f"{row.name} ({row.to_file})", callback_data=ReviewOrg(org=row.organization_id)
        )
    pages = math.ceil(len(rows) / PAGE)
    if page > 0:
        builder.button(text="«", callback_data=ReviewOrg(page=page - 1))
    if page + 1 < pages:
        builder.button(text="»", callback_data=ReviewOrg(page=page + 1))
    builder.adjust(*([1] * len(shown)), 2)
    return builder.as_markup() if shown or pages > 1 else None


def card_caption(t: Texts, document: Document, org: str, category: str | None = None) -> str:
    """The fields read, the doubtful ones first and marked; the (suggested) category."""
    fields = [
        (name, f)
        for name, f in document.fields.items()
        if not name.startswith("_") and isinstance(f, dict) and f.get("value") is not None
    ]
    fields.sort(key=lambda item: float(item[1].get("confidence") or 0) >= UNSURE_BELOW)
    currency = (document.fields.get("currency") or {}).get("value")
    lines = [
        t("review.card_title", id=number_of(document), org=org),
        t("read.kind", kind=t(f"kind.{document.kind}")),
        t("review.card_direction", direction=t(f"direction.{document.direction.value}")),
    ]
    for name, f in fields:
        label = t(f"field.{name}") if name in LABELLED else name
        doubtful = float(f.get("confidence") or 0) < UNSURE_BELOW
        lines.append(("⚠️ " if doubtful else "") + f"{label}: {field_value(t, name, f, currency)}")
    if currency is None and any(name in AMOUNTS for name, _ in fields):
        # Not read is not ILS: the accountant sees that nobody knows the currency.
        lines.append("⚠️ " + t("review.card_unread", field=t("field.currency")))
    missing = review.allocation_missing(document)
    if missing is not None:
        lines.append(allocation_line(t, missing, currency, "review.card_allocation_missing"))
    changed = review.changes(document)
    if changed:
        lines.append(t("review.card_changed"))
        for name, before, after in changed:
            lines.append(
                t(
                    "review.card_change",
                    field=t(f"field.{name}"),
                    before=field_value(t, name, {"value": before}, currency) or "—",
                    after=field_value(t, name, {"value": after}, currency) or "—",
                )
            )
    if category is not None:
        chosen = document.category == category
        key = "review.card_category" if chosen else "review.card_suggested"
        lines.append(t(key, category=t(f"category.{category}")))
    if partial := document.fields.get(PARTIAL):
        lines.append(t("review.card_partial", read=partial["read"], total=partial["total"]))
    if document.answered:
        lines.append(t("review.card_answered"))
        for answer in document.answers:
            if answer.kind == "text":
                lines.append("💬 " + str(answer.text))
    return "\n".join(lines)[:CAPTION_LIMIT]


def field_value(t: Texts, name: str, field: dict[str, Any], currency: str | None) -> str:
    """A field's value as a user reads it: dates and amounts through the one formatter."""
    value = field.get("value")
    if value is None:
        return ""
    try:
        if name in AMOUNTS:
            return t.amount(value, currency or "")
        if name == "date":
            return t.date(str(value))
    except (ArithmeticError, ValueError):
        pass  # a value the accountant typed oddly is shown as it is
    return str(value)


def allocation_line(
    t: Texts, missing: review.AllocationMissing, currency: str | None, key: str
) -> str:
    vat = t.amount(missing.vat, currency or "ILS") if missing.vat is not None else "—"
    return "⚠️ " + t(key, threshold=t.amount(missing.threshold, "ILS"), vat=vat)


def card_keyboard(t: Texts, document: Document) -> InlineKeyboardMarkup:
    return card_buttons(t, document.id or 0, document.version, document.direction)


def card_buttons(t: Texts, d: int, v: int, direction: Direction) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    buttons = (
        (ReviewAction.APPROVE, "approve"),
        (ReviewAction.EDIT_MENU, "edit"),
        (ReviewAction.CATEGORY_MENU, "category"),
        (ReviewAction.RETURN_MENU, "return"),
        (ReviewAction.SKIP, "skip"),
    )
    for action, key in buttons:
        builder.button(text=t(f"review.button_{key}"), callback_data=ReviewAct(a=action, d=d, v=v))
    other = Direction.EXPENSE if direction is Direction.INCOME else Direction.INCOME
    builder.button(
        text=t(f"review.button_mark_{other.value}"),
        callback_data=ReviewAct(a=ReviewAction.DIRECTION, d=d, v=v, x=other.value),
    )
    builder.button(
        text=t("review.button_back"), callback_data=ReviewAct(a=ReviewAction.BACK, d=d, v=v)
    )
    builder.adjust(1, 2, 2, 1, 1)
    return builder.as_markup()


async def send_file(
    bot: Bot,
    chat_id: int,
    stored: StoredFile | None,
    data: bytes | None,
    caption: str,
    markup: InlineKeyboardMarkup | None,
    number: int | None = None,
) -> Message:
    """`number` is the document's per-organization number, for an unnamed file's name."""
    if stored is None or data is None:
        return await bot.send_message(chat_id, caption, reply_markup=markup)
    default = f"document-{number or stored.document_id}"
    name = safe_name(stored.original_name, stored.mime_type) or default + EXTENSIONS.get(
        stored.mime_type, ""
    )
    try:
        if stored.mime_type.startswith("image/"):
            # Sized for sendPhoto: a 4500x7500 scan as it is fails PHOTO_INVALID_DIMENSIONS.
            preview = await asyncio.to_thread(photo_preview, data)
            if preview is not None:
                photo = BufferedInputFile(preview, filename=f"{default}.jpg")
                return await bot.send_photo(chat_id, photo, caption=caption, reply_markup=markup)
        file = BufferedInputFile(data, filename=name)
        return await bot.send_document(chat_id, file, caption=caption, reply_markup=markup)
    except (TelegramBadRequest, TelegramEntityTooLarge) as error:
        # A file Telegram will not take must not hide the document (nor stop the queue):
        # the card comes as text, its buttons work the same.
        log.warning("document %s: file not sent (%s)", stored.document_id, error.message)
        return await bot.send_message(chat_id, caption, reply_markup=markup)


def with_back(t: Texts, builder: InlineKeyboardBuilder, d: int, v: int, width: int) -> None:
    """Every submenu ends in a way back to the card: a mis-tap is never a dead end."""
    count = len(list(builder.buttons))
    builder.button(
        text=t("review.button_menu_back"), callback_data=ReviewAct(a=ReviewAction.MENU, d=d, v=v)
    )
    builder.adjust(*([width] * math.ceil(count / width)), 1)


def edit_menu(t: Texts, d: int, v: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for name in review.EDITABLE:
        builder.button(
            text=t(f"field.{name}"),
            callback_data=ReviewAct(a=ReviewAction.EDIT_FIELD, d=d, v=v, x=name),
        )
    with_back(t, builder, d, v, 2)
    return builder.as_markup()


def category_menu(t: Texts, d: int, v: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key in CATEGORIES:
        builder.button(
            text=t(f"category.{key}"),
            callback_data=ReviewAct(a=ReviewAction.CATEGORY, d=d, v=v, x=key),
        )
    with_back(t, builder, d, v, 2)
    return builder.as_markup()


def reason_menu(t: Texts, d: int, v: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for reason in review.RETURN_REASONS:
        builder.button(
            text=t(f"return.{reason}"),
            callback_data=ReviewAct(a=ReviewAction.RETURN_REASON, d=d, v=v, x=reason),
        )
    with_back(t, builder, d, v, 1)
    return builder.as_markup()


def no_note_menu(t: Texts, d: int, v: int, reason: str) -> InlineKeyboardMarkup:
    """While the accountant may type a note for the return: go without one, or back."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("review.button_no_note"),
        callback_data=ReviewAct(a=ReviewAction.RETURN_NO_NOTE, d=d, v=v, x=reason),
    )
    builder.button(
        text=t("review.button_menu_back"), callback_data=ReviewAct(a=ReviewAction.MENU, d=d, v=v)
    )
    builder.adjust(1)
    return builder.as_markup()
