"""The chat as a client and an accountant meet it (issue 11), over the local Bot API server.

The reading here is the real one (Tesseract in a thread), run a job at a time by the same
worker the bot uses, so a retake request, a second reading and its notices are real.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from PIL import Image
from sqlalchemy import select, update

from bot.ocr.pool import read_in_worker
from bot.worker import Worker
from core.domain import DocumentState, JobState
from core.reading_jobs import Applied, ReadOutcome
from handlers.reading_notice import announcer
from local_api.client import AlbumItem, ChatMessage, TgUser
from storage import tables
from tests import images, receipt_factory, scenario
from tests.deadline_world import FakeClock, at
from tests.e2e.harness import Harness
from tests.e2e.test_review import accountant, latest

DANA = TgUser(id=5_000_000_201, first_name="Dana", language_code="he")
ALICE = TgUser(id=5_000_000_202, first_name="Alice", language_code="en")
BOB = TgUser(id=5_000_000_203, first_name="Bob", language_code="en")
READER = ThreadPoolExecutor(1, thread_name_prefix="test-reader")
DAYTIME = at("2026-11-24 11:00")  # a Tuesday morning: nobody's quiet hours


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def invoice(seed: int = 1, *, big: bool = False) -> bytes:
    spec = receipt_factory.hebrew_invoice(seed=seed, allocation=not big)
    if big:  # 15,000 before VAT on 5.3.2026: above that day's 10,000 allocation threshold
        spec.lines = [receipt_factory.Line("ייעוץ מקצועי", 1, Decimal("15000"))]
    return jpeg(receipt_factory.render(spec))


async def read_queued(harness: Harness) -> None:
    """The bot's worker takes every queued read job, reads it for real and tells the client."""
    app = harness.app
    worker = Worker(
        app.uow_factory,
        app.files,
        app.clock,
        READER,
        read_in_worker,
        announce=announcer(app.bot, app.uow_factory),
    )
    while await worker.run_once():
        pass


def use_clock(harness: Harness, clock: FakeClock) -> None:
    """The bot's own clock object reads the test's time (polling holds that very object)."""
    harness.app.clock.now = clock.now  # type: ignore[method-assign]


async def documents(harness: Harness) -> list[dict[str, object]]:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        rows = await uow.session.execute(select(tables.documents).order_by(tables.documents.c.id))
        return [dict(row._mapping) for row in rows]


async def pages(harness: Harness, document_id: int) -> list[str]:
    async with harness.app.uow_factory() as uow:
        return [p.sha256 for p in await uow.documents.files(document_id)]


async def setup(harness: Harness) -> int:
    """Dana is a client of Falafel Ltd; Alice is on its office's team."""
    office_id, org_id = await harness.office_and_org()
    await accountant(harness, ALICE, office_id)
    await harness.join(DANA, org_id)
    return org_id


async def open_card(harness: Harness, user: TgUser = ALICE) -> ChatMessage:
    report = await harness.say(user, "/tofile")
    button = next(b["text"] for b in report.buttons() if b["text"].startswith("Falafel Ltd"))
    return await harness.after(user, harness.api.click(user, report, button))


async def test_reopening_a_used_invite_says_already_a_member(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    token = await harness.invite_token(org_id)
    joined = await harness.say(DANA, f"/start {token}")
    assert "הצטרפתם ל-Falafel Ltd" in (joined.text or "")  # a maqaf before the Latin name
    again = await harness.say(DANA, f"/start {token}")
    assert "כבר הצטרפתם" in (again.text or "")
    assert "כבר השתמשו בקישור" not in (again.text or "")
    # Someone else opening the same used link is told it was used.
    other = TgUser(id=5_000_000_299, first_name="Other", language_code="he")
    used = await harness.say(other, f"/start {token}")
    assert "כבר השתמשו בקישור" in (used.text or "")


async def test_a_reply_to_a_retake_request_replaces_the_picture_and_is_read_again(
    harness: Harness,
) -> None:
    await setup(harness)
    received = await harness.after(
        DANA, harness.api.send_photo(DANA, jpeg(receipt_factory.blank_page()))
    )
    assert "מסמך מס' 1" in (received.text or "")
    retake = await harness.after(DANA, read_queued(harness))
    assert "נראית ריקה" in (retake.text or "")
    # The retake request can be answered like a return: a reply or a button.
    assert "📷 שליחת צילום חדש" in [b["text"] for b in retake.buttons()]

    # A file (not a compressed photo) sent as a reply to it replaces the empty picture.
    thanks = await harness.after(
        DANA,
        harness.api.send_document(
            DANA,
            invoice(),
            file_name="invoice.jpg",
            mime_type="image/jpeg",
            reply_to=retake.message_id,
        ),
    )
    assert "הצילום החדש צורף למסמך מס' 1" in (thanks.text or "")
    [row] = await documents(harness)  # no document 2
    assert row["state"] == DocumentState.RECEIVED.value
    assert len(await pages(harness, int(row["id"]))) == 1  # type: ignore[call-overload]

    # It is read again, and the client hears what was read.
    notice = await harness.after(DANA, read_queued(harness))
    assert "קראתי את מסמך מס' 1" in (notice.text or "")
    assert "₪ 2,545.26" in (notice.text or "")
    [row] = await documents(harness)
    assert row["state"] == DocumentState.TO_FILE.value
    status = await harness.say(DANA, "/status")
    assert "ממתינים לתשובה שלכם" not in (status.text or "")


async def test_a_worker_killed_after_storing_a_reading_tells_it_once_after_all(
    harness: Harness,
) -> None:
    await setup(harness)
    await harness.after(DANA, harness.api.send_photo(DANA, jpeg(receipt_factory.blank_page())))
    told_before = len(await harness.api.messages(DANA.id))
    app = harness.app
    stored = asyncio.Event()

    async def killed_before_sending(applied: Applied) -> None:
        stored.set()
        await asyncio.Event().wait()  # the process is killed here: nothing after it runs

    dying = Worker(
        app.uow_factory, app.files, app.clock, READER, read_in_worker,
        announce=killed_before_sending, name="dying",
    )  # fmt: skip
    running = asyncio.create_task(dying.run_once())
    await asyncio.wait_for(stored.wait(), 30)
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    [row] = await documents(harness)
    assert row["state"] == DocumentState.RETURNED.value  # the reading is stored; no word yet
    assert len(await harness.api.messages(DANA.id)) == told_before
    # Another worker (or this one restarted), once the dead one's lease has run out.
    later = FakeClock(app.clock.now() + timedelta(minutes=10))
    for name in ("restarted", "another"):
        worker = Worker(
            app.uow_factory, app.files, later, READER, read_in_worker,
            announce=announcer(app.bot, app.uow_factory), name=name,
        )  # fmt: skip
        while await worker.run_once():
            pass
    told = await harness.api.wait_for_messages(DANA.id, told_before + 1, timeout=10)
    assert "נראית ריקה" in (told[-1].text or "")
    await asyncio.sleep(0.3)  # a second notice has had time to arrive
    assert len(await harness.api.messages(DANA.id)) == told_before + 1
    async with app.uow_factory() as uow:
        assert await uow.jobs.count(JobState.RUNNING) == 0


async def test_a_new_photo_answering_a_return_is_read_again_and_the_card_shows_changes(
    harness: Harness,
) -> None:
    await setup(harness)
    use_clock(harness, FakeClock(DAYTIME))
    await harness.after(DANA, harness.api.send_photo(DANA, invoice(seed=1)))
    first = await harness.after(DANA, read_queued(harness))
    assert "קראתי את מסמך מס' 1" in (first.text or "")

    card = await open_card(harness)
    assert "amount before VAT: ₪ 2,157.00" in (card.caption or "")
    assert "net:" not in (card.caption or "")
    await harness.edited(ALICE, harness.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(harness, ALICE, card)
    await harness.after(ALICE, harness.api.click(ALICE, card, "Needs clarification"))
    card = await latest(harness, ALICE, card)
    done = await harness.after(ALICE, harness.api.click(ALICE, card, "No note"))
    assert "No more documents to file" in (done.text or "")
    returned = (await harness.api.messages(DANA.id))[-1]  # sent before Alice's next screen
    assert "המשרד החזיר את מסמך מס' 1" in (returned.caption or "")

    # Dana answers with a photo of the right invoice: Alice (who returned it) hears at once.
    told = await harness.after(
        ALICE,
        harness.api.send_photo(DANA, invoice(seed=5), reply_to=returned.message_id),
    )
    assert "Dana answered document #1 of Falafel Ltd" in (told.text or "")
    [row] = await documents(harness)
    assert row["state"] == DocumentState.RECEIVED.value
    async with harness.app.uow_factory() as uow:
        jobs = await uow.jobs.for_document(int(row["id"]))  # type: ignore[call-overload]
        assert [j.state for j in jobs] == [JobState.DONE, JobState.QUEUED]

    notice = await harness.after(DANA, read_queued(harness))
    assert "קראתי את מסמך מס' 1" in (notice.text or "")
    card = await open_card(harness)
    caption = card.caption or ""
    assert "The client answered" in caption
    assert "Read again after the new photo. What changed:" in caption
    assert "• total: ₪ 2,545.26 → ₪" in caption


async def test_a_big_invoice_without_an_allocation_number_is_flagged_to_both(
    harness: Harness,
) -> None:
    await setup(harness)
    await harness.after(DANA, harness.api.send_photo(DANA, invoice(seed=2, big=True)))
    notice = await harness.after(DANA, read_queued(harness))
    assert "אין בחשבונית מספר הקצאה" in (notice.text or "")
    assert "₪ 10,000.00" in (notice.text or "") and "בקשו מהספק" in (notice.text or "")
    card = await open_card(harness)
    caption = card.caption or ""
    assert "No allocation number" in caption and "₪ 10,000.00" in caption
    assert "the VAT (₪ 2,700.00) is not deductible" in caption


async def test_an_unread_currency_is_missing_not_shekels(harness: Harness) -> None:
    await setup(harness)
    await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label="receipt")))
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(
            update(tables.documents).values(
                state="received",
                kind="receipt",
                fields={
                    "total": {"value": "117.00", "confidence": 0.95, "reason": ""},
                    "currency": {"value": None, "confidence": 0.0, "reason": "none read"},
                },
            )
        )
        await uow.commit()
        [document] = await uow.documents.in_batch((await documents(harness))[0]["batch"])  # type: ignore[arg-type]
    announce = announcer(harness.app.bot, harness.app.uow_factory)
    notice = await harness.after(DANA, announce(Applied(ReadOutcome.TO_FILE, document)))
    text = notice.text or ""
    assert "סכום: 117.00" in text and "₪" not in text
    assert "מטבע" in text  # listed with what could not be read
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(update(tables.documents).values(state="to_file"))
        await uow.commit()
    card = await open_card(harness)
    assert "total: 117.00" in (card.caption or "") and "₪" not in (card.caption or "")
    assert "⚠️ currency: not read" in (card.caption or "")


async def test_choosing_the_organization_does_not_count_the_document_as_its_own_duplicate(
    harness: Harness,
) -> None:
    office_id, org_id = await harness.office_and_org()
    other = await scenario.organization(harness.app.uow_factory, office_id, name="Hummus Bros")
    await harness.join(DANA, org_id)
    await harness.join(DANA, other.id or 0)
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(update(tables.people).values(current_org_id=None))
        await uow.commit()
    ask = await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label="new")))
    assert "בחרו עסק" in (ask.text or "")
    chosen = await harness.edited(DANA, harness.api.click(DANA, ask, "Hummus Bros"), ask)
    text = chosen.text or ""
    assert "הועברו ל-Hummus Bros" in text and "מס' 1" in text
    assert "כבר נשלחו" not in text


async def test_income_is_shown_on_status_and_the_card_and_the_accountant_can_change_it(
    harness: Harness,
) -> None:
    await setup(harness)
    await harness.after(DANA, harness.api.send_photo(DANA, invoice(seed=3), caption="הכנסה"))
    await harness.after(DANA, read_queued(harness))
    status = await harness.say(DANA, "/status")
    assert "מתוכם הכנסות: 1" in (status.text or "")
    card = await open_card(harness)
    assert "Direction: income" in (card.caption or "")
    card = await harness.after(ALICE, harness.api.click(ALICE, card, "📥 Mark as expense"))
    assert "Direction: expense" in (card.caption or "")
    [row] = await documents(harness)
    assert row["direction"] == "expense"
    status = await harness.say(DANA, "/status")
    assert "הכנסות" not in (status.text or "")


async def test_documents_are_numbered_per_organization_and_albums_list_them(
    harness: Harness,
) -> None:
    _, org_id = await harness.office_and_org()
    _, other_id = await harness.office_and_org("Hummus Bros")
    john = TgUser(id=5_000_000_204, first_name="John", language_code="en")
    await harness.join(john, other_id)
    await harness.after(john, harness.api.send_photo(john, images.jpeg(label="a")))
    await harness.after(john, harness.api.send_photo(john, images.jpeg(label="b")))
    await harness.join(DANA, org_id)
    first = await harness.after(DANA, harness.api.send_photo(DANA, images.jpeg(label="c")))
    assert "מסמך מס' 1 עבור Falafel Ltd" in (first.text or "")
    parts = [AlbumItem(images.jpeg(label=f"page {n}")) for n in range(3)]
    album = await harness.after(DANA, harness.api.send_album(DANA, parts))
    assert "(מס' 2, 3, 4)" in (album.text or "")
    numbers = sorted((r["organization_id"], r["number"]) for r in await documents(harness))
    expected = [(org_id, n) for n in range(1, 5)] + [(other_id, 1), (other_id, 2)]
    assert numbers == sorted(expected)  # the numbers say nothing of another business's volume


async def test_locations_stickers_voice_and_video_are_each_answered_for_what_they_are(
    harness: Harness,
) -> None:
    await setup(harness)
    expected = {
        "location": "קיבלתי מיקום",
        "sticker": "מדבקה",
        "voice": "הודעות קוליות",
        "video": "מתוך סרטון",
    }
    for kind, words in expected.items():
        reply = await harness.after(DANA, harness.api.send_other(DANA, kind))
        assert words in (reply.text or ""), kind
        assert "PDF" in (reply.text or "") or "בטקסט" in (reply.text or "")  # what to send
    assert await documents(harness) == []
