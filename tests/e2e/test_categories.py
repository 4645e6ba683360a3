"""/categories end to end: the office's chart of categories and deductible VAT shares, its
managers changing a share, and everyone else seeing it read-only. Over HTTP."""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import select

from core import review
from core.categories import DEFAULT_CHART
from core.domain import OfficeMember, OfficeRole
from handlers.callbacks import CategoryAct
from handlers.texts import Texts
from local_api.client import ChatMessage, TgUser
from storage import tables
from tests import scenario
from tests.e2e.harness import Harness

RACHEL = TgUser(id=7_000_000_001, first_name="Rachel", language_code="en")  # owner
ALICE = TgUser(id=7_000_000_002, first_name="Alice", language_code="he")  # staff
EVE = TgUser(id=7_000_000_003, first_name="Eve", language_code="en")  # another office's owner


async def member(
    harness: Harness, user: TgUser, office_id: int, role: OfficeRole, *, new: bool = True
) -> int:
    uow_factory = harness.app.uow_factory
    if new:
        person = await scenario.person(
            uow_factory, user.id, user.first_name, user.language_code or "he"
        )
        person_id = person.id or 0
    else:
        async with uow_factory() as uow:
            found = await uow.people.by_identity("telegram", user.id)
            assert found is not None
            person_id = found[0].id or 0
    async with uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=office_id, person_id=person_id, role=role)
        )
        await uow.commit()
    return person_id


async def two_offices(harness: Harness) -> tuple[int, int]:
    """Cohen CPA (Rachel owner, Alice staff) and Levi CPA (Eve owner)."""
    office = await scenario.office(harness.app.uow_factory, "Cohen CPA")
    other = await scenario.office(harness.app.uow_factory, "Levi CPA")
    await member(harness, RACHEL, office.id or 0, OfficeRole.OWNER)
    await member(harness, ALICE, office.id or 0, OfficeRole.STAFF)
    await member(harness, EVE, other.id or 0, OfficeRole.OWNER)
    return office.id or 0, other.id or 0


async def chart(harness: Harness, office_id: int) -> dict[str, Fraction]:
    async with harness.app.uow_factory() as uow:
        return await review.office_chart(uow, office_id)


async def saved_shares(harness: Harness, office_id: int) -> dict[str, Fraction]:
    """What the office itself stored, without the defaults."""
    async with harness.app.uow_factory() as uow:
        return await uow.categories.office_shares(office_id)


async def share_changes(harness: Harness) -> list[dict[str, object]]:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        a = tables.audit_log.c
        rows = await uow.session.execute(
            select(a.details).where(a.action == "office.category_share_set").order_by(a.id)
        )
        return [dict(details) for (details,) in rows]


async def latest(harness: Harness, user: TgUser, message: ChatMessage) -> ChatMessage:
    return next(
        m for m in await harness.api.messages(user.id) if m.message_id == message.message_id
    )


async def forged(harness: Harness, user: TgUser, message: ChatMessage, data: str) -> str:
    """Presses a button the user was never shown; the text of the bot's answer."""
    pressed = await harness.api.press_button(user, message.message_id, data)
    answer = await harness.api.wait_for_callback_answer(pressed.callback_query_id or "")
    assert answer is not None
    return str(answer.get("text", ""))


async def test_the_owner_changes_the_fuel_share_and_puts_it_back(harness: Harness) -> None:
    office_id, _ = await two_offices(harness)
    shown = await harness.say(RACHEL, "/categories")
    text = shown.text or ""
    assert text.startswith("Cohen CPA: expense categories")
    assert (
        "• Fuel: 2/3" in text and "• Rent: 100%" in text and "• Meals and hospitality: 0" in text
    )
    assert "✏️" not in text
    labels = [b["text"] for b in shown.buttons()]
    assert len(labels) == len(DEFAULT_CHART) and "Fuel · 2/3" in labels
    assert all(len(b["callback_data"].encode()) < 64 for b in shown.buttons())

    asked = await harness.edited(RACHEL, harness.api.click(RACHEL, shown, "Fuel · 2/3"), shown)
    assert "Fuel: now 2/3 (default: 2/3)" in (asked.text or "")
    assert [b["text"] for b in asked.buttons()] == ["« Back to the chart"]  # nothing to reset
    done = await harness.say(RACHEL, "1/2")
    assert (done.text or "").startswith("Saved ✓ Fuel: 1/2")
    assert "• Fuel: 1/2 ✏️ (default: 2/3)" in (done.text or "")
    assert "• Vehicle: 2/3\n" in (done.text or "")  # the others stay as they were
    assert (await chart(harness, office_id))["fuel"] == Fraction(1, 2)
    assert await saved_shares(harness, office_id) == {"fuel": Fraction(1, 2)}
    assert await share_changes(harness) == [
        {"office": office_id, "category": "fuel", "share": "1/2"}
    ]

    # A fresh /categories shows the change too; then back to the default with one button.
    again = await harness.say(RACHEL, "/categories")
    assert "• Fuel: 1/2 ✏️ (default: 2/3)" in (again.text or "")
    asked = await harness.edited(RACHEL, harness.api.click(RACHEL, again, "Fuel · 1/2"), again)
    reset = await harness.edited(
        RACHEL, harness.api.click(RACHEL, asked, "Back to the default (2/3)"), asked
    )
    assert (reset.text or "").startswith("Fuel is back to the default: 2/3.")
    assert "• Fuel: 2/3\n" in (reset.text or "") and "✏️" not in (reset.text or "")
    assert (await chart(harness, office_id))["fuel"] == Fraction(2, 3)
    assert await saved_shares(harness, office_id) == {}  # no override left behind
    assert len(await share_changes(harness)) == 2


async def test_an_invalid_share_is_explained_and_changes_nothing(harness: Harness) -> None:
    office_id, _ = await two_offices(harness)
    shown = await harness.say(RACHEL, "/categories")
    await harness.edited(RACHEL, harness.api.click(RACHEL, shown, "Fuel · 2/3"), shown)
    for wrong in ("3/2", "150%", "half", "1/0", "-1"):
        answer = await harness.say(RACHEL, wrong)
        assert (answer.text or "").startswith(
            "The deductible VAT share is a fraction between 0 and 1"
        ), wrong
        assert "Type it again" in (answer.text or "")
    assert await saved_shares(harness, office_id) == {}
    assert await share_changes(harness) == []
    # Still asking: the next, right answer (a percentage) is taken.
    done = await harness.say(RACHEL, "66.67%")
    assert (done.text or "").startswith("Saved ✓ Fuel: 2/3")
    assert await saved_shares(harness, office_id) == {}  # the default: nothing to override
    assert len(await share_changes(harness)) == 1
    # /cancel leaves the question: text typed afterwards changes nothing.
    shown = await harness.say(RACHEL, "/categories")
    await harness.edited(RACHEL, harness.api.click(RACHEL, shown, "Rent · 100%"), shown)
    await harness.say(RACHEL, "/cancel")
    await harness.say(RACHEL, "0")
    assert await saved_shares(harness, office_id) == {}
    assert len(await share_changes(harness)) == 1


async def test_a_staff_accountant_sees_it_read_only_and_a_forged_press_changes_nothing(
    harness: Harness,
) -> None:
    office_id, _ = await two_offices(harness)
    shown = await harness.say(ALICE, "/categories")
    text = shown.text or ""
    assert "Cohen CPA: קטגוריות הוצאה" in text
    assert "• דלק: 2/3" in text and "• שכירות: 100%" in text
    assert "רק הבעלים של המשרד או מנהל" in text
    assert shown.buttons() == []

    for data in (
        CategoryAct(office=office_id, a="pk", c="fuel").pack(),
        CategoryAct(office=office_id, a="rs", c="meals").pack(),
    ):
        assert await forged(harness, ALICE, shown, data) == Texts("he")("error.not_allowed")
    # The refused pick opened no question: a typed share goes nowhere.
    await harness.say(ALICE, "1/2")
    assert await saved_shares(harness, office_id) == {}
    assert await share_changes(harness) == []


async def test_another_office_cannot_see_or_change_this_chart(harness: Harness) -> None:
    office_id, other_id = await two_offices(harness)
    own = await harness.say(EVE, "/categories")
    assert (own.text or "").startswith("Levi CPA: expense categories")
    refused = Texts("en")("error.not_allowed")
    for data in (
        CategoryAct(office=office_id).pack(),
        CategoryAct(office=office_id, a="pk", c="fuel").pack(),
        CategoryAct(office=office_id, a="rs", c="fuel").pack(),
    ):
        assert await forged(harness, EVE, own, data) == refused
    assert (await latest(harness, EVE, own)).text == own.text  # nothing of Cohen CPA shown
    # Eve's change to her own office stays there.
    asked = await harness.edited(EVE, harness.api.click(EVE, own, "Fuel · 2/3"), own)
    assert "Fuel: now 2/3" in (asked.text or "")
    await harness.say(EVE, "0")
    assert await saved_shares(harness, other_id) == {"fuel": Fraction(0)}
    assert await saved_shares(harness, office_id) == {}
    assert (await chart(harness, office_id))["fuel"] == Fraction(2, 3)


async def test_a_member_of_two_offices_picks_the_office_first(harness: Harness) -> None:
    _, other_id = await two_offices(harness)
    await member(harness, RACHEL, other_id, OfficeRole.STAFF, new=False)
    choose = await harness.say(RACHEL, "/categories")
    assert choose.text == "Which office's categories?"
    assert [b["text"] for b in choose.buttons()] == ["Cohen CPA", "Levi CPA"]
    levi = await harness.edited(RACHEL, harness.api.click(RACHEL, choose, "Levi CPA"), choose)
    assert (levi.text or "").startswith("Levi CPA: expense categories")
    assert levi.buttons() == []  # staff there: read-only
    shown = await harness.say(RACHEL, "/categories")
    cohen = await harness.edited(RACHEL, harness.api.click(RACHEL, shown, "Cohen CPA"), shown)
    assert "Fuel · 2/3" in [b["text"] for b in cohen.buttons()]  # owner here
    forged_text = await forged(
        harness, RACHEL, cohen, CategoryAct(office=other_id, a="pk", c="fuel").pack()
    )
    assert forged_text == Texts("en")("error.not_allowed")
    assert await saved_shares(harness, other_id) == {}


async def test_a_double_tap_on_back_to_the_chart_is_harmless(harness: Harness) -> None:
    office_id, _ = await two_offices(harness)
    shown = await harness.say(RACHEL, "/categories")
    # "Back to the chart" on the chart itself asks for the very same edit, as a second tap
    # does: Telegram refuses it as "not modified".
    pressed = await harness.api.press_button(
        RACHEL, shown.message_id, CategoryAct(office=office_id).pack()
    )
    answer = await harness.api.wait_for_callback_answer(pressed.callback_query_id or "")
    assert answer is not None and not answer.get("text")  # answered, with no error shown
    assert await harness.quiet(RACHEL) == []  # and no error message either
    refused = [c for c in await harness.api.calls("editMessageText") if c.status == 400]
    assert refused  # the edit really was refused as not modified
    current = next(
        m for m in await harness.api.messages(RACHEL.id) if m.message_id == shown.message_id
    )
    assert current.text == shown.text
