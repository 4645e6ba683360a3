"""What a mail became, told to its sender (chat, or an e-mail reply) and to the office."""

from __future__ import annotations

import logging
from typing import Any

from bot.notifier import TelegramNotifier
from core.domain import Person
from core.files import MAX_FILE_BYTES, MAX_PDF_PAGES
from core.mail import InboundMail, MailState, Outcome
from core.people import telegram_chats
from core.ports import Mailer
from handlers.outbox import Delivery, Outbox
from handlers.texts import Texts
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


def sender_text(t: Texts, mail: InboundMail, outcome: Outcome) -> str:
    subject = outcome.subject or mail.subject or ""
    total = outcome.stored + outcome.duplicates + outcome.already
    lines: list[str] = []
    if outcome.answered is not None:
        lines.append(t("return.answered_file", id=outcome.answered))
    if outcome.answered_text is not None:
        lines.append(t("return.answered", id=outcome.answered_text))
    if total:
        lines.append(
            t("mail.received", count=total, subject=subject, org=outcome.organization_name or "")
        )
        if outcome.duplicates:
            lines.append(t("mail.received_duplicates", count=outcome.duplicates))
    elif not outcome.refused and outcome.answered is None and outcome.answered_text is None:
        lines.append(t("mail.nothing_attached", subject=subject))
    if outcome.refused:
        lines.append(t("mail.refused_title", count=len(outcome.refused)))
        for name, key, params in outcome.refused:
            # The same reason, in the same words, as a file refused in the chat.
            reason = t(
                key, **{"limit_mb": MAX_FILE_BYTES // 2**20, "limit": MAX_PDF_PAGES, **params}
            )
            lines.append(t("mail.refused_line", name=name or "—", reason=reason))
    return "\n".join(lines)


class ChatOrMailNotices:
    def __init__(
        self, bot: Any | None, uow_factory: SqlUnitOfWorkFactory, mailer: Mailer | None
    ) -> None:
        self.bot = bot
        self.uow_factory = uow_factory
        # Without a bot (a mail process with no Telegram token) only e-mail replies go out.
        self.outbox = Outbox(bot, uow_factory) if bot is not None else None
        self.mailer = mailer
        self.sent: list[tuple[str, str]] = []  # (where, text): what went out, for the tests

    async def _chat_of(self, person_id: int) -> int | None:
        async with self.uow_factory() as uow:
            chats = await telegram_chats(uow, person_id)
        return chats[0] if chats else None

    async def to_sender(self, mail: InboundMail, person: Person | None, outcome: Outcome) -> None:
        if outcome.state is not MailState.DONE:
            return
        t = Texts(person.language if person else "he")
        text = sender_text(t, mail, outcome)
        chat = await self._chat_of(person.id) if person and person.id else None
        if chat is not None and self.outbox is not None:
            assert person is not None
            if await self.outbox.send(chat, text, person_id=person.id) is Delivery.SENT:
                self.sent.append((f"chat:{chat}", text))
                return
            log.info("could not tell person %s in the chat", person.id)
        if self.mailer is None or not mail.sender:
            return
        try:
            await self.mailer.send(
                mail.sender, t("mail.reply_subject", subject=outcome.subject or ""), text
            )
            self.sent.append((f"mail:{mail.sender}", text))
        except Exception:
            log.info("could not reply to mail %s", mail.id)

    async def client_answered(
        self, accountant_id: int, *, client: str, number: int, organization: str
    ) -> None:
        """The chat's own notice (`handlers.review.tell_returner`), through the same helper."""
        if self.outbox is None:
            return
        if await TelegramNotifier(self.outbox, self.uow_factory).notify(
            accountant_id, "review.client_answered", client=client, id=number, org=organization
        ):
            self.sent.append((f"person:{accountant_id}", "review.client_answered"))

    async def held(self, mail: InboundMail) -> None:
        from handlers.mail import held_keyboard, held_text

        assert mail.organization_id is not None
        async with self.uow_factory() as uow:
            organization = await uow.organizations.get(mail.organization_id)
            grants = await uow.organizations.offices_with_access(mail.organization_id)
            targets: list[tuple[int, tuple[str, int]]] = []
            for grant in grants:
                for member in await uow.offices.members(grant.office_id):
                    person = await uow.people.get(member.person_id)
                    if person is None or not person.reachable:
                        continue
                    for chat in await telegram_chats(uow, member.person_id):
                        targets.append((chat, (person.language, member.person_id)))
        name = organization.name if organization else "?"
        for chat, (language, person_id) in dict(targets).items():
            t = Texts(language)
            text = held_text(t, mail, name)
            self.sent.append((f"chat:{chat}", text))
            if self.outbox is None:
                continue
            markup = held_keyboard(t, mail)
            if await self.outbox.send(chat, text, person_id=person_id, markup=markup) is not (
                Delivery.SENT
            ):
                log.info("could not tell chat %s about held mail %s", chat, mail.id)
