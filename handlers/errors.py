"""Domain errors become messages; anything else is logged and apologised for."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ErrorEvent

from core.errors import TayukError
from core.people import language_for, mark_unreachable
from core.ports import UnitOfWorkFactory
from handlers.texts import Texts

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent, uow_factory: UnitOfWorkFactory) -> None:
    update = event.update
    user = None
    if update.message is not None:
        user = update.message.from_user
    elif update.callback_query is not None:
        user = update.callback_query.from_user
    exception = event.exception
    if isinstance(exception, TelegramForbiddenError):
        await _mark_unreachable(uow_factory, user.id if user else None)
        return
    language = await _language(
        uow_factory, user.id if user else None, user.language_code if user else None
    )
    t = Texts(language)
    if isinstance(exception, TayukError):
        text = t(exception.key, **exception.params)
    else:
        log.error("update %s failed", update.update_id, exc_info=exception)
        message = update.message
        # A file that met an error was not kept: saying "your data is safe" would be a lie.
        sent_file = message is not None and bool(message.photo or message.document)
        text = t("error.file_not_received" if sent_file else "error.generic")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except TelegramForbiddenError:
        await _mark_unreachable(uow_factory, user.id if user else None)
    except Exception:
        log.exception("could not tell the user about an error")


async def _language(uow_factory: UnitOfWorkFactory, user_id: int | None, code: str | None) -> str:
    if user_id is not None:
        async with uow_factory() as uow:
            found = await uow.people.by_identity("telegram", user_id)
            if found is not None:
                return found[0].language
    return language_for(code)


async def _mark_unreachable(uow_factory: UnitOfWorkFactory, user_id: int | None) -> None:
    if user_id is None:
        return
    async with uow_factory() as uow:
        found = await uow.people.by_identity("telegram", user_id)
        if found is not None and found[0].id is not None:
            await mark_unreachable(uow, found[0].id)
            log.info("person %s blocked the bot; marked unreachable", found[0].id)


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router
