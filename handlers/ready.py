"""One tap for the obvious (issue 17): approve all ready documents of an organization (one
confirmation, each still audited), /autofile to let an organization's ready documents file
themselves, and /autofiled, the list of what was filed that way with an undo for each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import ready, review_card
from core.clock import Clock
from core.domain import Document
from core.people import KnownPerson
from core.permissions import Action, may
from core.ports import FileStore, UnitOfWork
from handlers import review as review_handlers
from handlers.callbacks import ReadyAct
from handlers.texts import Texts, number_of

LISTED = 20  # undo buttons in one message


async def _org_name(uow: UnitOfWork, organization_id: int) -> str:
    org = await uow.organizations.get(organization_id)
    return org.name if org else "?"


async def on_ready_button(
    query: CallbackQuery,
    callback_data: ReadyAct,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    pid, a, org_id = person.id, callback_data.a, callback_data.o
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    if a == "ask":
        count = len(await ready.ready_documents(uow, pid, org_id))
        name = await _org_name(uow, org_id)
        await query.answer()
        if not count:
            await bot.send_message(chat_id, t("ready.none", org=name))
            return
        builder = InlineKeyboardBuilder()
        builder.button(
            text=t("ready.button_yes", count=count), callback_data=ReadyAct(a="yes", o=org_id)
        )
        builder.button(text=t("ready.button_no"), callback_data=ReadyAct(a="no", o=org_id))
        builder.adjust(1)
        await bot.send_message(
            chat_id, t("ready.confirm", count=count, org=name), reply_markup=builder.as_markup()
        )
        return
    if a == "no":
        await query.answer(t("ready.cancelled"))
        await review_handlers.drop(query)
        return
    if a == "yes":
        filed = await ready.approve_ready(uow, pid, org_id, clock.now())
        name = await _org_name(uow, org_id)
        await query.answer()
        if query.message is not None:
            await bot.edit_message_text(
                t("ready.done", count=len(filed), org=name),
                chat_id=chat_id,
                message_id=query.message.message_id,
            )
        await review_handlers.render_card(
            bot, chat_id, uow, t, await review_card.next_card(uow, files, person.id, org_id), state
        )
        return
    if a == "auto":
        await ready.set_auto_file(uow, pid, org_id, bool(callback_data.on), clock.now())
        await query.answer()
        text, markup = await _auto_menu(uow, person, t)
        if query.message is not None:
            await bot.edit_message_text(
                text, chat_id=chat_id, message_id=query.message.message_id, reply_markup=markup
            )
        return
    if a == "undo":
        await ready.undo_auto_file(uow, pid, callback_data.d, clock.now())
        await query.answer(t("autofiled.undone"))
        text, markup = await _auto_filed(uow, person, t, clock)
        if query.message is not None:
            await bot.edit_message_text(
                text, chat_id=chat_id, message_id=query.message.message_id, reply_markup=markup
            )


async def _auto_menu(
    uow: UnitOfWork, person: KnownPerson, t: Texts
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The organizations whose switch the person may turn (those who run the office)."""
    builder = InlineKeyboardBuilder()
    for org in await uow.organizations.through_offices(person.id):
        assert org.id is not None
        if not await may(uow, person.id, Action.REOPEN_PERIOD, org.id):
            continue
        on = await uow.filing.auto_file(org.id)
        key = "autofile.line_on" if on else "autofile.line_off"
        builder.button(
            text=t(key, org=org.name), callback_data=ReadyAct(a="auto", o=org.id, on=int(not on))
        )
    builder.adjust(1)
    if not list(builder.buttons):
        return t("autofile.none"), None
    return t("autofile.title"), builder.as_markup()


async def _auto_filed(
    uow: UnitOfWork, person: KnownPerson, t: Texts, clock: Clock
) -> tuple[str, InlineKeyboardMarkup | None]:
    documents = await ready.auto_filed_since(uow, person.id, clock.now() - timedelta(days=1))
    if not documents:
        return t("autofiled.nothing"), None
    lines = [t("autofiled.title", count=len(documents))]
    builder = InlineKeyboardBuilder()
    names: dict[int, str] = {}
    for document in documents[:LISTED]:
        org_id = document.organization_id or 0
        names.setdefault(org_id, await _org_name(uow, org_id))
        lines.append(_line(t, document, names[org_id]))
        builder.button(
            text=t("autofiled.button_undo", id=number_of(document), org=names[org_id]),
            callback_data=ReadyAct(a="undo", d=document.id or 0),
        )
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def _line(t: Texts, document: Document, org: str) -> str:
    def value(name: str) -> Any:
        entry = document.fields.get(name)
        return entry.get("value") if isinstance(entry, dict) else None

    total = value("total")
    currency = value("currency") or ""
    return t(
        "autofiled.line",
        id=number_of(document),
        org=org,
        vendor=value("vendor_name") or value("vendor_id") or "?",
        total=t.amount(total, currency) if total else "—",
        category=t(f"category.{document.category or 'other'}"),
    )


async def on_autofile(message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts) -> None:
    text, markup = await _auto_menu(uow, person, t)
    await message.answer(text, reply_markup=markup)


async def on_autofiled(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, clock: Clock
) -> None:
    text, markup = await _auto_filed(uow, person, t, clock)
    await message.answer(text, reply_markup=markup)


async def daily_list(
    uow: UnitOfWork, person: KnownPerson, t: Texts, clock: Clock
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The morning message for an accountant (None when nothing was auto-filed)."""
    text, markup = await _auto_filed(uow, person, t, clock)
    return (text, markup) if markup is not None else None


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(on_ready_button, ReadyAct.filter())
    router.message.register(on_autofile, Command("autofile"))
    router.message.register(on_autofiled, Command("autofiled"))
    return router
