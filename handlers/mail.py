"""/mail: an organization's forwarding address, its allowed senders, and held mails."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import access, mail
from core.clock import Clock
from core.domain import AccessLevel
from core.errors import TayukError
from core.people import KnownPerson
from core.permissions import Action, may
from core.ports import UnitOfWork
from handlers.editing import edit_in_place
from handlers.settings import HANDLER_DEFAULTS, HandlerSettings
from handlers.texts import Texts


class MailDecision(CallbackData, prefix="md"):
    mail: int
    accept: bool


class MailRotate(CallbackData, prefix="mr"):
    org: int


def held_text(t: Texts, held: mail.InboundMail, organization: str) -> str:
    return t(
        "mail.held_office",
        org=organization,
        sender=held.sender or held.envelope_from or "?",
        subject=held.subject or "",
        reason=t(held.reason or "mail.held_unknown_sender"),
    )


def held_keyboard(t: Texts, held: mail.InboundMail) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("mail.button_accept"), callback_data=MailDecision(mail=held.id or 0, accept=True)
    )
    builder.button(
        text=t("mail.button_reject"), callback_data=MailDecision(mail=held.id or 0, accept=False)
    )
    return builder.as_markup()


async def address_lines(
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    handler_settings: HandlerSettings,
    *,
    clients_only: bool = False,
) -> list[str]:
    """One line per organization the person sends for: where to forward its documents."""
    domain = handler_settings.mail_domain
    if domain is None or person.id is None:
        return []
    lines = []
    found = (
        await uow.organizations.for_person(person.id, AccessLevel.UPLOADER)
        if clients_only
        else await access.switchable_organizations(uow, person.id)
    )
    for organization in found:
        assert organization.id is not None
        if not await may(uow, person.id, Action.UPLOAD, organization.id):
            continue
        address = await mail.address_for(uow, organization.id)
        lines.append(
            t(
                "mail.address_line",
                org=organization.name,
                address=mail.full_address(address.local_part, domain),
            )
        )
    if uow.holds_unsaved_writes():
        await uow.commit()
    return lines


async def show_mail(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
) -> None:
    domain = handler_settings.mail_domain
    if domain is None:
        await message.answer(t("mail.intake_off"))
        return
    argument = (command.args or "").strip()
    if argument.lower().startswith("add "):
        await _add_sender(message, uow, person, t, argument[4:].strip())
        return
    organizations = await access.switchable_organizations(uow, person.id)
    lines = [t("mail.info_title")]
    builder = InlineKeyboardBuilder()
    reviewable: list[int] = []
    for organization in organizations:
        assert organization.id is not None
        if not await may(uow, person.id, Action.UPLOAD, organization.id):
            continue
        address = await mail.address_for(uow, organization.id)
        senders = await mail.allowed_senders(uow, organization.id)
        lines.append("")
        lines.append(
            t(
                "mail.address_line",
                org=organization.name,
                address=mail.full_address(address.local_part, domain),
            )
        )
        lines.append(
            t("mail.senders", senders=", ".join(senders)) if senders else t("mail.no_senders")
        )
        if await may(uow, person.id, Action.REVIEW, organization.id):
            reviewable.append(organization.id)
            builder.button(
                text=t("mail.button_rotate", org=organization.name),
                callback_data=MailRotate(org=organization.id),
            )
    lines.append("")
    lines.append(t("mail.add_hint"))
    held = await uow.mail.held(reviewable)
    names = {o.id: o.name for o in organizations}
    await uow.commit()
    builder.adjust(1)
    await message.answer(
        "\n".join(lines), reply_markup=builder.as_markup() if reviewable else None
    )
    for item in held:
        await message.answer(
            held_text(t, item, names.get(item.organization_id, "?")),
            reply_markup=held_keyboard(t, item) if item.state == mail.MailState.HELD else None,
        )


async def _add_sender(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, address: str
) -> None:
    organizations = await access.switchable_organizations(uow, person.id)
    ids = [o.id for o in organizations]
    if len(ids) == 1:
        organization = organizations[0]
    elif person.current_org_id in ids:
        organization = next(o for o in organizations if o.id == person.current_org_id)
    else:
        await message.answer(t("mail.choose_org_first"))
        return
    assert organization.id is not None
    try:
        sender = await mail.add_sender(uow, person, organization.id, address)
    except TayukError as error:
        await message.answer(t(error.key))
        return
    await message.answer(t("mail.sender_added", address=sender.address, org=organization.name))


async def rotate_address(
    query: CallbackQuery,
    callback_data: MailRotate,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
) -> None:
    domain = handler_settings.mail_domain or ""
    fresh = await mail.rotate(uow, person.id, callback_data.org, clock.now())
    organization = await uow.organizations.get(callback_data.org)
    await query.answer()
    days = handler_settings.mail_grace_days
    await edit_in_place(
        query,
        t(
            "mail.rotated",
            org=organization.name if organization else "?",
            address=mail.full_address(fresh.local_part, domain),
            days=days,
        ),
    )


async def decide(
    query: CallbackQuery,
    callback_data: MailDecision,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    try:
        await mail.decide_held(
            uow, person.id, callback_data.mail, callback_data.accept, clock.now()
        )
    except TayukError as error:
        await query.answer(t(error.key), show_alert=True)
        return
    await query.answer()
    await edit_in_place(query, t("mail.accepted" if callback_data.accept else "mail.rejected"))


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(show_mail, Command("mail"))
    router.callback_query.register(rotate_address, MailRotate.filter())
    router.callback_query.register(decide, MailDecision.filter())
    return router
