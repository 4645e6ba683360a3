"""Files that would reach an accountant, over the local Bot API server: a program dressed as
a PDF is refused, names lose their tricks, and a picture too big for a Telegram photo still
shows its card (as does any document whose file Telegram refuses)."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select, update

from local_api.client import ChatMessage, TgUser
from storage import tables
from tests import images
from tests.e2e.harness import Harness
from tests.e2e.test_review import accountant

DANA = TgUser(id=5_000_000_201, first_name="Dana", language_code="en")
ALICE = TgUser(id=5_000_000_202, first_name="Alice", language_code="en")
RLO = "\u202e"  # right-to-left override: "invoice<RLO>fdp.exe" reads "invoiceexe.pdf"


async def office_with_client(harness: Harness) -> None:
    office_id, org_id = await harness.office_and_org()
    await accountant(harness, ALICE, office_id)
    await harness.join(DANA, org_id)


async def documents(harness: Harness) -> list[dict[str, object]]:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        rows = await uow.session.execute(
            select(
                tables.documents.c.id,
                tables.stored_files.c.mime_type,
                tables.stored_files.c.original_name,
            )
            .join(tables.stored_files, tables.stored_files.c.document_id == tables.documents.c.id)
            .order_by(tables.documents.c.id)
        )
        return [dict(row._mapping) for row in rows]


async def ready_to_file(harness: Harness) -> None:
    # The reader is off in the harness: mark the documents read, as the worker would.
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.documents).values(
                state="to_file",
                kind="receipt",
                fields={"total": {"value": "117.00", "confidence": 0.95, "reason": ""}},
            )
        )
        await uow.commit()


async def first_card(harness: Harness) -> ChatMessage:
    report = await harness.say(ALICE, "/tofile")
    button = next(
        b["text"]
        for row in report.inline_keyboard or []
        for b in row
        if b["text"].startswith("Falafel Ltd")
    )
    return await harness.after(ALICE, harness.api.click(ALICE, report, button))


async def test_a_program_named_like_a_pdf_is_refused_and_never_reaches_the_office(
    harness: Harness,
) -> None:
    await office_with_client(harness)
    # A Windows program with a whole PDF inside: PDF readers accept junk before the header.
    program = (
        b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode" + images.pdf()
    )
    reply = await harness.after(
        DANA,
        harness.api.send_document(
            DANA, program, file_name=f"invoice{RLO}fdp.exe", mime_type="application/pdf"
        ),
    )
    assert "cannot read files of this type" in (reply.text or "")
    assert await documents(harness) == []
    report = await harness.say(ALICE, "/tofile")
    assert "Falafel" not in (report.text or "")


async def test_a_real_pdf_keeps_a_safe_name_with_the_extension_of_its_bytes(
    harness: Harness,
) -> None:
    await office_with_client(harness)
    reply = await harness.after(
        DANA,
        harness.api.send_document(
            DANA, images.pdf(), file_name=f"חשבונית{RLO}fdp.exe", mime_type="application/pdf"
        ),
    )
    assert "Received ✓" in (reply.text or "")
    [stored] = await documents(harness)
    assert stored["mime_type"] == "application/pdf"
    assert stored["original_name"] == "חשבוניתfdp.pdf"
    await ready_to_file(harness)
    card = await first_card(harness)
    assert card.kind == "document" and card.file_name == "חשבוניתfdp.pdf"


async def test_a_picture_too_big_for_a_telegram_photo_shows_as_a_preview(
    harness: Harness,
) -> None:
    await office_with_client(harness)
    scan = images.jpeg(4500, 7500, label="big scan")
    reply = await harness.after(
        DANA, harness.api.send_document(DANA, scan, file_name="scan.jpg", mime_type="image/jpeg")
    )
    assert "Received ✓" in (reply.text or "")
    await ready_to_file(harness)
    card = await first_card(harness)
    assert card.kind == "photo" and "Falafel Ltd" in (card.caption or "")
    assert card.inline_keyboard  # the card's buttons came with it
    assert card.file_id is not None
    with Image.open(io.BytesIO(await harness.api.file_bytes(card.file_id))) as preview:
        width, height = preview.size
    print(f"\npreview {width}x{height} of a 4500x7500 scan")
    assert width + height <= 10_000 and max(width, height) <= 2560
    # The whole file is kept as it came.
    [stored] = await documents(harness)
    assert stored["mime_type"] == "image/jpeg"


async def test_a_file_telegram_refuses_still_shows_the_card_and_the_rest_of_the_queue(
    harness: Harness,
) -> None:
    await office_with_client(harness)
    for label in ("first", "second"):
        await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label=label)))
    await ready_to_file(harness)
    await harness.api.fail_next(
        "sendPhoto", error_code=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS"
    )
    card = await first_card(harness)
    assert card.kind == "text" and "Falafel Ltd" in (card.text or "")
    assert card.inline_keyboard
    # Skipping goes on to the next document, shown as usual.
    skip = next(b["text"] for row in card.inline_keyboard for b in row if "Skip" in b["text"])
    following = await harness.after(ALICE, harness.api.click(ALICE, card, skip))
    assert following.kind == "photo"
