"""What each person can do: their /help and their command menu, by role.

Telegram shows the menu of the most specific scope: everyone gets the client's menu by
default, and an office member or a client with full access gets their own, per chat
(BotCommandScopeChat), set again whenever their roles or language change.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat

from core.domain import AccessLevel, OfficeRole
from core.people import telegram_chats
from core.ports import UnitOfWork
from handlers.texts import Texts

log = logging.getLogger(__name__)

# Groups of commands, in menu order; a person gets every group their roles allow.
CLIENT = ("status", "deadlines", "expected", "help", "lang")
CLIENT_MANAGER = ("org", "invite", "invites", "access")  # full access to a business
OFFICE = (
    "tofile",
    "neworg",
    "invite",
    "invites",
    "filed",
    "duedate",
    "vat",
    "export",
    "expected",
    "autofiled",
    "categories",
    "team",
)
OFFICE_MANAGER = ("joinlink", "schedule", "autofile")  # the office's owner and admins
DEFAULT = CLIENT  # the menu before anything is known about a person


async def roles(uow: UnitOfWork, person_id: int) -> set[str]:
    """'client', 'client_manager', 'office', 'office_manager': what the person is now."""
    found: set[str] = set()
    memberships = await uow.organizations.client_memberships(person_id)
    if memberships:
        found.add("client")
    if any(m.access is AccessLevel.FULL for m in memberships) or len(memberships) > 1:
        found.add("client_manager")
    for member in await uow.offices.memberships(person_id):
        found.add("office")
        if member.role in (OfficeRole.OWNER, OfficeRole.ADMIN):
            found.add("office_manager")
    return found


def commands_for(found: set[str]) -> list[str]:
    groups: list[tuple[str, ...]] = [CLIENT]
    if "client_manager" in found:
        groups.append(CLIENT_MANAGER)
    if "office" in found:
        groups += [OFFICE, ("org",)]
    if "office_manager" in found:
        groups.append(OFFICE_MANAGER)
    return list(dict.fromkeys(c for group in groups for c in group))


def help_text(t: Texts, found: set[str]) -> str:
    parts = [t("help.text")]
    if "client_manager" in found:
        parts.append(t("help.client_manager"))
    if "office" in found:
        parts.append(t("help.office"))
    if "office_manager" in found:
        parts.append(t("help.office_manager"))
    parts.append(t("help.cancel"))
    return "\n\n".join(parts)


def bot_commands(t: Texts, names: list[str] | tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(command=c, description=t(f"commands.{c}").lstrip("\u200f")) for c in names]


async def refresh(bot: Bot, uow: UnitOfWork, person_id: int, language: str) -> None:
    """Sets the person's own menu in each chat they use; a failure is only logged."""
    found = await roles(uow, person_id)
    t = Texts(language)
    for chat_id in await telegram_chats(uow, person_id):
        scope = BotCommandScopeChat(chat_id=chat_id)
        try:
            # Set even for a plain client: a menu left from a former role must go.
            await bot.set_my_commands(bot_commands(t, commands_for(found)), scope=scope)
        except TelegramAPIError:
            log.info("could not set the command menu of person %s", person_id, exc_info=True)
