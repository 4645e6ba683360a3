"""/upload and /review: the bot offers the web pages (a Mini App, or a signed link)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, WebAppInfo

from core.clock import Clock
from core.domain import Person
from core.permissions import upload_destinations
from core.ports import UnitOfWork
from core.web_access import WebLinks
from handlers.texts import Texts


def page_button(
    t: Texts, links: WebLinks, person: Person, purpose: str, clock: Clock
) -> InlineKeyboardButton:
    """Inside Telegram (https) a Mini App; else a link for this person, for a short while."""
    text = t(f"web.button_{purpose}")
    if links.mini_app:
        return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=links.page(purpose)))
    return InlineKeyboardButton(text=text, url=links.signed(person.id or 0, purpose, clock.now()))


def page_markup(
    t: Texts, links: WebLinks | None, person: Person, purpose: str, clock: Clock
) -> InlineKeyboardMarkup | None:
    if links is None:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[page_button(t, links, person, purpose, clock)]])


async def on_upload(
    message: Message,
    uow: UnitOfWork,
    person: Person,
    t: Texts,
    clock: Clock,
    web_links: WebLinks | None = None,
) -> None:
    if web_links is None:
        await message.answer(t("web.off"))
        return
    if not await upload_destinations(uow, person.id or 0):
        await message.answer(t("web.no_organization"))
        return
    await message.answer(
        t("web.upload_offer"), reply_markup=page_markup(t, web_links, person, "upload", clock)
    )


async def on_review(
    message: Message,
    uow: UnitOfWork,
    person: Person,
    t: Texts,
    clock: Clock,
    web_links: WebLinks | None = None,
) -> None:
    if web_links is None:
        await message.answer(t("web.off"))
        return
    if not await uow.offices.memberships(person.id or 0):
        await message.answer(t("error.not_allowed"))
        return
    await message.answer(
        t("web.review_offer"), reply_markup=page_markup(t, web_links, person, "review", clock)
    )


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(on_upload, Command("upload"))
    router.message.register(on_review, Command("review"))
    return router
