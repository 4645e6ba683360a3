"""/start with and without an invite token, and /help."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from core import invites
from core.clock import Clock
from core.domain import InviteKind
from core.errors import InviteError
from core.people import KnownPerson
from core.ports import UnitOfWork
from handlers import menu
from handlers.organizations import begin_self_join
from handlers.texts import Texts


async def start_with_token(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    await _start_with_token(message, command, uow, person, t, clock, state)
    await menu.refresh(bot, uow, person.id, person.language)  # a new role: a new menu


async def _start_with_token(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    try:
        joined = await invites.redeem(uow, person, command.args or "", clock.now())
    except InviteError as error:
        if error.key != "invite.unknown" and await invites.already_holds(
            uow, person, command.args or ""
        ):
            await message.answer(t("start.already_member"))
            return
        await message.answer(t(error.key))
        return
    if joined.needs_answers:
        office = await uow.offices.get(joined.office_id or 0)
        name = office.name if office else "?"
        await begin_self_join(message, t, state, name, command.args or "")
    elif joined.already_member:
        await message.answer(t("start.already_member"))
    elif joined.kind is InviteKind.ORG_MEMBER:
        org = await uow.organizations.get(joined.organization_id or 0)
        await message.answer(t("start.joined_org", org=org.name if org else "?"))
    else:
        office = await uow.offices.get(joined.office_id or 0)
        member = await uow.offices.membership(joined.office_id or 0, person.id)
        role = t(f"role.{member.role.value}") if member else ""
        await message.answer(
            t("start.joined_office", office=office.name if office else "?", role=role)
        )


async def start(
    message: Message, bot: Bot, uow: UnitOfWork, person: KnownPerson, t: Texts
) -> None:
    has_orgs = await uow.organizations.client_memberships(person.id)
    has_office = await uow.offices.memberships(person.id)
    if has_office:
        await message.answer(t("start.welcome_back_office", name=person.display_name))
    elif has_orgs:
        await message.answer(t("start.welcome_back", name=person.display_name))
    else:
        await message.answer(t("start.no_invite"))
    await menu.refresh(bot, uow, person.id, person.language)


async def help_(
    message: Message, bot: Bot, uow: UnitOfWork, person: KnownPerson, t: Texts
) -> None:
    """What this person can do: a client's list, and the office's commands for its team."""
    found = await menu.roles(uow, person.id)
    await message.answer(menu.help_text(t, found))
    await menu.refresh(bot, uow, person.id, person.language)


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(start_with_token, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    return router
