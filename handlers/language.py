from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from core.people import LANGUAGES, KnownPerson, set_language
from core.ports import UnitOfWork
from handlers import keyboards, menu
from handlers.callbacks import LanguageChoice
from handlers.editing import edit_in_place
from handlers.texts import Texts


async def choose(message: Message, person: KnownPerson, t: Texts) -> None:
    await message.answer(t("lang.choose"), reply_markup=keyboards.languages(person.language))


async def chosen(
    query: CallbackQuery, callback_data: LanguageChoice, uow: UnitOfWork, person: KnownPerson
) -> None:
    await set_language(uow, person, callback_data.language)
    t = Texts(callback_data.language)
    if query.bot is not None:
        await menu.refresh(query.bot, uow, person.id, callback_data.language)
    await query.answer(t("lang.changed"))
    await edit_in_place(query, t("lang.changed"))


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(choose, Command("lang"))
    router.callback_query.register(chosen, LanguageChoice.filter(F.language.in_(LANGUAGES)))
    return router
