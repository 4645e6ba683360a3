"""/start with and without an invite token, and /help."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from core import invites
from core.clock import Clock
from core.domain import InviteKind, Person
from core.errors import InviteError
from handlers.texts import Texts
from storage.uow import SqlUnitOfWork

router = Router(name=__name__)


@router.message(CommandStart(deep_link=True))
async def start_with_token(
    message: Message,
    command: CommandObject,
    uow: SqlUnitOfWork,
    person: Person,
    t: Texts,
    clock: Clock,
) -> None:
    try:
        joined = await invites.redeem(uow, person, command.args or "", clock.now())
    except InviteError as error:
        await message.answer(t(error.key))
        return
    if joined.already_member:
        await message.answer(t("start.already_member"))
    elif joined.kind is InviteKind.ORG_MEMBER:
        org = await uow.organizations.get(joined.organization_id or 0)
        await message.answer(t("start.joined_org", org=org.name if org else "?"))
    else:
        office = await uow.offices.get(joined.office_id or 0)
        member = await uow.offices.membership(joined.office_id or 0, person.id or 0)
        role = t(f"role.{member.role.value}") if member else ""
        await message.answer(
            t("start.joined_office", office=office.name if office else "?", role=role)
        )


@router.message(CommandStart())
async def start(message: Message, uow: SqlUnitOfWork, person: Person, t: Texts) -> None:
    assert person.id is not None
    has_orgs = await uow.organizations.client_memberships(person.id)
    has_office = await uow.offices.memberships(person.id)
    if has_orgs or has_office:
        await message.answer(t("start.welcome_back", name=person.display_name))
    else:
        await message.answer(t("start.no_invite"))


@router.message(Command("help"))
async def help_(message: Message, t: Texts) -> None:
    await message.answer(t("help.text"))
