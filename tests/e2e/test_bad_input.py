"""Bad input gets a clear answer in the user's language, and the next update still works."""

from __future__ import annotations

import pytest

from local_api.client import TgUser
from tests import images
from tests.e2e.harness import Harness

DANA = TgUser(id=6_000_000_001, first_name="Dana", language_code="he")
JOHN = TgUser(id=6_000_000_002, first_name="John", language_code="en")


@pytest.fixture
async def joined(harness: Harness) -> Harness:
    _, org_id = await harness.office_and_org()
    await harness.join(JOHN, org_id)
    await harness.join(DANA, org_id)
    return harness


@pytest.mark.parametrize(
    ("data", "name", "mime", "expected"),
    [
        (b"PK\x03\x04 zip", "archive.zip", "application/zip", "send each document on its own"),
        (b"", "empty.pdf", "application/pdf", "empty"),
        (images.truncated_jpeg(), "broken.jpg", "image/jpeg", "seems damaged"),
        (images.image_bomb(), "huge.png", "image/png", "too large to process"),
        (images.encrypted_pdf(), "locked.pdf", "application/pdf", "password-protected"),
        (b"%PDF-1.7\n broken", "broken.pdf", "application/pdf", "could not open the PDF"),
        (b"just text", "notes.pdf", "application/pdf", "cannot read files of this type"),
    ],
    ids=[
        "zip",
        "empty",
        "corrupt-image",
        "image-bomb",
        "encrypted-pdf",
        "broken-pdf",
        "text-named-pdf",
    ],
)
async def test_a_bad_file_is_explained_and_the_next_one_is_stored(
    joined: Harness, data: bytes, name: str, mime: str, expected: str
) -> None:
    reply = await joined.after(
        JOHN, joined.api.send_document(JOHN, data, file_name=name, mime_type=mime)
    )
    assert expected in (reply.text or "")
    good = await joined.after(JOHN, joined.api.send_photo(JOHN, images.png()))
    assert "Received ✓" in (good.text or "")


async def test_a_file_over_20_mb_is_refused_before_download(joined: Harness) -> None:
    reply = await joined.after(
        DANA,
        joined.api.send_document(
            DANA,
            images.pdf(),
            file_name="big.pdf",
            mime_type="application/pdf",
            declared_size=25 * 1024 * 1024,
        ),
    )
    assert "גדול מדי" in (reply.text or "")
    assert await joined.api.calls("getFile") == []


async def test_text_that_is_not_a_command_and_a_sticker_like_message_are_answered(
    joined: Harness,
) -> None:
    text = await joined.say(DANA, "שלום, מה עם הקבלה מאתמול?")
    assert "קבלה" in (text.text or "") and "/help" in (text.text or "")
    contact = await joined.after(DANA, joined.api.send_contact(DANA, "+972500000000"))
    assert "איש קשר" in (contact.text or "") and "/invite" in (contact.text or "")


async def test_a_429_from_the_bot_api_is_waited_out_and_the_reply_arrives(joined: Harness) -> None:
    await joined.api.fail_next("sendMessage", error_code=429, retry_after=1, count=1)
    reply = await joined.after(JOHN, joined.api.send_photo(JOHN, images.png(label="429")))
    assert "Received ✓" in (reply.text or "")
    answers = [c.status for c in await joined.api.calls("sendMessage")]
    assert 429 in answers and answers[-1] == 200


async def test_a_person_who_blocked_the_bot_is_marked_unreachable(joined: Harness) -> None:
    await joined.api.block(JOHN, notify=False)
    await joined.api.send_photo(JOHN, images.png(label="blocked"))
    for _ in range(100):
        async with joined.app.uow_factory() as uow:
            found = await uow.people.by_identity("telegram", JOHN.id)
            assert found is not None
            if not found[0].reachable:
                break
        import asyncio

        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the person was not marked unreachable")
    # The document itself was kept.
    async with joined.app.uow_factory() as uow:
        assert await uow.documents.by_source("telegram", JOHN.id, 0) is None
        assert uow.session is not None
        from sqlalchemy import func, select

        from storage import tables

        assert await uow.session.scalar(select(func.count()).select_from(tables.documents)) == 1


async def test_a_forged_button_from_another_person_changes_nothing(joined: Harness) -> None:
    reply = await joined.after(JOHN, joined.api.send_photo(JOHN, images.png(label="mine")))
    data = reply.button_data("This is income (an invoice I issued)")
    stranger = TgUser(id=6_000_000_099, first_name="Mallory", language_code="en")
    press = await joined.api.press_button(stranger, reply.message_id, data, chat=JOHN.id)
    answer = await joined.api.wait_for_callback_answer(press.callback_query_id or "")
    assert answer is not None and "not allowed" in (answer.get("text") or "")
    async with joined.app.uow_factory() as uow:
        document = await uow.documents.by_source("telegram", JOHN.id, reply.reply_to or 0)
        assert document is not None and document.direction.value == "expense"
