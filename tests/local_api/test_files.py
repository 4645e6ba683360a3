"""Photos, documents, albums: both directions, bytes retrievable."""

from __future__ import annotations

import io

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramEntityTooLarge
from aiogram.types import BufferedInputFile, InputMediaDocument, InputMediaPhoto
from PIL import Image

from local_api.client import AlbumItem, LocalApiClient, TgUser

from .conftest import make_jpeg


async def download(bot: Bot, file_id: str) -> bytes:
    file = await bot.get_file(file_id)
    assert file.file_path
    buffer = await bot.download_file(file.file_path)
    assert buffer is not None
    return buffer.read()


async def test_photo_round_trip(
    bot: Bot, client: LocalApiClient, dana: TgUser, jpeg: bytes
) -> None:
    sent = await client.send_photo(dana, jpeg, caption="קבלה #דלק")
    [update] = await bot.get_updates(timeout=0)
    message = update.message
    assert message is not None and message.photo
    assert message.caption == "קבלה #דלק"
    assert message.caption_entities and message.caption_entities[0].type == "hashtag"
    sizes = [(p.width, p.height) for p in message.photo]
    assert sizes == sorted(sizes) and sizes[-1] == (1000, 700)  # smallest first, real size last
    largest = message.photo[-1]
    assert largest.file_size == len(jpeg)
    assert await download(bot, largest.file_id) == jpeg
    # bot.download() with the PhotoSize object works as well
    buffer = await bot.download(largest)
    assert buffer is not None and buffer.read() == jpeg
    # Thumbnails are real, smaller JPEGs.
    thumb = await download(bot, message.photo[0].file_id)
    assert Image.open(io.BytesIO(thumb)).size == sizes[0]
    # Same bytes again: new file_id, same file_unique_id (duplicate detection).
    again = await client.send_photo(dana, jpeg)
    assert again.message is not None and sent.message is not None
    first, second = sent.message["photo"][-1], again.message["photo"][-1]
    assert first["file_id"] != second["file_id"]
    assert first["file_unique_id"] == second["file_unique_id"]
    other = await client.send_photo(dana, make_jpeg(color="blue"))
    assert other.message is not None
    assert other.message["photo"][-1]["file_unique_id"] != first["file_unique_id"]


async def test_unreadable_photo_uses_given_size(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    sent = await client.send_photo(dana, b"not really a jpeg", width=64, height=48)
    assert sent.message is not None
    assert [(p["width"], p["height"]) for p in sent.message["photo"]] == [(64, 48)]


async def test_document_round_trip(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    pdf = b"%PDF-1.4\n% receipt\n" + bytes(range(256)) * 10
    await client.send_document(dana, pdf, file_name="חשבונית.pdf", caption="מרץ")
    [update] = await bot.get_updates(timeout=0)
    document = update.message.document if update.message else None
    assert document is not None
    assert document.file_name == "חשבונית.pdf"
    assert document.mime_type == "application/pdf"
    assert document.file_size == len(pdf)
    assert await download(bot, document.file_id) == pdf


async def test_too_big_file(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    sent = await client.send_document(
        dana, b"tiny", file_name="scan.pdf", declared_size=25 * 1024 * 1024
    )
    assert sent.message is not None
    document = sent.message["document"]
    assert document["file_size"] == 25 * 1024 * 1024
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(document["file_id"])


async def test_album(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    items = [
        AlbumItem(make_jpeg(color="red")),
        AlbumItem(make_jpeg(color="green")),
        AlbumItem(make_jpeg(color="blue")),
    ]
    emitted = await client.send_album(dana, items, caption="שלוש קבלות")
    assert len(emitted) == 3
    updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message is not None]
    assert len(messages) == 3
    assert len({m.media_group_id for m in messages}) == 1 and messages[0].media_group_id
    assert [m.caption for m in messages] == ["שלוש קבלות", None, None]
    assert len({m.date for m in messages}) == 1
    records = await client.updates()
    assert len({r["available_at"] for r in records}) == 1  # all at the same moment
    assert await download(bot, messages[2].photo[-1].file_id) == items[2].data  # type: ignore[index]


async def test_document_album(client: LocalApiClient, dana: TgUser) -> None:
    emitted = await client.send_album(
        dana,
        [
            AlbumItem(b"%PDF-1", type="document", file_name="a.pdf"),
            AlbumItem(b"%PDF-2", type="document", file_name="b.pdf"),
        ],
    )
    assert [e.message["document"]["file_name"] for e in emitted if e.message] == ["a.pdf", "b.pdf"]


async def test_bot_uploads_are_retrievable(
    bot: Bot, client: LocalApiClient, dana: TgUser, jpeg: bytes
) -> None:
    await client.send_text(dana, "/report")
    report = b"%PDF-1.7 monthly report"
    sent = await bot.send_document(
        dana.id, BufferedInputFile(report, "דוח.pdf"), caption="<b>דוח</b>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.mime_type == "application/pdf"
    photo = await bot.send_photo(dana.id, BufferedInputFile(jpeg, "p.jpg"))
    assert photo.photo is not None and photo.photo[-1].width == 1000
    # Re-send by file_id: no upload, same file.
    again = await bot.send_document(dana.id, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == sent.document.file_unique_id
    logged = await client.messages(dana.id)
    assert [m.kind for m in logged] == ["document", "photo", "document"]
    assert logged[0].caption == "דוח" and logged[0].file_name == "דוח.pdf"
    assert logged[0].file_id is not None
    assert await client.file_bytes(logged[0].file_id) == report
    assert logged[1].file_id is not None
    assert await client.file_bytes(logged[1].file_id) == jpeg
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_photo(dana.id, sent.document.file_id)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(dana.id, BufferedInputFile(b"not an image", "x.jpg"))
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(dana.id, "no-such-file-id")


async def test_send_media_group(bot: Bot, client: LocalApiClient, dana: TgUser) -> None:
    await client.send_text(dana, "/start")
    images = [make_jpeg(color=c) for c in ("red", "green")]
    sent = await bot.send_media_group(
        dana.id,
        [
            InputMediaPhoto(media=BufferedInputFile(images[0], "a.jpg"), caption="שתיים"),
            InputMediaPhoto(media=BufferedInputFile(images[1], "b.jpg")),
        ],
    )
    assert len(sent) == 2 and sent[0].media_group_id == sent[1].media_group_id
    logged = await client.messages(dana.id)
    assert [m.media_group_id for m in logged] == [sent[0].media_group_id] * 2
    assert [m.caption for m in logged] == ["שתיים", None]
    assert [await client.file_bytes(m.file_id or "") for m in logged] == images
    with pytest.raises(TelegramBadRequest):
        await bot.send_media_group(
            dana.id,
            [
                InputMediaPhoto(media=BufferedInputFile(images[0], "a.jpg")),
                InputMediaDocument(media=BufferedInputFile(b"%PDF", "a.pdf")),
            ],
        )


async def test_copy_and_forward(
    bot: Bot, client: LocalApiClient, dana: TgUser, jpeg: bytes
) -> None:
    accountant = TgUser(id=7_000_000_009, first_name="רואה חשבון")
    await client.send_text(accountant, "/start")
    receipt = await client.send_photo(dana, jpeg, caption="קבלה")
    assert receipt.message_id is not None
    copied = await bot.copy_message(accountant.id, dana.id, receipt.message_id, caption="מדנה")
    forwarded = await bot.forward_message(accountant.id, dana.id, receipt.message_id)
    assert forwarded.forward_origin is not None
    logged = await client.messages(accountant.id)
    assert [m.message_id for m in logged] == [copied.message_id, forwarded.message_id]
    assert logged[0].caption == "מדנה" and logged[0].copied_from == [dana.id, receipt.message_id]
    assert await client.file_bytes(logged[0].file_id or "") == jpeg


async def test_edit_caption(bot: Bot, client: LocalApiClient, dana: TgUser, jpeg: bytes) -> None:
    await client.send_text(dana, "/start")
    sent = await bot.send_photo(dana.id, BufferedInputFile(jpeg, "p.jpg"), caption="ממתין")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_caption(
            chat_id=dana.id, message_id=sent.message_id, caption="ממתין"
        )
    edited = await bot.edit_message_caption(
        chat_id=dana.id, message_id=sent.message_id, caption="<i>אושר</i>", parse_mode="HTML"
    )
    assert not isinstance(edited, bool) and edited.caption == "אושר"
    text = await bot.send_message(dana.id, "טקסט")
    with pytest.raises(TelegramBadRequest, match="no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=dana.id, message_id=text.message_id, caption="x")
    [photo, _] = await client.messages(dana.id)
    assert photo.caption == "אושר" and photo.edits[0]["before"]["caption"] == "ממתין"


@pytest.mark.parametrize(
    ("width", "height", "refused"),
    [
        (4500, 7500, True),  # width + height over 10000
        (200, 4100, True),  # sides over 1:20
        (5000, 5000, False),  # at the limit
        (200, 4000, False),  # 1:20 exactly
    ],
)
async def test_send_photo_enforces_telegrams_photo_dimensions(
    bot: Bot, client: LocalApiClient, dana: TgUser, width: int, height: int, refused: bool
) -> None:
    await client.send_text(dana, "/start")
    photo = BufferedInputFile(make_jpeg(width, height), "p.jpg")
    if refused:
        with pytest.raises(TelegramBadRequest, match="PHOTO_INVALID_DIMENSIONS"):
            await bot.send_photo(dana.id, photo)
        # The same file as a document is fine: only photos have these limits.
        sent = await bot.send_document(
            dana.id, BufferedInputFile(make_jpeg(width, height), "p.jpg")
        )
        assert sent.document is not None
    else:
        sent_photo = await bot.send_photo(dana.id, photo)
        assert sent_photo.photo is not None and sent_photo.photo[-1].width == width


async def test_send_photo_over_10_mb_is_refused(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    await client.send_text(dana, "/start")
    big = make_jpeg(320, 200) + b"\0" * (10 * 1024 * 1024)
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_photo(dana.id, BufferedInputFile(big, "big.jpg"))
