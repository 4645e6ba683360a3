"""/duedate and /schedule end to end: the real bot over the local Bot API server."""

from __future__ import annotations

from local_api.client import TgUser
from tests.deadline_world import ACCOUNTANT_CHAT, MONTHLY_CLIENT_CHAT, FakeClock, at, build
from tests.e2e.harness import Harness

AVI = TgUser(id=ACCOUNTANT_CHAT, first_name="Avi", language_code="en")
DANA = TgUser(id=MONTHLY_CLIENT_CHAT, first_name="Dana", language_code="en")


async def test_an_accountant_moves_a_due_date_and_deadlines_shows_it(harness: Harness) -> None:
    await build(harness.app.uow_factory)
    harness.app.dispatcher.workflow_data["clock"] = FakeClock(at("2026-11-20 10:00"))
    refused = await harness.say(DANA, "/duedate")
    assert "no business where you can set due dates" in (refused.text or "")
    choose = await harness.say(AVI, "/duedate")
    assert [b["text"] for b in choose.buttons()] == ["Falafel Ltd", "Hummus Bros"]
    kinds = await harness.edited(AVI, harness.api.click(AVI, choose, "Falafel Ltd"), choose)
    assert "VAT" in [b["text"] for b in kinds.buttons()]
    periods = await harness.edited(AVI, harness.api.click(AVI, kinds, "VAT"), kinds)
    labels = [b["text"] for b in periods.buttons()]
    assert "11/2026 · 15 Dec 2026" in labels
    assert all(len(b["callback_data"].encode()) < 64 for b in periods.buttons())
    asked = await harness.edited(
        AVI, harness.api.click(AVI, periods, "11/2026 · 15 Dec 2026"), periods
    )
    assert "Type the new due date" in (asked.text or "")
    invalid = await harness.say(AVI, "31.02.2026")
    assert invalid.text is not None and invalid.text.startswith("That is not a date")
    done = await harness.say(AVI, "24.12.26")
    assert done.text == "Due date set ✓ Falafel Ltd: VAT 11/2026 is now due 24 Dec 2026."
    office = (await harness.say(AVI, "/deadlines")).text or ""
    assert "• VAT 11/2026: due 24 Dec 2026 – not filed" in office
    assert "• VAT 11/2026: due 15 Dec 2026" not in office


async def test_the_owner_changes_the_cutoff_and_the_quiet_hours(harness: Harness) -> None:
    await build(harness.app.uow_factory)
    refused = await harness.say(DANA, "/schedule")
    assert "Only the office's owner" in (refused.text or "")
    shown = await harness.say(AVI, "/schedule")
    assert "5 days before each due date" in (shown.text or "")
    assert "from 21:00 to 08:00" in (shown.text or "")
    asked = await harness.edited(
        AVI, harness.api.click(AVI, shown, "Change the documents deadline"), shown
    )
    changed = await harness.edited(AVI, harness.api.click(AVI, asked, "7 days"), asked)
    assert "7 days before each due date" in (changed.text or "")
    quiet = await harness.edited(
        AVI, harness.api.click(AVI, changed, "Change the quiet hours"), changed
    )
    assert "21:00-08:00" in (quiet.text or "")
    bad = await harness.say(AVI, "25:00-08:00")
    assert (bad.text or "").startswith("Please type the quiet hours")
    saved = await harness.say(AVI, "22:00-7:30")
    assert (saved.text or "").startswith("Saved ✓")
    assert "from 22:00 to 07:30" in (saved.text or "")
    assert "7 days before each due date" in (saved.text or "")
