"""The client's side of a return: the message that tells them, and their answers.

A returned document goes back to its sender (in their chat, or by e-mail); they send a new
photo, explain in words, or withdraw it. Whether they may is `core.review`'s to decide.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import intake, mail, review
from core.clock import Clock
from core.domain import Document, Person, Return, StoredFile
from core.errors import TayukError
from core.files import EXTENSIONS, safe_name
from core.people import KnownPerson, telegram_chats
from core.ports import FileStore, Mailer, Notifier, UnitOfWork
from handlers.callbacks import ClientAct
from handlers.intake import DownloadGate, gated_download, upload_of
from handlers.outbox import Delivery, Outbox
from handlers.review_render import CAPTION_LIMIT, send_file
from handlers.settings import HANDLER_DEFAULTS, HandlerSettings
from handlers.texts import Texts, number_of

log = logging.getLogger(__name__)


class ClientFlow(StatesGroup):
    photo = State()  # the client sends a new photo of a returned document
    text = State()  # the client types an explanation


async def latest_file(
    uow: UnitOfWork, files: FileStore, document_id: int
) -> tuple[StoredFile | None, bytes | None]:
    pages = await uow.documents.files(document_id)
    if not pages:
        return None, None
    stored = pages[-1]  # the newest page: after an answer, the client's new photo
    return stored, await files.get(stored.sha256)


def returned_message(t: Texts, document: Document) -> tuple[str, InlineKeyboardMarkup]:
    """Why the office returned it, and the client's three answers (also used by /status)."""
    lines = _returned_lines(t, document)
    lines.append(t("return.what_now"))
    builder = InlineKeyboardBuilder()
    for action in ("new", "exp", "wd"):
        builder.button(
            text=t(f"return.button_{action}"),
            callback_data=ClientAct(a=action, d=document.id or 0),
        )
    builder.adjust(1)
    return "\n".join(lines)[:CAPTION_LIMIT], builder.as_markup()


def _returned_lines(t: Texts, document: Document) -> list[str]:
    back = document.last_return or Return(reason="")
    if back.auto and back.problem:
        # A retake request: the office never saw it, so it is not "the office returned".
        lines = [
            t("return.title_retake", id=number_of(document)),
            t(f"retake.{back.problem}", id=number_of(document)),
        ]
    else:
        lines = [
            t("return.title", id=number_of(document)),
            t("return.reason", reason=t(f"return.{back.reason}")),
        ]
    if back.note:
        lines.append(t("return.note", note=back.note))
    return lines


async def notify_client(
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    document: Document,
    mailer: Mailer | None = None,
    handler_settings: HandlerSettings = HANDLER_DEFAULTS,
    outbox: Outbox | None = None,
) -> bool:
    """The returned document goes back to its sender, in their language, with answers to tap.

    A document that came by e-mail goes back to the sender's Telegram chat when they have
    one, else by e-mail to the address it came from."""
    person = await uow.people.get(document.uploaded_by)
    if person is None or person.id is None:
        return False
    chat = document.source_chat_id
    if document.source_platform != "telegram":
        # By e-mail or from the web page: the sender's Telegram chat, when they have one.
        chats = await telegram_chats(uow, person.id)
        if not chats:
            if document.source_platform != mail.PLATFORM:
                return False
            return await _mail_client(uow, files, document, person, mailer, handler_settings)
        chat = chats[0]
    caption, markup = returned_message(Texts(person.language), document)
    stored, data = await latest_file(uow, files, document.id or 0)

    async def call(bot: Bot) -> object:
        return await send_file(bot, chat, stored, data, caption, markup, number_of(document))

    # Blocked: the document stays returned and /tofile shows the client unreachable.
    sender = outbox or Outbox(bot)
    return await sender.deliver(chat, call, person_id=person.id, uow=uow) is Delivery.SENT


async def _mail_client(
    uow: UnitOfWork,
    files: FileStore,
    document: Document,
    person: Person,
    mailer: Mailer | None,
    handler_settings: HandlerSettings,
) -> bool:
    """The return by e-mail: a reply to the client's own mail, with the document attached;
    their reply (to the organization's address) names this mail and so finds the document."""
    domain = handler_settings.mail_domain
    if mailer is None or not domain or document.organization_id is None:
        return False
    inbound = await uow.mail.inbound(document.source_chat_id)
    if inbound is None:
        return False
    to = inbound.sender or inbound.envelope_from
    if not to:
        return False
    address = mail.full_address(
        (await mail.address_for(uow, document.organization_id)).local_part, domain
    )
    stored, data = await latest_file(uow, files, document.id or 0)
    await uow.commit()  # the address, when this made it
    t = Texts(person.language)
    lines = _returned_lines(t, document)
    lines.append(t("return.mail_what_now", address=address))
    attachments = []
    if stored is not None and data is not None:
        name = safe_name(stored.original_name, stored.mime_type) or (
            f"document-{document.id}" + EXTENSIONS.get(stored.mime_type, "")
        )
        attachments.append((name, stored.mime_type, data))
    subject = t("return.mail_subject", id=number_of(document), subject=inbound.subject or "")
    try:
        await mailer.send(
            to,
            subject,
            "\n".join(lines),
            headers={
                "Reply-To": address,
                "Message-ID": mail.return_message_id(document.id or 0, domain),
            },
            attachments=attachments,
        )
    except TayukError:
        log.info("could not e-mail the return of document %s", document.id)
        return False
    return True


class RepliesToReturn(Filter):
    """A message replying to one of our "returned" messages: gives the document id."""

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        if replied is None or replied.reply_markup is None:
            return False
        for row in replied.reply_markup.inline_keyboard:
            for button in row:
                data = button.callback_data or ""
                if data.startswith(ClientAct.__prefix__ + ":"):
                    return {"returned_id": ClientAct.unpack(data).d}
        return False


async def on_client_button(
    query: CallbackQuery,
    callback_data: ClientAct,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
) -> None:
    d = callback_data.d
    if callback_data.a == "wd":
        await review.withdraw(uow, person.id, d, clock.now())
        await query.answer(t("return.withdrawn"))
        await set_markup(query, InlineKeyboardMarkup(inline_keyboard=[]))
        return
    # Check now, not only when the answer arrives: a forged id is refused at once.
    await review.returned_for_client(uow, person.id, d)
    await state.set_state(ClientFlow.photo if callback_data.a == "new" else ClientFlow.text)
    await state.set_data({"d": d})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t(f"return.ask_{callback_data.a}"))


async def _document_of_answer(state: FSMContext, returned_id: int | None) -> int:
    if returned_id is not None:
        return returned_id
    data: dict[str, Any] = await state.get_data()
    return int(data["d"])


async def on_client_text(
    message: Message,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    returned_id: int | None = None,
    notifier: Notifier | None = None,
) -> None:
    d = await _document_of_answer(state, returned_id)
    document = await review.answer_text(uow, person.id, d, message.text or "", clock.now())
    await state.clear()
    await message.reply(t("return.answered", id=number_of(document)))
    await tell_returner(uow, notifier, person, document, clock.now())


async def on_client_file(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    files: FileStore,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
    state: FSMContext,
    returned_id: int | None = None,
    uploads: DownloadGate | None = None,
    notifier: Notifier | None = None,
) -> None:
    d = await _document_of_answer(state, returned_id)
    upload = upload_of(message)
    await review.returned_for_client(uow, person.id, d)  # refused before the download
    await uow.release()  # no transaction open across the download
    async with gated_download(bot, upload.file_id, uploads, person, message, t)() as data:
        kept = await intake.keep_file(files, upload, data)
    document = await review.answer_file(uow, person.id, d, kept.attach(d), clock.now())
    await state.clear()
    await message.reply(t("return.answered_file", id=number_of(document)))
    await tell_returner(uow, notifier, person, document, clock.now())


async def tell_returner(
    uow: UnitOfWork,
    notifier: Notifier | None,
    client: Person,
    document: Document,
    now: datetime,
) -> None:
    """The accountant who returned the document hears that the client answered."""
    accountant = await review.returner_to_tell(uow, document, now)
    if accountant is None or notifier is None or document.organization_id is None:
        return
    org = await uow.organizations.get(document.organization_id)
    await uow.release_if_clean()
    await notifier.notify(
        accountant,
        "review.client_answered",
        client=client.display_name,
        id=number_of(document),
        org=org.name if org else "?",
    )


async def set_markup(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    if isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):  # "not modified" on a double tap
            await query.message.edit_reply_markup(reply_markup=markup)


def register(router: Router) -> None:
    """The client's handlers, on the review router (before intake: an answer is no upload)."""
    router.callback_query.register(on_client_button, ClientAct.filter())
    files = F.photo | F.document
    router.message.register(on_client_file, files, RepliesToReturn())
    router.message.register(on_client_file, files, StateFilter(ClientFlow.photo))
    router.message.register(on_client_text, F.text, RepliesToReturn())
    router.message.register(on_client_text, F.text, StateFilter(ClientFlow.text))
