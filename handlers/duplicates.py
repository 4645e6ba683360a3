"""The accountant's answers to a likely duplicate: see the earlier document, approve anyway,
keep both, or return it to the client as a duplicate. Decisions live in `core`."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from core import duplicates, review, review_card
from core.clock import Clock
from core.errors import NotAllowed
from core.people import KnownPerson
from core.permissions import Action, may_on_document
from core.ports import FileStore, Mailer, UnitOfWork
from handlers import review as review_handlers
from handlers.callbacks import DuplicateAct
from handlers.outbox import Outbox
from handlers.review_render import send_file
from handlers.settings import HANDLER_DEFAULTS, HandlerSettings
from handlers.smart_card import _when
from handlers.texts import Texts


async def on_duplicate_button(
    query: CallbackQuery,
    callback_data: DuplicateAct,
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
    pid, d, v, a = person.id, callback_data.d, callback_data.v, callback_data.a
    if not await may_on_document(uow, pid, Action.REVIEW, d):
        raise NotAllowed()
    document = await review.current(uow, pid, d, v)  # a stale card loses here
    org_id = document.organization_id or 0
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    now = clock.now()
    if a == "see":
        await _show_original(query, bot, uow, files, person, t, document.fields, chat_id)
        return
    if a == "keep":
        document = await duplicates.keep_both(uow, pid, d, v, now)
        await query.answer(t("dup.kept"))
        await review_handlers.drop(query)
        org = await uow.organizations.get(org_id)
        await review_handlers.show_card(
            bot,
            chat_id,
            uow,
            files,
            t,
            document,
            org.name if org else "?",
            state,
        )
        return
    if a == "ok":
        await review.approve(uow, pid, d, v, now)
    elif a == "ret":
        returned = await review.return_to_client(uow, pid, d, v, "duplicate", None, now)
        await review_handlers.notify_client(
            bot, uow, files, returned, mailer, handler_settings, outbox
        )
    else:
        await query.answer()
        return
    await query.answer(t("review.done_ok"))
    await review_handlers.drop(query)
    await review_handlers.render_card(
        bot, chat_id, uow, t, await review_card.next_card(uow, files, person.id, org_id), state
    )


async def _show_original(
    query: CallbackQuery,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    fields: dict[str, Any],
    chat_id: int,
) -> None:
    """The earlier document's picture, one tap from the card (which stays as it is)."""
    mark = fields.get(duplicates.DUPLICATE) or {}
    original_id = int(mark.get("of") or 0)
    if not original_id or not await may_on_document(uow, person.id, Action.VIEW, original_id):
        await query.answer(t("dup.original_gone"), show_alert=True)
        return
    pages = await uow.documents.files(original_id)
    stored = pages[-1] if pages else None
    data = await files.get(stored.sha256) if stored is not None else None
    via = t("dup.via_mail" if mark.get("platform") == "mail" else "dup.via_telegram")
    caption = t(
        "dup.original_caption",
        number=mark.get("number") or original_id,
        via=via,
        date=_when(t, mark),
    )
    await uow.commit()  # nothing written: ends the transaction before the upload
    await query.answer()
    await send_file(bot, chat_id, stored, data, caption, None, mark.get("number"))


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(on_duplicate_button, DuplicateAct.filter())
    return router
