"""The accountant's /tofile work and the client's answers to a returned document.

Thin: every decision (access, versions, validation) is in `core.review`; buttons carry
only ids and the version the accountant saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
)
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.settings import Settings
from bot.uploads import UploadGate
from core import intake, mail, review
from core.categories import CATEGORIES
from core.clock import Clock
from core.domain import Direction, Document, Person, StoredFile
from core.errors import Conflict, NotAllowed, TayukError
from core.files import EXTENSIONS, photo_preview, safe_name
from core.people import mark_unreachable
from core.permissions import Action, may_on_document
from core.ports import FileStore, Mailer, Notifier
from core.reading_jobs import PARTIAL
from core.web_access import WebLinks
from handlers import books
from handlers.callbacks import ClientAct, ReviewAct, ReviewOrg
from handlers.intake import download, turn, upload_of
from handlers.reading_notice import UNSURE_BELOW
from handlers.texts import Texts, number_of
from handlers.web_links import page_button
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)
PAGE = 10
CAPTION_LIMIT = 1024
CARDS = "review_cards"  # FSM storage destiny: the live card per organization in a chat
AMOUNTS = ("total", "vat", "net")
LABELLED = (*review.EDITABLE, "currency", "net")


class ReviewFlow(StatesGroup):
    value = State()  # the accountant types a field's value
    note = State()  # the accountant types a note for a return


class ClientFlow(StatesGroup):
    photo = State()  # the client sends a new photo of a returned document
    text = State()  # the client types an explanation


# --- rendering -------------------------------------------------------------------------------


def report_text(t: Texts, rows: list[review.ReportRow], now: datetime, page: int) -> str:
    if not rows:
        return t("review.nothing")
    lines = [t("review.report_title")]
    for row in rows[page * PAGE : (page + 1) * PAGE]:
        days = (now - row.oldest).days if row.oldest else 0
        if days >= 2:
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


def report_keyboard(rows: list[review.ReportRow], page: int) -> InlineKeyboardMarkup | None:
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
        chosen = document.fields.get("_category") == category
        key = "review.card_category" if chosen else "review.card_suggested"
        lines.append(t(key, category=t(f"category.{category}")))
    if partial := document.fields.get(PARTIAL):
        lines.append(t("review.card_partial", read=partial["read"], total=partial["total"]))
    if document.fields.get("_answered"):
        lines.append(t("review.card_answered"))
        for answer in document.fields.get("_answers") or []:
            if answer.get("kind") == "text":
                lines.append("💬 " + str(answer.get("text")))
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
    return _card_buttons(t, document.id or 0, document.version, document.direction)


def _card_buttons(t: Texts, d: int, v: int, direction: Direction) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    buttons = (
        ("ok", "approve"),
        ("ed", "edit"),
        ("ct", "category"),
        ("rt", "return"),
        ("sk", "skip"),
    )
    for action, key in buttons:
        builder.button(text=t(f"review.button_{key}"), callback_data=ReviewAct(a=action, d=d, v=v))
    other = Direction.EXPENSE if direction is Direction.INCOME else Direction.INCOME
    builder.button(
        text=t(f"review.button_mark_{other.value}"),
        callback_data=ReviewAct(a="dr", d=d, v=v, x=other.value),
    )
    builder.button(text=t("review.button_back"), callback_data=ReviewAct(a="bk", d=d, v=v))
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


async def _latest_file(
    uow: SqlUnitOfWork, files: FileStore, document_id: int
) -> tuple[StoredFile | None, bytes | None]:
    pages = await uow.documents.files(document_id)
    if not pages:
        return None, None
    stored = pages[-1]  # the newest page: after an answer, the client's new photo
    return stored, await files.get(stored.sha256)


# --- the accountant ----------------------------------------------------------------------------


async def show_report(
    bot: Bot,
    chat_id: int,
    uow: SqlUnitOfWork,
    person: Person,
    t: Texts,
    now: datetime,
    page: int = 0,
    web: InlineKeyboardButton | None = None,
) -> None:
    rows = await review.to_file_report(uow, person.id or 0)
    page = max(0, min(page, max(0, math.ceil(len(rows) / PAGE) - 1)))
    markup = report_keyboard(rows, page)
    if web is not None and rows:  # the web review screen, below the organizations
        markup = InlineKeyboardMarkup(
            inline_keyboard=[*(markup.inline_keyboard if markup else []), [web]]
        )
    await bot.send_message(chat_id, report_text(t, rows, now, page), reply_markup=markup)


async def show_next(
    bot: Bot,
    chat_id: int,
    uow: SqlUnitOfWork,
    files: FileStore,
    person: Person,
    t: Texts,
    organization_id: int,
    after_id: int | None = None,
    state: FSMContext | None = None,
) -> None:
    document = await review.next_document(uow, person.id or 0, organization_id, after_id)
    org = await uow.organizations.get(organization_id)
    name = org.name if org else "?"
    if document is None:
        if state is not None:
            await close_card(bot, state, organization_id)
        await bot.send_message(chat_id, t("review.org_done", org=name))
        return
    await show_card(bot, chat_id, uow, files, t, document, name, state)


async def show_card(
    bot: Bot,
    chat_id: int,
    uow: SqlUnitOfWork,
    files: FileStore,
    t: Texts,
    document: Document,
    org: str,
    state: FSMContext | None = None,
) -> None:
    """Sends the card; the accountant's earlier card of the organization is closed."""
    stored, data = await _latest_file(uow, files, document.id or 0)
    category = await review.suggested_category(uow, document)
    caption, markup = card_caption(t, document, org, category), card_keyboard(t, document)
    # A document of a closed VAT period says so, with the next open period to take (books).
    caption, markup = await books.late_notice(uow, t, document, caption, markup)
    await uow.release_if_clean()
    sent = await send_file(bot, chat_id, stored, data, caption, markup, number_of(document))
    if state is not None and document.organization_id is not None:
        await close_card(bot, state, document.organization_id, sent.message_id)


def _cards_key(state: FSMContext) -> StorageKey:
    return replace(state.key, destiny=CARDS)


async def close_card(
    bot: Bot, state: FSMContext, organization_id: int, new_card: int | None = None
) -> None:
    """One live card per accountant and organization: the older one loses its buttons.

    Kept apart from the conversation state, so /cancel or a finished edit does not lose it.
    """
    key = _cards_key(state)
    cards: dict[str, Any] = dict(await state.storage.get_data(key))
    old = cards.get(str(organization_id))
    if old is not None and old != new_card:
        with contextlib.suppress(TelegramBadRequest):  # deleted, or already closed
            await bot.edit_message_reply_markup(
                chat_id=key.chat_id, message_id=int(old), reply_markup=None
            )
    if new_card is None:
        cards.pop(str(organization_id), None)
    else:
        cards[str(organization_id)] = new_card
    await state.storage.set_data(key, cards)


async def drop(query: CallbackQuery) -> None:
    """Removes the card a button was on; already gone (a double tap) is fine."""
    if isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await query.message.delete()


async def on_tofile(
    message: Message,
    bot: Bot,
    uow: SqlUnitOfWork,
    person: Person,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    web_links: WebLinks | None = None,
) -> None:
    await state.clear()
    web = page_button(t, web_links, person, "review", clock) if web_links else None
    await show_report(bot, message.chat.id, uow, person, t, clock.now(), web=web)


async def on_report_button(
    query: CallbackQuery,
    callback_data: ReviewOrg,
    bot: Bot,
    uow: SqlUnitOfWork,
    files: FileStore,
    person: Person,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    await query.answer()
    chat_id = query.from_user.id if query.message is None else query.message.chat.id
    if callback_data.org == 0:
        await drop(query)
        await show_report(bot, chat_id, uow, person, t, clock.now(), callback_data.page)
        return
    await show_next(bot, chat_id, uow, files, person, t, callback_data.org, state=state)


async def on_review_button(
    query: CallbackQuery,
    callback_data: ReviewAct,
    bot: Bot,
    uow: SqlUnitOfWork,
    files: FileStore,
    person: Person,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    mailer: Mailer | None = None,
    settings: Settings | None = None,
) -> None:
    pid, d, v, a = person.id or 0, callback_data.d, callback_data.v, callback_data.a
    # Every button re-asks the database; the callback data is only a pointer.
    if not await may_on_document(uow, pid, Action.REVIEW, d):
        raise NotAllowed()
    document = await uow.documents.get(d)
    assert document is not None and document.organization_id is not None
    org_id = document.organization_id
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    card_id = query.message.message_id if query.message is not None else None
    now = clock.now()
    if a in ("ed", "rt", "ct", "f", "r", "mn"):
        # A stale card (an older copy, or one changed meanwhile) loses now, not after typing.
        await review.current(uow, pid, d, v)
    if a in ("ed", "rt", "ct"):
        menus = {"ed": _edit_menu, "rt": _reason_menu, "ct": _category_menu}
        await query.answer()
        await _set_markup(query, menus[a](t, d, v))
        return
    if a == "mn":
        # Back from a submenu (or from a half-made return) to the card's own buttons.
        if await state.get_state() in (ReviewFlow.note.state, ReviewFlow.value.state):
            await state.clear()
        await query.answer()
        await _set_markup(query, _card_buttons(t, d, v, document.direction))
        return
    if a in ("c", "dr"):
        if a == "c":
            document = await review.choose_category(uow, pid, d, v, callback_data.x, now)
        else:
            document = await review.set_direction(uow, pid, d, v, callback_data.x, now)
        await query.answer(t("review.done_ok"))
        await drop(query)
        org = await uow.organizations.get(org_id)
        await show_card(bot, chat_id, uow, files, t, document, org.name if org else "?", state)
        return
    if a == "f":
        await state.set_state(ReviewFlow.value)
        await state.set_data(
            {"d": d, "v": v, "field": callback_data.x, "org": org_id, "card": card_id}
        )
        await query.answer()
        await bot.send_message(
            chat_id, t("review.type_value", field=t(f"field.{callback_data.x}"))
        )
        return
    if a == "r":
        await state.set_state(ReviewFlow.note)
        await state.set_data(
            {"d": d, "v": v, "reason": callback_data.x, "org": org_id, "card": card_id}
        )
        await query.answer()
        markup = InlineKeyboardBuilder()
        markup.button(
            text=t("review.button_no_note"),
            callback_data=ReviewAct(a="nn", d=d, v=v, x=callback_data.x),
        )
        markup.button(text=t("review.button_menu_back"), callback_data=ReviewAct(a="mn", d=d, v=v))
        markup.adjust(1)
        await _set_markup(query, markup.as_markup())
        await bot.send_message(chat_id, t("review.type_note"))
        return
    if a == "nn":
        await state.clear()
        await _return(
            bot, uow, files, person, t, d, v, callback_data.x, None, now, mailer, settings
        )
    elif a == "ok":
        await review.approve(uow, pid, d, v, now)
    elif a == "bk":
        await query.answer()
        await drop(query)
        await show_report(bot, chat_id, uow, person, t, now)
        return
    await query.answer(t("review.done_" + ("skip" if a == "sk" else "ok")))
    await drop(query)
    await show_next(bot, chat_id, uow, files, person, t, org_id, d if a == "sk" else None, state)


async def _set_markup(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    if isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):  # "not modified" on a double tap
            await query.message.edit_reply_markup(reply_markup=markup)


def _with_back(t: Texts, builder: InlineKeyboardBuilder, d: int, v: int, width: int) -> None:
    """Every submenu ends in a way back to the card: a mis-tap is never a dead end."""
    count = len(list(builder.buttons))
    builder.button(text=t("review.button_menu_back"), callback_data=ReviewAct(a="mn", d=d, v=v))
    builder.adjust(*([width] * math.ceil(count / width)), 1)


def _edit_menu(t: Texts, d: int, v: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for name in review.EDITABLE:
        builder.button(text=t(f"field.{name}"), callback_data=ReviewAct(a="f", d=d, v=v, x=name))
    _with_back(t, builder, d, v, 2)
    return builder.as_markup()


def _category_menu(t: Texts, d: int, v: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key in CATEGORIES:
        builder.button(text=t(f"category.{key}"), callback_data=ReviewAct(a="c", d=d, v=v, x=key))
    _with_back(t, builder, d, v, 2)
    return builder.as_markup()


def _reason_menu(t: Texts, d: int, v: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for reason in review.RETURN_REASONS:
        builder.button(
            text=t(f"return.{reason}"), callback_data=ReviewAct(a="r", d=d, v=v, x=reason)
        )
    _with_back(t, builder, d, v, 1)
    return builder.as_markup()


async def _return(
    bot: Bot,
    uow: SqlUnitOfWork,
    files: FileStore,
    person: Person,
    t: Texts,
    d: int,
    v: int,
    reason: str,
    note: str | None,
    now: datetime,
    mailer: Mailer | None = None,
    settings: Settings | None = None,
) -> None:
    document = await review.return_to_client(uow, person.id or 0, d, v, reason, note, now)
    await notify_client(bot, uow, files, document, mailer, settings)


async def on_note(
    message: Message,
    bot: Bot,
    uow: SqlUnitOfWork,
    files: FileStore,
    person: Person,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    mailer: Mailer | None = None,
    settings: Settings | None = None,
) -> None:
    data: dict[str, Any] = await state.get_data()
    await state.clear()  # also when the return loses a race: no waiting for a note then
    await _return(
        bot,
        uow,
        files,
        person,
        t,
        data["d"],
        data["v"],
        data["reason"],
        message.text or "",
        clock.now(),
        mailer,
        settings,
    )
    if data.get("card"):
        # The card waited for a note ("No note" button): with the note given, it is done.
        with contextlib.suppress(TelegramBadRequest):
            await bot.delete_message(message.chat.id, int(data["card"]))
    await message.answer(t("review.done_ok"))
    await show_next(bot, message.chat.id, uow, files, person, t, data["org"], state=state)


async def on_value(
    message: Message,
    bot: Bot,
    uow: SqlUnitOfWork,
    files: FileStore,
    person: Person,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    data: dict[str, Any] = await state.get_data()
    try:
        document = await review.edit_field(
            uow,
            person.id or 0,
            data["d"],
            data["v"],
            data["field"],
            message.text or "",
            clock.now(),
        )
    except review.InvalidValue as error:
        # Stay in the state: the accountant just types it again.
        await message.answer(
            t(error.key) + "\n" + t("review.type_value", field=t(f"field.{data['field']}"))
        )
        return
    except Conflict:
        # Someone (or an older card) changed the document: stop waiting for a value.
        await state.clear()
        raise
    await state.clear()
    org = await uow.organizations.get(data["org"])
    await show_card(bot, message.chat.id, uow, files, t, document, org.name if org else "?", state)


# --- the client -------------------------------------------------------------------------------


def returned_message(t: Texts, document: Document) -> tuple[str, InlineKeyboardMarkup]:
    """Why the office returned it, and the client's three answers (also used by /status)."""
    lines = _returned_lines(t, document)
    lines.append(t("return.what_now"))
    builder = InlineKeyboardBuilder()
    for action in ("new", "exp", "wd"):
        builder.button(
            text=t(f"return.button_{action}"),
            callback_data=ClientAct(a=action, d=document.id or 0),
        )
    builder.adjust(1)
    return "\n".join(lines)[:CAPTION_LIMIT], builder.as_markup()


def _returned_lines(t: Texts, document: Document) -> list[str]:
    back = document.fields.get("_return") or {}
    if back.get("auto") and back.get("problem"):
        # A retake request: the office never saw it, so it is not "the office returned".
        lines = [
            t("return.title_retake", id=number_of(document)),
            t(f"retake.{back['problem']}", id=number_of(document)),
        ]
    else:
        lines = [
            t("return.title", id=number_of(document)),
            t("return.reason", reason=t(f"return.{back.get('reason')}")),
        ]
    if back.get("note"):
        lines.append(t("return.note", note=back["note"]))
    return lines


async def notify_client(
    bot: Bot,
    uow: SqlUnitOfWork,
    files: FileStore,
    document: Document,
    mailer: Mailer | None = None,
    settings: Settings | None = None,
) -> bool:
    """The returned document goes back to its sender, in their language, with answers to tap.

    A document that came by e-mail goes back to the sender's Telegram chat when they have
    one, else by e-mail to the address it came from."""
    person = await uow.people.get(document.uploaded_by)
    if person is None or person.id is None:
        return False
    chat = document.source_chat_id
    if document.source_platform != "telegram":
        # By e-mail or from the web page: the sender's Telegram chat, when they have one.
        chats = [
            i.chat_id for i in await uow.people.identities(person.id) if i.platform == "telegram"
        ]
        if not chats:
            if document.source_platform != mail.PLATFORM:
                return False
            return await _mail_client(uow, files, document, person, mailer, settings)
        chat = chats[0]
    caption, markup = returned_message(Texts(person.language), document)
    stored, data = await _latest_file(uow, files, document.id or 0)
    await uow.release_if_clean()
    try:
        await send_file(bot, chat, stored, data, caption, markup, number_of(document))
    except TelegramForbiddenError:
        # Blocked: the document stays returned and /tofile shows the client unreachable.
        await mark_unreachable(uow, person.id)
        return False
    return True


async def _mail_client(
    uow: SqlUnitOfWork,
    files: FileStore,
    document: Document,
    person: Person,
    mailer: Mailer | None,
    settings: Settings | None,
) -> bool:
    """The return by e-mail: a reply to the client's own mail, with the document attached;
    their reply (to the organization's address) names this mail and so finds the document."""
    domain = settings.mail.domain if settings is not None else None
    if mailer is None or not domain or document.organization_id is None:
        return False
    inbound = await uow.mail.inbound(document.source_chat_id)
    to = inbound.sender or inbound.envelope_from if inbound is not None else None
    if not to:
        return False
    address = mail.full_address(
        (await mail.address_for(uow, document.organization_id)).local_part, domain
    )
    stored, data = await _latest_file(uow, files, document.id or 0)
    await uow.commit()  # the address, when this made it
    t = Texts(person.language)
    lines = _returned_lines(t, document)
    lines.append(t("return.mail_what_now", address=address))
    attachments = []
    if stored is not None and data is not None:
        name = safe_name(stored.original_name, stored.mime_type) or (
            f"document-{document.id}" + EXTENSIONS.get(stored.mime_type, "")
        )
        attachments.append((name, stored.mime_type, data))
    subject = t("return.mail_subject", id=number_of(document), subject=inbound.subject or "")
    try:
        await mailer.send(
            to,
            subject,
            "\n".join(lines),
            headers={
                "Reply-To": address,
                "Message-ID": mail.return_message_id(document.id or 0, domain),
            },
            attachments=attachments,
        )
    except TayukError:
        log.info("could not e-mail the return of document %s", document.id)
        return False
    return True


class RepliesToReturn(Filter):
    """A message replying to one of our "returned" messages: gives the document id."""

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        if replied is None or replied.reply_markup is None:
            return False
        for row in replied.reply_markup.inline_keyboard:
            for button in row:
                data = button.callback_data or ""
                if data.startswith(ClientAct.__prefix__ + ":"):
                    return {"returned_id": ClientAct.unpack(data).d}
        return False


async def on_client_button(
    query: CallbackQuery,
    callback_data: ClientAct,
    uow: SqlUnitOfWork,
    person: Person,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    d = callback_data.d
    if callback_data.a == "wd":
        await review.withdraw(uow, person.id or 0, d, clock.now())
        await query.answer(t("return.withdrawn"))
        await _set_markup(query, InlineKeyboardMarkup(inline_keyboard=[]))
        return
    # Check now, not only when the answer arrives: a forged id is refused at once.
    await review.returned_for_client(uow, person.id or 0, d)
    await state.set_state(ClientFlow.photo if callback_data.a == "new" else ClientFlow.text)
    await state.set_data({"d": d})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t(f"return.ask_{callback_data.a}"))


async def _document_of_answer(state: FSMContext, returned_id: int | None) -> int:
    if returned_id is not None:
        return returned_id
    data: dict[str, Any] = await state.get_data()
    return int(data["d"])


async def on_client_text(
    message: Message,
    uow: SqlUnitOfWork,
    person: Person,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    returned_id: int | None = None,
    notifier: Notifier | None = None,
) -> None:
    d = await _document_of_answer(state, returned_id)
    document = await review.answer_text(uow, person.id or 0, d, message.text or "", clock.now())
    await state.clear()
    await message.reply(t("return.answered", id=number_of(document)))
    await tell_returner(uow, notifier, person, document, clock.now())


async def on_client_file(
    message: Message,
    bot: Bot,
    uow: SqlUnitOfWork,
    files: FileStore,
    person: Person,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    returned_id: int | None = None,
    uploads: UploadGate | None = None,
    notifier: Notifier | None = None,
) -> None:
    d = await _document_of_answer(state, returned_id)
    upload = upload_of(message)
    await review.returned_for_client(uow, person.id or 0, d)  # refused before the download
    await uow.release()  # no transaction open across the download
    async with turn(uploads, person, message, t):
        kept = await intake.keep_file(files, upload, await download(bot, upload.file_id))
    document = await review.answer_file(uow, person.id or 0, d, kept.attach(d), clock.now())
    await state.clear()
    await message.reply(t("return.answered_file", id=number_of(document)))
    await tell_returner(uow, notifier, person, document, clock.now())


async def tell_returner(
    uow: SqlUnitOfWork,
    notifier: Notifier | None,
    client: Person,
    document: Document,
    now: datetime,
) -> None:
    """The accountant who returned the document hears that the client answered."""
    accountant = await review.returner_to_tell(uow, document, now)
    if accountant is None or notifier is None or document.organization_id is None:
        return
    org = await uow.organizations.get(document.organization_id)
    await uow.release_if_clean()
    await notifier.notify(
        accountant,
        "review.client_answered",
        client=client.display_name,
        id=number_of(document),
        org=org.name if org else "?",
    )


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(on_tofile, Command("tofile"))
    router.callback_query.register(on_report_button, ReviewOrg.filter())
    router.callback_query.register(on_review_button, ReviewAct.filter())
    router.callback_query.register(on_client_button, ClientAct.filter())
    router.message.register(on_note, StateFilter(ReviewFlow.note), F.text)
    router.message.register(on_value, StateFilter(ReviewFlow.value), F.text)
    files = F.photo | F.document
    router.message.register(on_client_file, files, RepliesToReturn())
    router.message.register(on_client_file, files, StateFilter(ClientFlow.photo))
    router.message.register(on_client_text, F.text, RepliesToReturn())
    router.message.register(on_client_text, F.text, StateFilter(ClientFlow.text))
    return router
