"""The accountant's /tofile work: the report, one card at a time, and a handler per press.

Thin: every decision (access, versions, validation) is in `core.review` and
`core.review_card`, which answer with the card to show; buttons carry only ids and the
version the accountant saw. The client's side is `handlers.review_client`, the looks
`handlers.review_render`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from core import review, review_card
from core.clock import Clock
from core.domain import Document
from core.errors import Conflict
from core.people import KnownPerson
from core.ports import FileStore, Mailer, UnitOfWork
from core.review_card import Card
from core.web_access import WebLinks
from handlers import review_client, smart_card
from handlers.callbacks import ReviewAct, ReviewAction, ReviewOrg
from handlers.late_card import late_notice
from handlers.outbox import Outbox
from handlers.review_client import ClientFlow as ClientFlow
from handlers.review_client import notify_client as notify_client
from handlers.review_client import returned_message as returned_message
from handlers.review_client import set_markup
from handlers.review_render import (
    PAGE,
    card_buttons,
    card_keyboard,
    category_menu,
    edit_menu,
    no_note_menu,
    reason_menu,
    report_keyboard,
    report_text,
    send_file,
)
from handlers.review_render import card_caption as card_caption
from handlers.settings import HANDLER_DEFAULTS, HandlerSettings
from handlers.texts import Texts, number_of
from handlers.web_links import page_button

CARDS = "review_cards"  # FSM storage destiny: the live card per organization in a chat


class ReviewFlow(StatesGroup):
    value = State()  # the accountant types a field's value
    note = State()  # the accountant types a note for a return


# --- showing -----------------------------------------------------------------------------------


async def show_report(
    bot: Bot,
    chat_id: int,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    now: datetime,
    page: int = 0,
    web: InlineKeyboardButton | None = None,
) -> None:
    rows = await review.to_file_report(uow, person.id)
    page = max(0, min(page, max(0, math.ceil(len(rows) / PAGE) - 1)))
    markup = report_keyboard(rows, page)
    if web is not None and rows:  # the web review screen, below the organizations
        markup = InlineKeyboardMarkup(
            inline_keyboard=[*(markup.inline_keyboard if markup else []), [web]]
        )
    await bot.send_message(chat_id, report_text(t, rows, now, page), reply_markup=markup)


async def render_card(
    bot: Bot,
    chat_id: int,
    uow: UnitOfWork,
    t: Texts,
    card: Card,
    state: FSMContext | None = None,
) -> None:
    """Sends the card, or says the organization is done; the accountant's earlier card of
    the organization is closed."""
    document = card.document
    if document is None:
        if state is not None:
            await close_card(bot, state, card.organization_id)
        await bot.send_message(chat_id, t("review.org_done", org=card.organization))
        return
    caption = card_caption(t, document, card.organization, card.category)
    markup = card_keyboard(t, document)
    # A document of a closed VAT period says so, with the next open period to take (books).
    caption, markup = await late_notice(uow, t, document, caption, markup)
    # Smart filing (issue 17), from what the card has read.
    more = await smart_card.extras(uow, document, card.category, card.asked)
    caption, shown = smart_card.decorate(t, document, caption, markup, more)
    await uow.release_if_clean()
    sent = await send_file(bot, chat_id, card.page, card.data, caption, shown, number_of(document))
    if state is not None:
        await close_card(bot, state, card.organization_id, sent.message_id)


async def show_card(
    bot: Bot,
    chat_id: int,
    uow: UnitOfWork,
    files: FileStore,
    t: Texts,
    document: Document,
    org: str,
    state: FSMContext | None = None,
) -> None:
    """The card of a document the caller's use case already let the person see."""
    card = await review_card.card_of(uow, files, document)
    await render_card(bot, chat_id, uow, t, replace(card, organization=org), state)


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


def chat_of(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message is not None else query.from_user.id


async def next_after_press(
    query: CallbackQuery,
    bot: Bot,
    uow: UnitOfWork,
    t: Texts,
    card: Card,
    state: FSMContext,
    done: str = "review.done_ok",
) -> None:
    """A press that finished with the card: it goes, and the next one comes."""
    await query.answer(t(done))
    await drop(query)
    await render_card(bot, chat_of(query), uow, t, card, state)


# --- the report --------------------------------------------------------------------------------


async def on_tofile(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    person: KnownPerson,
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
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    await query.answer()
    chat_id = chat_of(query)
    if callback_data.org == 0:
        await drop(query)
        await show_report(bot, chat_id, uow, person, t, clock.now(), callback_data.page)
        return
    card = await review_card.next_card(uow, files, person.id, callback_data.org)
    await render_card(bot, chat_id, uow, t, card, state)


# --- the card's buttons: one handler per ReviewAction ------------------------------------------
# Every press re-asks the core, which re-reads access and the version from the database:
# the callback data is only a pointer.


async def on_approve(
    query: CallbackQuery,
    callback_data: ReviewAct,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    data = callback_data
    card = await review_card.approve(uow, files, person.id, data.d, data.v, clock.now())
    await next_after_press(query, bot, uow, t, card, state)


async def on_skip(
    query: CallbackQuery,
    callback_data: ReviewAct,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
) -> None:
    card = await review_card.skip(uow, files, person.id, callback_data.d)
    await next_after_press(query, bot, uow, t, card, state, "review.done_skip")


async def on_back_to_report(
    query: CallbackQuery,
    callback_data: ReviewAct,
    bot: Bot,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    await review_card.reviewable(uow, person.id, callback_data.d)
    await query.answer()
    await drop(query)
    await show_report(bot, chat_of(query), uow, person, t, clock.now())


async def on_menu(
    query: CallbackQuery,
    callback_data: ReviewAct,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
) -> None:
    """A submenu of the card (edit, category, return), or back from one to the card."""
    d, v = callback_data.d, callback_data.v
    # A stale card (an older copy, or one changed meanwhile) loses now, not after typing.
    document = await review.current(uow, person.id, d, v)
    action = callback_data.a
    if action is ReviewAction.MENU:
        # Back from a submenu (or from a half-made return) to the card's own buttons.
        if await state.get_state() in (ReviewFlow.note.state, ReviewFlow.value.state):
            await state.clear()
        markup = card_buttons(t, d, v, document.direction)
    else:
        menus = {
            ReviewAction.EDIT_MENU: edit_menu,
            ReviewAction.RETURN_MENU: reason_menu,
            ReviewAction.CATEGORY_MENU: category_menu,
        }
        markup = menus[action](t, d, v)
    await query.answer()
    await set_markup(query, markup)


async def on_category(
    query: CallbackQuery,
    callback_data: ReviewAct,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    data = callback_data
    card = await review_card.choose_category(
        uow, files, person.id, data.d, data.v, data.x, clock.now()
    )
    await next_after_press(query, bot, uow, t, card, state)


async def on_direction(
    query: CallbackQuery,
    callback_data: ReviewAct,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    data = callback_data
    card = await review_card.set_direction(
        uow, files, person.id, data.d, data.v, data.x, clock.now()
    )
    await next_after_press(query, bot, uow, t, card, state)


async def on_edit_field(
    query: CallbackQuery,
    callback_data: ReviewAct,
    bot: Bot,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
) -> None:
    """The accountant chose a field: its value comes as their next message (`on_value`)."""
    d, v, field = callback_data.d, callback_data.v, callback_data.x
    document = await review.current(uow, person.id, d, v)
    await state.set_state(ReviewFlow.value)
    await state.set_data(
        {"d": d, "v": v, "field": field, "org": document.organization_id, "card": _card_of(query)}
    )
    await query.answer()
    await bot.send_message(chat_of(query), t("review.type_value", field=t(f"field.{field}")))


async def on_return_reason(
    query: CallbackQuery,
    callback_data: ReviewAct,
    bot: Bot,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    state: FSMContext,
) -> None:
    """The accountant chose why: a note may come as their next message (`on_note`)."""
    d, v, reason = callback_data.d, callback_data.v, callback_data.x
    document = await review.current(uow, person.id, d, v)
    await state.set_state(ReviewFlow.note)
    await state.set_data(
        {
            "d": d,
            "v": v,
            "reason": reason,
            "org": document.organization_id,
            "card": _card_of(query),
        }
    )
    await query.answer()
    await set_markup(query, no_note_menu(t, d, v, reason))
    await bot.send_message(chat_of(query), t("review.type_note"))


async def on_return_without_note(
    query: CallbackQuery,
    callback_data: ReviewAct,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    mailer: Mailer | None = None,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
    outbox: Outbox | None = None,
) -> None:
    await state.clear()
    data = callback_data
    card = await _return(
        bot,
        uow,
        files,
        person,
        data.d,
        data.v,
        data.x,
        None,
        clock.now(),
        mailer,
        handler_settings,
        outbox,
    )
    await next_after_press(query, bot, uow, t, card, state)


def _card_of(query: CallbackQuery) -> int | None:
    return query.message.message_id if query.message is not None else None


async def _return(
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    d: int,
    v: int,
    reason: str,
    note: str | None,
    now: datetime,
    mailer: Mailer | None = None,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
    outbox: Outbox | None = None,
) -> Card:
    """Returns the document and tells the client; the organization's next card."""
    returned = await review_card.return_to_client(uow, files, person.id, d, v, reason, note, now)
    await notify_client(bot, uow, files, returned.document, mailer, handler_settings, outbox)
    return returned.card


# --- what the accountant types -----------------------------------------------------------------


async def on_note(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    mailer: Mailer | None = None,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
    outbox: Outbox | None = None,
) -> None:
    data: dict[str, Any] = await state.get_data()
    await state.clear()  # also when the return loses a race: no waiting for a note then
    card = await _return(
        bot,
        uow,
        files,
        person,
        data["d"],
        data["v"],
        data["reason"],
        message.text or "",
        clock.now(),
        mailer,
        handler_settings,
        outbox,
    )
    if data.get("card"):
        # The card waited for a note ("No note" button): with the note given, it is done.
        with contextlib.suppress(TelegramBadRequest):
            await bot.delete_message(message.chat.id, int(data["card"]))
    await message.answer(t("review.done_ok"))
    await render_card(bot, message.chat.id, uow, t, card, state)


async def on_value(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    data: dict[str, Any] = await state.get_data()
    try:
        card = await review_card.edit_field(
            uow,
            files,
            person.id,
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
    await render_card(bot, message.chat.id, uow, t, card, state)


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(on_tofile, Command("tofile"))
    router.callback_query.register(on_report_button, ReviewOrg.filter())
    presses: dict[ReviewAction, Callable[..., Awaitable[None]]] = {
        ReviewAction.APPROVE: on_approve,
        ReviewAction.SKIP: on_skip,
        ReviewAction.BACK: on_back_to_report,
        ReviewAction.EDIT_MENU: on_menu,
        ReviewAction.RETURN_MENU: on_menu,
        ReviewAction.CATEGORY_MENU: on_menu,
        ReviewAction.MENU: on_menu,
        ReviewAction.CATEGORY: on_category,
        ReviewAction.DIRECTION: on_direction,
        ReviewAction.EDIT_FIELD: on_edit_field,
        ReviewAction.RETURN_REASON: on_return_reason,
        ReviewAction.RETURN_NO_NOTE: on_return_without_note,
    }
    for action, handler in presses.items():
        router.callback_query.register(handler, ReviewAct.filter(F.a == action))
    router.message.register(on_note, StateFilter(ReviewFlow.note), F.text)
    router.message.register(on_value, StateFilter(ReviewFlow.value), F.text)
    review_client.register(router)
    return router
