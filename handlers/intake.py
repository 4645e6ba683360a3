"""Photos, albums and files from clients: translate to `core.intake` and answer."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from core import intake
from core.clock import Clock
from core.domain import Direction, DocumentState
from core.errors import FileRejected, NotAllowed
from core.files import MAX_FILE_BYTES
from core.people import KnownPerson
from core.ports import FileStore, UnitOfWork, UnitOfWorkFactory
from handlers import keyboards
from handlers.callbacks import BatchAction
from handlers.editing import edit_in_place
from handlers.texts import Texts, number_of

log = logging.getLogger(__name__)
PLATFORM = "telegram"


@dataclass(frozen=True)
class PartResult:
    """One album part's fate, kept until the album's single reply is sent."""

    stored: bool = False
    duplicate: bool = False
    rejected: str | None = None  # a locale key
    no_organization: bool = False


def upload_of(message: Message) -> intake.Upload:
    if message.photo:
        photo = message.photo[-1]  # smallest first; the last is the full picture
        return intake.Upload(
            platform=PLATFORM,
            chat_id=message.chat.id,
            message_id=message.message_id,
            file_id=photo.file_id,
            file_unique_id=photo.file_unique_id,
            file_size=photo.file_size,
            mime_type="image/jpeg",
            file_name=None,
            caption=message.caption,
            media_group_id=message.media_group_id,
        )
    document = message.document
    assert document is not None
    return intake.Upload(
        platform=PLATFORM,
        chat_id=message.chat.id,
        message_id=message.message_id,
        file_id=document.file_id,
        file_unique_id=document.file_unique_id,
        file_size=document.file_size,
        mime_type=document.mime_type,
        file_name=document.file_name,
        caption=message.caption,
        media_group_id=message.media_group_id,
    )


ARCHIVE_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-rar")
ARCHIVE_ENDINGS = (".zip", ".rar", ".7z", ".tar", ".gz")


def is_archive(upload: intake.Upload) -> bool:
    name = (upload.file_name or "").lower()
    return (upload.mime_type or "") in ARCHIVE_TYPES or name.endswith(ARCHIVE_ENDINGS)


def batch_of(upload: intake.Upload) -> str:
    if upload.media_group_id is None:
        return intake.new_batch()
    # Every part of an album lands in the same batch without any coordination.
    key = f"{upload.platform}:{upload.chat_id}:{upload.media_group_id}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


async def download(bot: Bot, file_id: str) -> bytes:
    try:
        buffer = await bot.download(file_id, destination=io.BytesIO())
    except TelegramBadRequest as error:
        if "too big" in error.message.lower():
            raise FileRejected("file.too_big", limit_mb=MAX_FILE_BYTES // 2**20) from error
        raise FileRejected("file.download_failed") from error
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as error:
        # A broken download (an error page, a cut connection) is not a file: ask again.
        raise FileRejected("file.download_failed") from error
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


class DownloadGate(Protocol):
    """Fairness at intake (`bot.uploads.UploadGate`): a client's rate, a few downloads at once."""

    def reserve(self, client: int) -> float: ...
    def should_tell(self, client: int) -> bool: ...
    def slot(self) -> AbstractAsyncContextManager[None]: ...


class Albums(Protocol):
    """Collects an album's parts into one reply (`bot.albums.AlbumCollector`).

    `add` keeps the update unfinished until the summary was sent.
    """

    def add(
        self,
        key: str,
        part: PartResult,
        done: Callable[[list[PartResult]], Awaitable[None]],
        part_id: str | None = None,  # a part handled again counts once (shared collectors)
    ) -> Awaitable[None]: ...


def gated_download(
    bot: Bot,
    file_id: str,
    uploads: DownloadGate | None,
    person: KnownPerson,
    message: Message,
    t: Texts,
) -> intake.Download:
    """The download `core.intake.receive` enters: after this client's turn under their rate,
    in one of the few slots (the bytes stay in it until they are stored)."""

    @asynccontextmanager
    async def fetch() -> AsyncIterator[bytes]:
        if uploads is None:
            yield await download(bot, file_id)
            return
        wait = uploads.reserve(person.id)
        if wait > 0:
            if uploads.should_tell(person.id):
                await message.answer(t("intake.slow_down"))
            await asyncio.sleep(wait)
        async with uploads.slot():
            yield await download(bot, file_id)

    return fetch


async def on_file(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    uow_factory: UnitOfWorkFactory,
    person: KnownPerson,
    t: Texts,
    files: FileStore,
    clock: Clock,
    albums: Albums,
    uploads: DownloadGate | None = None,
) -> None:
    upload = upload_of(message)
    batch = batch_of(upload)
    album = upload.media_group_id is not None

    async def answer(result: PartResult, text: str) -> None:
        if album:
            albums.add(
                batch,
                result,
                lambda parts: send_album_summary(
                    bot, uow_factory, message.chat.id, person, batch, parts
                ),
                part_id=str(message.message_id),  # a part handled again counts once
            )
        else:
            await message.reply(text)

    received = await intake.receive(
        uow,
        files,
        person=person,
        upload=upload,
        data=gated_download(bot, upload.file_id, uploads, person, message, t),
        batch=batch,
        now=clock.now(),
    )
    outcome = received.outcome
    if outcome is intake.ReceiveOutcome.NO_ORGANIZATION:
        await answer(PartResult(no_organization=True), t("intake.no_organization"))
        return
    if outcome is intake.ReceiveOutcome.REFUSED:
        assert received.reason is not None
        key = received.reason
        if key == "file.unsupported" and is_archive(upload):
            key = "file.archive"  # say what to do with it: send what is inside
        await answer(PartResult(rejected=key), t(key, **received.params))
        return
    if received.raced:
        log.info("message %s stored by a concurrent delivery", upload.message_id)
        return
    if outcome is intake.ReceiveOutcome.ALREADY_HAVE:
        log.info("message %s delivered again; already stored", upload.message_id)
    assert received.document is not None
    if album:
        await answer(PartResult(stored=True, duplicate=received.duplicate_of is not None), "")
        return
    await reply_stored(message, uow, t, received)


async def reply_stored(
    message: Message, uow: UnitOfWork, t: Texts, stored: intake.Received
) -> None:
    document = stored.document
    assert document is not None
    if document.organization_id is None:
        organizations = [
            o for o in [await uow.organizations.get(i) for i in stored.destinations] if o
        ]
        await message.reply(
            t("intake.choose_org"),
            reply_markup=keyboards.choose_organization(document.batch, organizations),
        )
        return
    name = stored.organization_name or "?"
    if stored.duplicate_of is not None:
        original = stored.duplicate_of
        date = t.date(original.created_at)
        await message.reply(
            t("intake.duplicate", org=name, original=number_of(original), date=date)
        )
        return
    income = document.direction is Direction.INCOME
    offer_income = not income and stored.may_mark_income
    await message.reply(
        t(
            "intake.received_income" if income else "intake.received",
            id=number_of(document),
            org=name,
        ),
        reply_markup=keyboards.after_upload(
            t, document.batch, offer_income=offer_income, offer_join=False
        ),
    )


async def send_album_summary(
    bot: Bot,
    uow_factory: UnitOfWorkFactory,
    chat_id: int,
    person: KnownPerson,
    batch: str,
    parts: list[PartResult],
) -> None:
    t = Texts(person.language)
    if any(p.no_organization for p in parts):
        await bot.send_message(chat_id, t("intake.no_organization"))
        return
    lines: list[str] = []
    markup = None
    stored = sum(1 for p in parts if p.stored)
    if stored:
        async with uow_factory() as uow:
            sent = await intake.album(uow, person, batch)
        if not sent.placed:
            lines.append(t("intake.choose_org_album", count=stored))
            markup = keyboards.choose_organization(batch, sent.choices)
        else:
            documents = sent.documents
            numbers = sorted(
                number_of(d)
                for d in documents
                if d.state is not DocumentState.DUPLICATE and d.merged_into_id is None
            )
            lines.append(
                t(
                    "intake.album_received",
                    count=stored,
                    org=sent.organization.name if sent.organization else "?",
                    numbers=", ".join(str(n) for n in numbers),
                )
            )
            duplicates = sum(1 for p in parts if p.duplicate)
            if duplicates:
                lines.append(t("intake.album_duplicates", count=duplicates))
            live = sum(1 for d in documents if d.state is DocumentState.RECEIVED)
            markup = keyboards.after_upload(
                t, batch, offer_income=sent.may_mark_income, offer_join=live >= 2
            )
    rejected = [p.rejected for p in parts if p.rejected]
    if rejected:
        reasons = "; ".join(
            dict.fromkeys(t(key, limit_mb=MAX_FILE_BYTES // 2**20, limit=50) for key in rejected)
        )
        lines.append(t("intake.album_rejected", count=len(rejected), reasons=reasons))
    await bot.send_message(chat_id, "\n".join(lines), reply_markup=markup)


async def on_choose_organization(
    query: CallbackQuery,
    callback_data: BatchAction,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    placed = await intake.choose_organization(
        uow, person, callback_data.batch, callback_data.org, clock.now()
    )
    org = await uow.organizations.get(callback_data.org)
    numbers = ", ".join(
        str(number_of(d)) for d in placed.documents if d.state is not DocumentState.DUPLICATE
    )
    text = t(
        "intake.org_chosen",
        org=org.name if org else "?",
        count=len(placed.documents),
        numbers=numbers,
    )
    if placed.duplicates:
        text += "\n" + t("intake.org_chosen_duplicates", count=placed.duplicates)
    await query.answer()
    await edit_in_place(query, text)


async def on_mark_income(
    query: CallbackQuery,
    callback_data: BatchAction,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    await intake.mark_income(uow, person, callback_data.batch, clock.now())
    await query.answer(t("intake.marked_income"))
    await edit_in_place(query, None)


async def on_join_pages(
    query: CallbackQuery,
    callback_data: BatchAction,
    uow: UnitOfWork,
    person: KnownPerson,
    t: Texts,
    clock: Clock,
) -> None:
    try:
        primary = await intake.join_as_pages(uow, person, callback_data.batch, clock.now())
    except NotAllowed as error:
        await query.answer(t(error.key), show_alert=True)
        return
    assert primary.id is not None
    pages = len(await uow.documents.files(primary.id))
    await query.answer()
    await edit_in_place(query, t("intake.joined", count=pages, id=number_of(primary)))


def build_router() -> Router:
    # A fresh router per dispatcher: aiogram attaches a router to one parent only.
    router = Router(name=__name__)
    router.message.register(on_file, F.photo | F.document)
    router.callback_query.register(on_choose_organization, BatchAction.filter(F.action == "org"))
    router.callback_query.register(on_mark_income, BatchAction.filter(F.action == "inc"))
    router.callback_query.register(on_join_pages, BatchAction.filter(F.action == "join"))
    return router
