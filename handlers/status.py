from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from core.clock import Clock
from core.domain import DocumentState
from core.people import KnownPerson
from core.permissions import upload_destinations
from core.ports import UnitOfWork
from core.review import returned_to_me
from core.status import OrganizationStatus, month_status
from core.web_access import WebLinks
from handlers.mail import address_lines
from handlers.review_client import returned_message
from handlers.settings import HANDLER_DEFAULTS, HandlerSettings
from handlers.texts import Texts
from handlers.web_links import page_markup


async def status(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
    web_links: WebLinks | None = None,
) -> None:
    organizations = await month_status(uow, person, clock.now())
    returned = await returned_to_me(uow, person.id)
    addresses = await address_lines(uow, person, t, handler_settings, clients_only=True)
    uploads = web_links is not None and bool(await upload_destinations(uow, person.id))
    await uow.release_if_clean()
    text = t("status.empty") if not organizations else month_text(t, organizations)
    markup = page_markup(t, web_links, person, "upload", clock) if uploads else None
    await message.answer(
        "\n\n".join([text, "\n".join(addresses)]) if addresses else text, reply_markup=markup
    )
    # Each returned document with the same answers as the message that returned it.
    for document in returned:
        text, markup = returned_message(t, document)
        await message.answer(text, reply_markup=markup)


def month_text(t: Texts, organizations: list[OrganizationStatus]) -> str:
    lines = [t("status.title")]
    for org in organizations:
        lines.append("")
        lines.append(t("status.org_line", org=org.name or t("status.no_org")))
        for state in DocumentState:
            if org.counts.get(state):
                lines.append(
                    t("status.line", state=t(f"state.{state.value}"), count=org.counts[state])
                )
        if org.income:
            lines.append(t("status.income", count=org.income))
    return "\n".join(lines)


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(status, Command("status"))
    return router
