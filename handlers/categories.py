"""/categories: the office's chart of expense categories and the deductible VAT share of
each. Every member sees it; the owner and admins change a share by typing it, or put it
back to the default. Button data is never trusted: every press re-checks access."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import review
from core.categories import CATEGORIES, DEFAULT_CHART
from core.errors import NotAllowed, TayukError
from core.people import KnownPerson
from core.permissions import Action, may_in_office, require_in_office
from core.ports import Clock, UnitOfWork
from handlers.callbacks import CategoryAct
from handlers.editing import edit_in_place
from handlers.keyboards import one_a_line
from handlers.texts import Texts


class CategoryFlow(StatesGroup):
    share = State()


def share_text(share: Fraction) -> str:
    """0, 100%, 2/3, 1/2; a share with a large denominator as a percentage (66.6%)."""
    if share == 0:
        return "0"
    if share == 1:
        return "100%"
    if share.denominator <= 12:
        return f"{share.numerator}/{share.denominator}"
    percent = (Decimal(share.numerator) * 100 / Decimal(share.denominator)).quantize(
        Decimal("0.01")
    )
    return f"{percent.normalize():f}%"


def _name(t: Texts, key: str) -> str:
    return t(f"category.{key}")


async def _office_name(uow: UnitOfWork, office_id: int) -> str:
    office = await uow.offices.get(office_id)
    return office.name if office else "?"


async def _chart_screen(
    uow: UnitOfWork, person_id: int, office_id: int, t: Texts
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The chart as text, with a button per category for those who may change it."""
    await require_in_office(uow, person_id, Action.VIEW, office_id)
    chart = await review.office_chart(uow, office_id)
    lines = [t("categories.title", office=await _office_name(uow, office_id))]
    changed = False
    for key, share in chart.items():
        default = DEFAULT_CHART[key]
        if share != default:
            changed = True
            lines.append(
                t(
                    "categories.line_changed",
                    category=_name(t, key),
                    share=share_text(share),
                    default=share_text(default),
                )
            )
        else:
            lines.append(t("categories.line", category=_name(t, key), share=share_text(share)))
    if changed:
        lines.append(t("categories.legend_changed"))
    # set_vat_share asks for MANAGE_TEAM in the office; only then are there buttons.
    if not await may_in_office(uow, person_id, Action.MANAGE_TEAM, office_id):
        lines += ["", t("categories.read_only")]
        return "\n".join(lines), None
    lines += ["", t("categories.how_to_edit")]
    builder = InlineKeyboardBuilder()
    for key, share in chart.items():
        builder.button(
            text=t("categories.button", category=_name(t, key), share=share_text(share)),
            callback_data=CategoryAct(office=office_id, a="pk", c=key),
        )
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


async def categories_start(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, state: FSMContext
) -> None:
    await state.clear()
    offices = [
        m.office_id
        for m in await uow.offices.memberships(person.id)
        if await may_in_office(uow, person.id, Action.VIEW, m.office_id)
    ]
    if not offices:
        await message.answer(t("categories.not_member"))
        return
    if len(offices) == 1:
        text, markup = await _chart_screen(uow, person.id, offices[0], t)
        await message.answer(text, reply_markup=markup)
        return
    markup = one_a_line(
        [(await _office_name(uow, office), CategoryAct(office=office)) for office in offices]
    )
    await message.answer(t("categories.choose_office"), reply_markup=markup)


async def categories_chosen(
    query: CallbackQuery,
    callback_data: CategoryAct,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    data = callback_data
    if data.a and data.c not in CATEGORIES:
        raise NotAllowed()
    if data.a == "pk":
        await require_in_office(uow, person.id, Action.MANAGE_TEAM, data.office)
        share = (await review.office_chart(uow, data.office))[data.c]
        default = DEFAULT_CHART[data.c]
        builder = InlineKeyboardBuilder()
        if share != default:
            builder.button(
                text=t("categories.button_reset", default=share_text(default)),
                callback_data=CategoryAct(office=data.office, a="rs", c=data.c),
            )
        builder.button(
            text=t("categories.button_back"), callback_data=CategoryAct(office=data.office)
        )
        builder.adjust(1)
        await state.set_state(CategoryFlow.share)
        await state.set_data({"office": data.office, "category": data.c})
        await edit_in_place(
            query,
            t(
                "categories.ask_share",
                category=_name(t, data.c),
                share=share_text(share),
                default=share_text(default),
            ),
            builder.as_markup(),
        )
    elif data.a == "rs":
        # Back to the default is the default share set again: audited like any other change.
        default = DEFAULT_CHART[data.c]
        await review.set_vat_share(uow, person.id, data.office, data.c, str(default), clock.now())
        await state.clear()
        text, markup = await _chart_screen(uow, person.id, data.office, t)
        done = t("categories.reset_done", category=_name(t, data.c), share=share_text(default))
        await edit_in_place(query, done + "\n\n" + text, markup)
    elif not data.a:
        text, markup = await _chart_screen(uow, person.id, data.office, t)
        await state.clear()
        await edit_in_place(query, text, markup)
    else:
        raise NotAllowed()
    await query.answer()


async def share_typed(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    office_id, category = int(data["office"]), str(data["category"])
    try:
        share = await review.set_vat_share(
            uow, person.id, office_id, category, message.text or "", clock.now()
        )
    except NotAllowed:
        await state.clear()
        raise
    except TayukError as error:
        await message.answer(t(error.key, **error.params) + "\n" + t("categories.try_again"))
        return
    await state.clear()
    text, markup = await _chart_screen(uow, person.id, office_id, t)
    saved = t("categories.saved", category=_name(t, category), share=share_text(share))
    await message.answer(saved + "\n\n" + text, reply_markup=markup)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(categories_start, Command("categories"))
    router.callback_query.register(categories_chosen, CategoryAct.filter())
    router.message.register(
        share_typed, StateFilter(CategoryFlow.share), F.text, ~F.text.startswith("/")
    )
    return router
