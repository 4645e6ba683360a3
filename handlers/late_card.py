"""A document of a closed VAT period says so on its review card, with a button to move it
to the next open period (the books' side of the card: `handlers.books` handles the press).
Apart from `handlers.books` so that the review screens need not import the books screens."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from core.books import service
from core.domain import Document
from core.ports import UnitOfWork
from handlers.callbacks import BooksAct
from handlers.texts import Texts


async def late_notice(
    uow: UnitOfWork,
    t: Texts,
    document: Document,
    caption: str,
    markup: InlineKeyboardMarkup,
) -> tuple[str, InlineKeyboardMarkup]:
    """A document of a closed period: said on its card, with the next open period to take."""
    target = await service.late_for(uow, document)
    if target is None or document.organization_id is None:
        return caption, markup
    organization = await uow.organizations.get(document.organization_id)
    if organization is None:
        return caption, markup
    closed = service.document_period(organization, document)
    caption += "\n" + t("books.late_on_card", period=t.period(closed))
    button = InlineKeyboardButton(
        text=t("books.button_move_one", period=t.period(target)),
        callback_data=BooksAct(m="v", a="l", o=document.id or 0, p=target.label).pack(),
    )
    return caption, InlineKeyboardMarkup(inline_keyboard=[*markup.inline_keyboard, [button]])
