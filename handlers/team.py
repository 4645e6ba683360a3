"""/team: the office's members and roles, invite links for new members, removals."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import team
from core.clock import Clock
from core.domain import OfficeRole
from core.people import KnownPerson
from core.ports import Notifier, UnitOfWork
from handlers import menu
from handlers.callbacks import TeamAction
from handlers.links import invite_link, send_link
from handlers.settings import HANDLER_DEFAULTS, HandlerSettings
from handlers.texts import Texts


def team_keyboard(
    t: Texts, office_id: int, members: list[team.TeamMember]
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for role in OfficeRole:
        builder.button(
            text=t("team.button_invite", role=t(f"role.{role.value}")),
            callback_data=TeamAction(action="add", office=office_id, role=role.value),
        )
    for line in members:
        builder.button(
            text=t("team.button_remove", name=line.person.display_name),
            callback_data=TeamAction(action="rm", office=office_id, person=line.member.person_id),
        )
    builder.adjust(1)
    return builder.as_markup()


async def show_team(message: Message, uow: UnitOfWork, person: KnownPerson, t: Texts) -> None:
    offices = await team.offices_of(uow, person.id)
    if not offices:
        await message.answer(t("team.no_office"))
        return
    office_id = offices[0].office_id
    members = await team.team(uow, person.id, office_id)
    office = await uow.offices.get(office_id)
    lines = [t("team.title", office=office.name if office else "?")]
    lines += [
        t("team.line", name=m.person.display_name, role=t(f"role.{m.member.role.value}"))
        for m in members
    ]
    # Only owners and admins see the buttons; the use cases check again all the same.
    leads = offices[0].role in (OfficeRole.OWNER, OfficeRole.ADMIN)
    others = [m for m in members if m.person.id != person.id]
    markup = team_keyboard(t, office_id, others) if leads else None
    await message.answer("\n".join(lines), reply_markup=markup)


async def add_member(
    query: CallbackQuery,
    callback_data: TeamAction,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    bot: Bot,
    clock: Clock,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
) -> None:
    role = OfficeRole(callback_data.role)
    days = handler_settings.invite_ttl_days
    issued = await team.invite_member(
        uow,
        actor_id=person.id,
        office_id=callback_data.office,
        role=role,
        now=clock.now(),
        ttl=timedelta(days=days),
    )
    await query.answer()
    if isinstance(query.message, Message):
        link = await invite_link(bot, issued.token)
        await send_link(query.message, link, t("team.invite_link", role=t(f"role.{role.value}")))


async def remove_member(
    query: CallbackQuery,
    callback_data: TeamAction,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    notifier: Notifier | None = None,
) -> None:
    gone = await team.remove_member(
        uow,
        notifier,
        actor_id=person.id,
        office_id=callback_data.office,
        person_id=callback_data.person,
        now=clock.now(),
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("team.removed", name=gone.display_name))
    if gone.id is not None and query.bot is not None:
        await menu.refresh(query.bot, uow, gone.id, gone.language)  # office commands go


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(show_team, Command("team"))
    router.callback_query.register(
        add_member,
        TeamAction.filter((F.action == "add") & F.role.in_([r.value for r in OfficeRole])),
    )
    router.callback_query.register(remove_member, TeamAction.filter(F.action == "rm"))
    return router
