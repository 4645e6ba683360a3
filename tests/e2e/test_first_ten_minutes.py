"""A client's and an accountant's first ten minutes, in Hebrew, as the bot writes them.

Run with `-s` to see the transcript (issue 11 asks for it in the report).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import invites
from core.domain import InviteKind, OfficeRole
from local_api.client import AlbumItem, ChatMessage, TgUser
from tests import images
from tests.core.test_chat_language import SLASH_FORMS
from tests.deadline_world import FakeClock, at
from tests.e2e.harness import Harness
from tests.e2e.test_chat_flows import invoice, read_queued, use_clock

CLIENT = TgUser(id=5_000_000_301, first_name="דנה", language_code="he")
ACCOUNTANT = TgUser(id=5_000_000_302, first_name="אבי", language_code="he")


def transcript(name: str, messages: list[ChatMessage]) -> str:
    lines = [f"=== {name} ==="]
    for message in messages:
        who = "בוט" if message.from_bot else name
        body = message.text or message.caption or f"[{message.kind}]"
        if message.deleted:
            body += "  [נמחקה]"
        lines.append(f"{who}: {body}")
        buttons = [b["text"] for b in message.buttons()]
        if buttons:
            lines.append("    [" + "] [".join(buttons) + "]")
    return "\n".join(lines)


async def test_the_first_ten_minutes_in_hebrew(harness: Harness) -> None:
    if harness.app.settings.database.url.startswith("postgresql"):
        pytest.skip("a transcript, not a database check: once is enough")
    use_clock(harness, FakeClock(at("2026-11-24 10:00")))
    office_id, org_id = await harness.office_and_org()
    async with harness.app.uow_factory() as uow:
        issued = await invites.issue(
            uow,
            kind=InviteKind.OFFICE_MEMBER,
            office_id=office_id,
            role=OfficeRole.STAFF,
            now=datetime.now(UTC),
            ttl=timedelta(days=7),
        )
        await uow.commit()
    api = harness.api
    # The accountant joins the office.
    await harness.say(ACCOUNTANT, f"/start {issued.token}")
    await harness.say(ACCOUNTANT, "/help")
    # The client joins, asks for help and sends an invoice, an album and a sticker.
    await harness.join(CLIENT, org_id)
    await harness.say(CLIENT, "/help")
    await harness.after(CLIENT, api.send_photo(CLIENT, invoice(seed=1)))
    await harness.after(CLIENT, read_queued(harness))
    parts = [AlbumItem(images.jpeg(label=f"page {n}")) for n in range(2)]
    await harness.after(CLIENT, api.send_album(CLIENT, parts))
    await harness.after(CLIENT, api.send_other(CLIENT, "sticker"))
    # The accountant files: the first document goes back with a note.
    report = await harness.say(ACCOUNTANT, "/tofile")
    card = await harness.after(
        ACCOUNTANT, api.click(ACCOUNTANT, report, report.buttons()[0]["text"])
    )
    await harness.edited(ACCOUNTANT, api.click(ACCOUNTANT, card, "↩️ החזרה ללקוח"), card)
    card = next(m for m in await api.messages(ACCOUNTANT.id) if m.message_id == card.message_id)
    await harness.after(ACCOUNTANT, api.click(ACCOUNTANT, card, "נדרשת הבהרה"))
    await harness.after(ACCOUNTANT, api.send_text(ACCOUNTANT, "זו החשבונית של הרכב?"), count=2)
    returned = next(m for m in reversed(await api.messages(CLIENT.id)) if m.caption)
    # The client answers with a new photo; the accountant hears of it, it is read again.
    await harness.after(
        ACCOUNTANT, api.send_photo(CLIENT, invoice(seed=5), reply_to=returned.message_id)
    )
    await harness.after(CLIENT, read_queued(harness))
    await harness.say(CLIENT, "/status")
    # Reading the other two (pictures without text) ends in retake requests.
    report = await harness.say(ACCOUNTANT, "/tofile")
    card = await harness.after(
        ACCOUNTANT, api.click(ACCOUNTANT, report, report.buttons()[0]["text"])
    )
    await harness.after(ACCOUNTANT, api.click(ACCOUNTANT, card, "✅ אישור"))

    client = await api.messages(CLIENT.id, include_user=True)
    office = await api.messages(ACCOUNTANT.id, include_user=True)
    print("\n" + transcript("דנה (לקוחה)", client) + "\n\n" + transcript("אבי (משרד)", office))
    everything = "\n".join((m.text or m.caption or "") for m in client + office if m.from_bot)
    assert not SLASH_FORMS.search(everything)  # one register: "שלחו", never "שלח/י"
    assert "ל-Falafel Ltd" in everything
    assert "מה השתנה" in everything
