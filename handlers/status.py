from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from core.clock import Clock
from core.domain import DocumentState, Person
from core.status import month_status
from handlers.texts import Texts
from storage.uow import SqlUnitOfWork


async def status(
    message: Message, uow: SqlUnitOfWork, person: Person, t: Texts, clock: Clock
) -> None:
    organizations = await month_status(uow, person, clock.now())
    if not organizations:
        await message.answer(t("status.empty"))
        return
    lines = [t("status.title")]
    for org in organizations:
        lines.append("")
        lines.append(t("status.org_line", org=org.name or t("status.no_org")))
        for state in DocumentState:
            if org.counts.get(state):
                lines.append(
                    t("status.line", state=t(f"state.{state.value}"), count=org.counts[state])
                )
    await message.answer("\n".join(lines))


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(status, Command("status"))
    return router
