"""/expected (issue 17): the invoices recurring vendors should have sent for last month.
The office sees what is missing per organization; the client sees theirs, each with a
one-tap "there is none this month"."""

from __future__ import annotations

import hashlib

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import expected
from core.clock import Clock
from core.domain import AccessLevel
from core.errors import NotFound
from core.people import KnownPerson
from core.ports import UnitOfWork
from handlers.callbacks import ExpectedAct
from handlers.texts import Texts


def short(vendor: str) -> str:
    """A vendor key fits no callback (64 bytes): its hash does, looked up again on the tap."""
    return hashlib.sha1(vendor.encode()).hexdigest()[:12]


async def _view(
    uow: UnitOfWork, person: KnownPerson, t: Texts, clock: Clock
) -> tuple[str, InlineKeyboardMarkup | None]:
    now = clock.now()
    period = expected.previous_month(now.date())
    pid = person.id
    lines, builder = [], InlineKeyboardBuilder()
    for org in await uow.organizations.through_offices(pid):  # the office's period view
        for item in await expected.missing(uow, org.id or 0, period, now):
            lines.append(t("expected.office_line", org=org.name, vendor=item.name))
    for org in await uow.organizations.for_person(pid, AccessLevel.UPLOADER):  # the client
        for item in await expected.missing(uow, org.id or 0, period, now):
            lines.append(t("expected.client_line", vendor=item.name, month=t.period(period)))
            builder.button(
                text=t("expected.button_none", vendor=item.name),
                callback_data=ExpectedAct(o=org.id or 0, v=short(item.vendor), p=period),
            )
    if not lines:
        return t("expected.nothing", month=t.period(period)), None
    builder.adjust(1)
    title = t("expected.title", month=t.period(period))
    return "\n".join([title, *lines]), builder.as_markup() if list(builder.buttons) else None


async def on_expected(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, clock: Clock
) -> None:
    text, markup = await _view(uow, person, t, clock)
    await message.answer(text, reply_markup=markup)


async def on_none_this_month(
    query: CallbackQuery,
    callback_data: ExpectedAct,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    now = clock.now()
    found = await expected.missing(uow, callback_data.o, callback_data.p, now)
    vendor = next((e.vendor for e in found if short(e.vendor) == callback_data.v), None)
    if vendor is None:
        raise NotFound()
    item = await expected.declare_none(
        uow, person.id, callback_data.o, vendor, callback_data.p, now
    )
    await query.answer(t("expected.noted", vendor=item.name))
    if callback_data.r and isinstance(query.message, Message):
        # On a reminder: its text stays, the answered button goes.
        left = [
            row
            for row in (
                query.message.reply_markup or InlineKeyboardMarkup(inline_keyboard=[])
            ).inline_keyboard
            if not any(b.callback_data == callback_data.pack() for b in row)
        ]
        await query.message.edit_reply_markup(
            reply_markup=InlineKeyboardMarkup(inline_keyboard=left) if left else None
        )
        return
    text, markup = await _view(uow, person, t, clock)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_expected, Command("expected"))
    router.callback_query.register(on_none_this_month, ExpectedAct.filter())
    return router
