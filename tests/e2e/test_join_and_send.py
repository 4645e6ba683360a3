"""A client joins by link and sends receipts, end to end over HTTP."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select, update

from core.domain import DocumentState, JobState
from local_api.client import AlbumItem, TgUser
from storage import tables
from tests import images
from tests.e2e.harness import Harness

DANA = TgUser(id=5_000_000_001, first_name="Dana", language_code="he")
JOHN = TgUser(id=5_000_000_002, first_name="John", language_code="en")


async def documents(harness: Harness) -> list[dict[str, object]]:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        rows = await uow.session.execute(
            select(tables.documents).order_by(tables.documents.c.source_message_id)
        )
        return [dict(row._mapping) for row in rows]


async def test_start_without_a_token_explains_how_to_get_an_invite(harness: Harness) -> None:
    hebrew = await harness.say(DANA, "/start")
    english = await harness.say(JOHN, "/start")
    assert "קישור הזמנה" in (hebrew.text or "")
    assert "invite link" in (english.text or "")


async def test_a_client_joins_by_link_and_a_photo_is_stored_and_queued(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    joined = await harness.join(DANA, org_id)
    assert "Falafel Ltd" in (joined.text or "")
    photo = images.jpeg(label="receipt 1")
    reply = await harness.after(DANA, harness.api.send_photo(DANA, photo))
    assert "התקבל" in (reply.text or "") and "Falafel Ltd" in (reply.text or "")
    [row] = await documents(harness)
    assert row["organization_id"] == org_id and row["state"] == "received"
    sha = hashlib.sha256(photo).hexdigest()
    assert harness.app.files.path(sha).read_bytes() == photo
    async with harness.app.uow_factory() as uow:
        [job] = await uow.jobs.for_document(int(row["id"]))  # type: ignore[call-overload]
        assert job.state is JobState.QUEUED


async def test_an_album_of_three_gets_one_reply_and_three_documents(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(JOHN, org_id)
    parts = [AlbumItem(images.jpeg(label=f"page {n}")) for n in range(3)]
    reply = await harness.after(JOHN, harness.api.send_album(JOHN, parts))
    assert "Received 3 documents" in (reply.text or "")
    assert await harness.quiet(JOHN) == []  # one reply for the whole album
    rows = await documents(harness)
    assert len(rows) == 3 and len({r["batch"] for r in rows}) == 1
    # Joining them as pages of one document.
    join = await harness.edited(
        JOHN, harness.api.click(JOHN, reply, "These are pages of one document"), reply
    )
    assert "3 pages" in (join.text or "")
    rows = await documents(harness)
    assert [r["state"] for r in rows] == ["received", "merged", "merged"]
    async with harness.app.uow_factory() as uow:
        pages = await uow.documents.files(int(rows[0]["id"]))  # type: ignore[call-overload]
        assert [p.page_order for p in pages] == [0, 1, 2]


async def test_a_pdf_document_is_stored(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(JOHN, org_id)
    pdf = images.pdf(pages=2)
    reply = await harness.after(
        JOHN,
        harness.api.send_document(JOHN, pdf, file_name="invoice.pdf", mime_type="application/pdf"),
    )
    assert "Received ✓" in (reply.text or "")
    [row] = await documents(harness)
    async with harness.app.uow_factory() as uow:
        [stored] = await uow.documents.files(int(row["id"]))  # type: ignore[call-overload]
        assert stored.mime_type == "application/pdf" and stored.original_name == "invoice.pdf"
        assert await harness.app.files.get(stored.sha256) == pdf


async def test_the_same_update_delivered_twice_makes_one_document(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(JOHN, org_id)
    sent = await harness.api.send_photo(JOHN, images.png())
    await harness.api.wait_for_messages(JOHN.id, 2, timeout=10)
    await harness.api.redeliver(sent.update_id)
    assert await harness.quiet(JOHN, 1.0) == []
    assert len(await documents(harness)) == 1


async def test_the_same_file_sent_twice_is_flagged_as_a_duplicate(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(JOHN, org_id)
    photo = images.jpeg(label="same")
    await harness.after(JOHN, harness.api.send_photo(JOHN, photo))
    again = await harness.after(JOHN, harness.api.send_photo(JOHN, photo))
    assert "already sent" in (again.text or "")
    rows = await documents(harness)
    assert [r["state"] for r in rows] == ["received", "duplicate"]
    assert rows[1]["duplicate_of_id"] == rows[0]["id"]
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        jobs = await uow.session.scalar(select(func.count()).select_from(tables.jobs))
        assert jobs == 1


async def test_a_client_of_two_organizations_is_asked_and_the_choice_is_remembered(
    harness: Harness,
) -> None:
    _, first = await harness.office_and_org("Alpha Ltd")
    _, second = await harness.office_and_org("Beta Ltd")
    await harness.join(JOHN, first)
    await harness.join(JOHN, second)
    # Joining remembers the organization just joined; let that memory run out.
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        await uow.session.execute(update(tables.people).values(current_org_at=None))
        await uow.commit()
    question = await harness.after(JOHN, harness.api.send_photo(JOHN, images.png(label="a")))
    assert "Which business" in (question.text or "")
    assert {b["text"] for b in question.buttons()} == {"Alpha Ltd", "Beta Ltd"}
    done = await harness.edited(JOHN, harness.api.click(JOHN, question, "Beta Ltd"), question)
    assert "Beta Ltd" in (done.text or "") and done.buttons() == []
    [row] = await documents(harness)
    assert row["organization_id"] == second and row["state"] == "received"
    # The next photo goes to the same organization without asking.
    follow = await harness.after(JOHN, harness.api.send_photo(JOHN, images.png(label="b")))
    assert "Beta Ltd" in (follow.text or "")


async def test_a_stranger_is_told_how_to_join_and_nothing_is_stored(harness: Harness) -> None:
    reply = await harness.after(DANA, harness.api.send_photo(DANA, images.png()))
    assert "קישור הזמנה" in (reply.text or "")
    assert await documents(harness) == []
    assert not harness.app.files.root.exists() or not any(harness.app.files.root.rglob("*"))


async def test_status_and_language(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(DANA, org_id)
    await harness.after(DANA, harness.api.send_photo(DANA, images.png()))
    status = await harness.say(DANA, "/status")
    assert "Falafel Ltd" in (status.text or "") and "1" in (status.text or "")
    menu = await harness.say(DANA, "/lang")
    await harness.edited(DANA, harness.api.click(DANA, menu, "English"), menu)
    english = await harness.say(DANA, "/status")
    assert "Your documents this month" in (english.text or "")


async def test_expired_used_and_unknown_invites_are_explained(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    expired = await harness.invite_token(org_id, ttl=timedelta(seconds=-1))
    assert "expired" in ((await harness.say(JOHN, f"/start {expired}")).text or "")
    token = await harness.invite_token(org_id)
    await harness.say(JOHN, f"/start {token}")
    assert "already been used" in (
        (
            await harness.say(
                TgUser(id=77, first_name="Eve", language_code="en"), f"/start {token}"
            )
        ).text
        or ""
    )
    unknown = await harness.say(JOHN, "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert "don't recognise" in (unknown.text or "")


async def test_income_caption_and_button(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(JOHN, org_id)
    captioned = await harness.after(
        JOHN, harness.api.send_photo(JOHN, images.png(label="i"), caption="income")
    )
    assert "marked as income" in (captioned.text or "")
    plain = await harness.after(JOHN, harness.api.send_photo(JOHN, images.png(label="e")))
    press = await harness.api.click(JOHN, plain, "This is income (an invoice I issued)")
    answer = await harness.api.wait_for_callback_answer(press.callback_query_id or "")
    assert answer is not None and "income" in (answer.get("text") or "")
    rows = await documents(harness)
    assert [r["direction"] for r in rows] == ["income", "income"]
    assert all(r["state"] == DocumentState.RECEIVED.value for r in rows)


async def test_a_photo_sent_right_after_the_invite_lands_in_the_organization(
    harness: Harness,
) -> None:
    _, org_id = await harness.office_and_org()
    token = await harness.invite_token(org_id)
    # Both updates are waiting when the bot polls: one chat's updates keep their order.
    await harness.stop_polling()
    await harness.api.send_text(JOHN, f"/start {token}")
    await harness.api.send_photo(JOHN, images.png(label="right away"))
    harness.start_polling()
    messages = await harness.api.wait_for_messages(JOHN.id, 2, timeout=10)
    assert "joined" in (messages[0].text or "")
    assert "Received ✓" in (messages[1].text or "")
    [row] = await documents(harness)
    assert row["organization_id"] == org_id
