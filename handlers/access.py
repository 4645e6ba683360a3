"""/invite (a client invite link), /invites (list and revoke) and /access (a client sees
which office reaches its organization and takes the access back)."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import access
from core.clock import Clock
from core.domain import AccessLevel
from core.people import KnownPerson
from core.ports import UnitOfWork
from handlers.callbacks import AccessRevoke, InviteFlow, InviteRevoke
from handlers.keyboards import organizations_chooser
from handlers.links import invite_link, send_link
from handlers.settings import HANDLER_DEFAULTS, HandlerSettings
from handlers.texts import Texts

LEVELS = [level.value for level in AccessLevel]


async def invite(message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts) -> None:
    found = await access.invitable_organizations(uow, person.id)
    if not found:
        await message.answer(t("error.not_allowed"))
        return
    markup = organizations_chooser(found, lambda org: InviteFlow(org=org))
    await message.answer(t("invite.choose_org"), reply_markup=markup)


async def invite_level(query: CallbackQuery, callback_data: InviteFlow, t: Texts) -> None:
    builder = InlineKeyboardBuilder()
    for level in AccessLevel:
        builder.button(
            text=t(f"level.{level.value}"),
            callback_data=InviteFlow(org=callback_data.org, level=level.value),
        )
    builder.adjust(1)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("invite.choose_level"), reply_markup=builder.as_markup())


async def invite_reuse(query: CallbackQuery, callback_data: InviteFlow, t: Texts) -> None:
    builder = InlineKeyboardBuilder()
    for reuse, key in ((0, "invite.button_single"), (1, "invite.button_reusable")):
        builder.button(
            text=t(key),
            callback_data=InviteFlow(
                org=callback_data.org, level=callback_data.level, reuse=reuse
            ),
        )
    builder.adjust(1)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("invite.choose_reuse"), reply_markup=builder.as_markup())


async def invite_make(
    query: CallbackQuery,
    callback_data: InviteFlow,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    bot: Bot,
    clock: Clock,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
) -> None:
    days = handler_settings.invite_ttl_days
    level = AccessLevel(callback_data.level)
    issued = await access.client_invite(
        uow,
        actor_id=person.id,
        organization_id=callback_data.org,
        access=level,
        now=clock.now(),
        ttl=timedelta(days=days),
        reusable=callback_data.reuse == 1,
    )
    org = await uow.organizations.get(callback_data.org)
    await query.answer()
    if isinstance(query.message, Message):
        caption = t(
            "invite.made",
            org=org.name if org else "?",
            level=t(f"level.{level.value}"),
            days=days,
            uses=t("invite.reusable" if callback_data.reuse else "invite.single"),
        )
        await send_link(query.message, await invite_link(bot, issued.token), caption)


async def list_invites(
    message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts, clock: Clock
) -> None:
    found = await access.open_invites(uow, person.id, clock.now())
    if not found:
        await message.answer(t("invites.none"))
        return
    lines = [t("invites.title")]
    builder = InlineKeyboardBuilder()
    for item in found:
        org = await uow.organizations.get(item.organization_id or 0)
        what = t(f"invites.kind.{item.kind.value}", org=org.name if org else "")
        lines.append(t("invites.line", id=item.id, what=what, expires=t.date(item.expires_at)))
        builder.button(
            text=t("invites.button_revoke", id=item.id),
            callback_data=InviteRevoke(invite=item.id or 0),
        )
    builder.adjust(2)
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


async def revoke_invite(
    query: CallbackQuery,
    callback_data: InviteRevoke,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    await access.revoke_invite(
        uow, actor_id=person.id, invite_id=callback_data.invite, now=clock.now()
    )
    await query.answer(t("invites.revoked", id=callback_data.invite))
    if isinstance(query.message, Message):
        await query.message.answer(t("invites.revoked", id=callback_data.invite))


async def show_access(message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts) -> None:
    orgs = await uow.organizations.for_person(person.id, AccessLevel.FULL)
    if not orgs:
        await message.answer(t("access.none"))
        return
    lines: list[str] = []
    builder = InlineKeyboardBuilder()
    for org in orgs:
        assert org.id is not None
        lines.append(t("access.org", org=org.name))
        grants = await access.office_grants(uow, person.id, org.id)
        if not grants:
            lines.append(t("access.no_office"))
        for grant in grants:
            lines.append(t("access.line", office=grant.office.name))
            builder.button(
                text=t("access.button_revoke", office=grant.office.name),
                callback_data=AccessRevoke(org=org.id, office=grant.office.id or 0),
            )
    builder.adjust(1)
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


async def revoke_access(
    query: CallbackQuery,
    callback_data: AccessRevoke,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    office = await access.revoke_office(
        uow,
        actor_id=person.id,
        organization_id=callback_data.org,
        office_id=callback_data.office,
        now=clock.now(),
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("access.revoked", office=office.name))


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(invite, Command("invite"))
    router.message.register(list_invites, Command("invites"))
    router.message.register(show_access, Command("access"))
    router.callback_query.register(invite_level, InviteFlow.filter(F.level == ""))
    router.callback_query.register(
        invite_reuse, InviteFlow.filter(F.level.in_(LEVELS) & (F.reuse == -1))
    )
    router.callback_query.register(
        invite_make, InviteFlow.filter(F.level.in_(LEVELS) & F.reuse.in_([0, 1]))
    )
    router.callback_query.register(revoke_invite, InviteRevoke.filter())
    router.callback_query.register(revoke_access, AccessRevoke.filter())
    return router
