"""A return to a client who only e-mails goes by e-mail; their e-mailed reply answers it,
with a file or with words, and the accountant hears of it as from the chat."""

from __future__ import annotations

import asyncio
import re
from email.message import Message

from sqlalchemy import update

from bot.mailer import SmtpMailer
from core.domain import Document, DocumentState, StoredFile
from local_api.client import TgUser
from storage import tables
from tests import images
from tests.deadline_world import FakeClock, at
from tests.e2e.test_chat_flows import use_clock
from tests.e2e.test_review import accountant, latest
from tests.mail.world import CLIENT_DOMAIN, MailWorld, message, signed

DANA_MAIL = f"dana@{CLIENT_DOMAIN}"
ALICE = TgUser(id=7_300_000_001, first_name="Alice", language_code="en")


async def _reply(world: MailWorld, count: int) -> Message:
    for _ in range(200):
        if len(world.replies.messages) >= count:
            return world.replies.messages[count - 1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no e-mail #{count}: {len(world.replies.messages)} sent")


async def _document(
    world: MailWorld, doc_id: int
) -> tuple[DocumentState, Document, list[StoredFile]]:
    async with world.uow_factory() as uow:
        document = await uow.documents.get(doc_id)
        assert document is not None
        return document.state, document, await uow.documents.files(doc_id)


async def test_a_return_reaches_an_email_only_client_by_email_and_their_reply_answers_it(
    world: MailWorld,
) -> None:
    h = world.harness
    # Office hours (a Tuesday morning): the accountant is told at once.
    use_clock(h, FakeClock(at("2026-11-24 10:00")))
    office_id, org_id = await h.office_and_org()
    async with world.uow_factory() as uow:
        organization = await uow.organizations.get(org_id)
        assert organization is not None
        organization.email = DANA_MAIL  # invited by e-mail; no Telegram chat
        await uow.commit()
    address = await world.address(org_id)
    await accountant(h, ALICE, office_id)
    # The bot's own mailer sends to the same real SMTP sink the mail replies go to.
    mailer = h.app.dispatcher["mailer"]
    assert isinstance(mailer, SmtpMailer) and world.notices.mailer is not None
    mailer.settings = world.notices.mailer.settings  # type: ignore[attr-defined]

    photo = images.jpeg(600, 800, "blurry")
    first = message(
        sender=DANA_MAIL,
        to=address,
        subject="Taxi receipt",
        attachments=[("taxi.jpg", photo, "image/jpeg")],
    )
    await world.send(signed(first), DANA_MAIL, address)
    await world.settle()
    [row] = await world.documents(org_id)
    doc_id = row.id
    await _reply(world, 1)  # "1 document received"
    async with world.uow_factory() as uow:
        await uow.session.execute(
            update(tables.documents)
            .where(tables.documents.c.id == doc_id)
            .values(state="to_file", kind="receipt", fields={})
        )
        await uow.commit()

    # The accountant returns it with a note, in the chat as always.
    report = await h.say(ALICE, "/tofile")
    card = await h.after(ALICE, h.api.click(ALICE, report, "Falafel Ltd (1)"))
    await h.edited(ALICE, h.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(h, ALICE, card)
    await h.after(ALICE, h.api.click(ALICE, card, "The document is unreadable"))
    await h.say(ALICE, "The date is cut off")
    assert (await _document(world, doc_id))[0] is DocumentState.RETURNED

    # Dana has no chat: the return reaches her by e-mail, in the office's language (Hebrew),
    # with the reason, the note, the document itself, and the organization's address to
    # reply to.
    returned = await _reply(world, 2)
    assert returned["To"] == DANA_MAIL and returned["Reply-To"] == address
    assert "Taxi receipt" in str(returned["Subject"])
    body = returned.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert "המשרד החזיר את מסמך מס'" in body and "המסמך אינו קריא" in body
    assert "הערה: The date is cut off" in body and address in body
    [attached] = list(returned.iter_attachments())  # type: ignore[attr-defined]
    assert attached.get_content() == photo and attached.get_filename() == "taxi.jpg"
    return_id = str(returned["Message-ID"])
    assert re.match(rf"<tayuk-return-{doc_id}-[0-9a-f]{{12}}@", return_id)

    # Her reply, with a sharper photo, joins the same document as a chat answer does.
    sharper = images.jpeg(600, 800, "sharper")
    answer = message(
        sender=DANA_MAIL,
        to=address,
        subject=f"Re: {returned['Subject']}",
        attachments=[("taxi-2.jpg", sharper, "image/jpeg")],
    )
    answer["In-Reply-To"] = return_id
    answer["References"] = return_id
    await world.send(signed(answer), DANA_MAIL, address)
    await world.settle()
    state, document, pages = await _document(world, doc_id)
    assert state is DocumentState.RECEIVED and document.answered is True
    assert [p.original_name for p in pages] == ["taxi.jpg", "taxi-2.jpg"]
    assert {d.id for d in await world.documents(org_id)} == {doc_id}  # no new document
    thanks = (await _reply(world, 3)).get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert "הצילום החדש צורף למסמך מס'" in thanks
    [_, done] = await world.mails()
    assert done.state == "done" and done.documents == 1
    # Alice hears of the answer in her chat, as when a client answers there.
    told = (await h.api.messages(ALICE.id))[-1]
    assert f"{DANA_MAIL} answered document #" in (told.text or "")

    # Returned again, Dana answers with words only: what she wrote above the quote is the
    # answer, as a text in the chat is.
    async with world.uow_factory() as uow:
        await uow.session.execute(
            update(tables.documents).where(tables.documents.c.id == doc_id).values(state="to_file")
        )
        await uow.commit()
    report = await h.say(ALICE, "/tofile")
    card = await h.after(ALICE, h.api.click(ALICE, report, "Falafel Ltd (1)"))
    await h.edited(ALICE, h.api.click(ALICE, card, "↩️ Return"), card)
    card = await latest(h, ALICE, card)
    await h.after(ALICE, h.api.click(ALICE, card, "Needs clarification"))
    card = await latest(h, ALICE, card)
    await h.after(ALICE, h.api.click(ALICE, card, "No note"))
    again = await _reply(world, 4)
    words = message(
        sender=DANA_MAIL,
        to=address,
        subject=f"Re: {again['Subject']}",
        body=f"It was a taxi to the client.\n\nOn Mon, Tayuk <{address}> wrote:\n> returned",
    )
    words["In-Reply-To"] = str(again["Message-ID"])
    await world.send(signed(words), DANA_MAIL, address)
    await world.settle()
    state, document, pages = await _document(world, doc_id)
    assert state is DocumentState.TO_FILE and len(pages) == 2
    assert document.answers[-1].text == "It was a taxi to the client."
    thanks = (await _reply(world, 5)).get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert "התשובה צורפה למסמך מס'" in thanks
    told = (await h.api.messages(ALICE.id))[-1]
    assert f"{DANA_MAIL} answered document #" in (told.text or "")
    assert {d.id for d in await world.documents(org_id)} == {doc_id}
