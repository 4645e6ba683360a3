"""/deadlines and /filed end to end: the real bot over the local Bot API server."""

from __future__ import annotations

from sqlalchemy import select

from bot.scheduler import start_scheduler
from core.domain import FiledReport
from local_api.client import TgUser
from storage import tables
from tests.deadline_world import (
    ACCOUNTANT_CHAT,
    BIMONTHLY_CLIENT_CHAT,
    MONTHLY_CLIENT_CHAT,
    FakeClock,
    at,
    build,
)
from tests.e2e.harness import Harness

AVI = TgUser(id=ACCOUNTANT_CHAT, first_name="Avi", language_code="en")
DANA = TgUser(id=MONTHLY_CLIENT_CHAT, first_name="Dana", language_code="en")
YOSSI = TgUser(id=BIMONTHLY_CLIENT_CHAT, first_name="Yossi", language_code="en")


async def filed_reports(harness: Harness) -> list[tuple[int, str, str]]:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        rows = await uow.session.scalars(select(FiledReport))
        return [(r.organization_id, r.kind, r.period) for r in rows]


async def test_deadlines_shows_the_office_view_and_the_client_view(harness: Harness) -> None:
    await build(harness.app.uow_factory)
    harness.app.dispatcher.workflow_data["clock"] = FakeClock(at("2026-11-20 10:00"))
    office = (await harness.say(AVI, "/deadlines")).text or ""
    assert office.startswith("Coming due dates:")
    assert "Falafel Ltd (documents to file: 0):" in office
    assert "• VAT 11/2026: due 15 Dec 2026 – not filed" in office
    assert "• Salary withholding (102) 11/2026: due 16 Dec 2026 – not filed" in office
    assert "• VAT 10/2026: due 16 Nov 2026 – late, not filed" in office
    assert "Hummus Bros" in office
    client = (await harness.say(DANA, "/deadlines")).text or ""
    assert client.startswith("Your coming due dates:")
    assert (
        "• Falafel Ltd, VAT 11/2026: due 15 Dec 2026; please send documents by 10 Dec 2026"
        in client
    )
    assert "Hummus Bros" not in client and "10/2026" not in client  # past dates are not hers


async def test_filed_marks_a_report_tells_the_client_and_refuses_a_forged_press(
    harness: Harness,
) -> None:
    world = await build(harness.app.uow_factory)
    harness.app.dispatcher.workflow_data["clock"] = FakeClock(at("2026-12-08 12:00"))
    # A client forging the button gets nothing filed.
    own = await harness.say(DANA, "/filed")
    assert "no business where you can mark" in (own.text or "")
    forged = await harness.api.press_button(
        DANA, own.message_id, f"fd:{world.monthly_org}:vat:2026-11"
    )
    answer = await harness.api.wait_for_callback_answer(forged.callback_query_id or "")
    assert answer is not None and "not allowed" in answer["text"]
    assert await filed_reports(harness) == []

    choose = await harness.say(AVI, "/filed")
    assert [b["text"] for b in choose.buttons()] == ["Falafel Ltd", "Hummus Bros"]
    assert all(len(b["callback_data"].encode()) < 64 for b in choose.buttons())
    reports = await harness.edited(AVI, harness.api.click(AVI, choose, "Falafel Ltd"), choose)
    assert reports.text == "Falafel Ltd: which report was filed?"
    labels = [b["text"] for b in reports.buttons()]
    assert "VAT 11/2026 · 15 Dec 2026" in labels
    assert "Salary withholding (102) 11/2026 · 16 Dec 2026" in labels
    told = await harness.after(DANA, harness.api.click(AVI, reports, "VAT 11/2026 · 15 Dec 2026"))
    assert told.text == "The office filed the VAT report of Falafel Ltd for 11/2026 ✓"
    done = (await harness.api.messages(ACCOUNTANT_CHAT))[-1]
    assert done.text == "Marked as filed ✓ Falafel Ltd: VAT 11/2026."
    assert await filed_reports(harness) == [(world.monthly_org, "vat", "2026-11")]
    assert await harness.quiet(YOSSI) == []  # another organization's client hears nothing
    # Filed reports leave the list of reports to mark.
    again = await harness.say(AVI, "/filed")
    listed = await harness.edited(AVI, harness.api.click(AVI, again, "Falafel Ltd"), again)
    assert "VAT 11/2026 · 15 Dec 2026" not in [b["text"] for b in listed.buttons()]


async def test_the_scheduler_ticks_inside_the_bot_and_stops_with_it(harness: Harness) -> None:
    world = await build(harness.app.uow_factory)
    # 4.11.2026 09:00: the first reminder of the October reports, and the morning digest.
    harness.app.clock = FakeClock(at("2026-11-04 09:00"))
    for user in (AVI, DANA, YOSSI):
        await harness.api.add_chat(user)  # they pressed Start once
    task = start_scheduler(harness.app)
    harness.app.tasks.append(task)
    reminder = await harness.api.wait_for_messages(DANA.id, 1, timeout=10)
    digest = await harness.api.wait_for_messages(AVI.id, 1, timeout=10)
    assert "Falafel Ltd" in (reminder[0].text or "") and "10/2026" in (reminder[0].text or "")
    assert (digest[0].text or "").startswith("Good morning!")
    assert not task.done()
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        keys = set(await uow.session.scalars(select(tables.sent_notices.c.key)))
    assert f"d:{world.accountant}:{world.office_id}:2026-11-04" in keys
