"""Expected documents end to end (issue 17): a vendor billing every month is recognised from
the organization's history; last month's missing invoice is listed for the office and for
the client, who answers "there is none this month" with one tap."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.local_api.client import TgUser
from core import expected
from core.domain import Document, DocumentKind, DocumentState, OfficeRole
from storage import tables
from tests.e2e import smart_world
from tests.e2e.harness import Harness
from tests.e2e.smart_world import buttons

DANA = TgUser(id=5_000_017_301, first_name="Dana", language_code="en")
RACHEL = TgUser(id=5_000_017_302, first_name="Rachel", language_code="en")


async def test_a_missing_monthly_invoice_is_listed_and_the_client_says_none(
    harness: Harness,
) -> None:
    office_id, org_id = await harness.office_and_org("Falafel Ltd")
    await smart_world.staff(harness, RACHEL, office_id, OfficeRole.STAFF)
    await harness.join(DANA, org_id)
    now = datetime.now(UTC)
    period = expected.previous_month(now.date())
    before = expected._months_before(period, 4)
    async with harness.app.uow_factory() as uow:
        found = await uow.people.by_identity("telegram", DANA.id)
        assert found is not None
        bills = [("Bezeq", "520000029", m) for m in before]  # monthly, not last month
        bills += [("Azrieli", "513000004", m) for m in [period, *before[:3]]]  # arrived
        bills += [("Paz Ltd", "510000003", before[0])]  # once: not expected
        for n, (name, number, month) in enumerate(bills):
            await uow.documents.add(
                Document(
                    uploaded_by=found[0].id or 0,
                    batch=f"x{n}",
                    source_platform="telegram",
                    source_chat_id=DANA.id,
                    source_message_id=800_000 + n,
                    organization_id=org_id,
                    kind=DocumentKind.TAX_INVOICE,
                    state=DocumentState.FILED,
                    fields={
                        "vendor_name": {"value": name, "confidence": 1.0},
                        "vendor_id": {"value": number, "confidence": 1.0},
                        "date": {"value": f"{month}-15", "confidence": 1.0},
                    },
                    created_at=now,
                    read_at=now,
                )
            )
        await uow.commit()

    office = await harness.say(RACHEL, "/expected")
    assert "Falafel Ltd: nothing yet from Bezeq" in (office.text or "")
    assert "Azrieli" not in (office.text or "") and "Paz" not in (office.text or "")

    client = await harness.say(DANA, "/expected")
    month = expected_month(period)
    assert f"We have no invoice from Bezeq for {month} yet." in (client.text or "")
    assert buttons(client) == ["There is none from Bezeq this month"]
    client = await harness.edited(
        DANA, harness.api.click(DANA, client, "There is none from Bezeq this month"), client
    )
    assert f"Every expected invoice for {month} has arrived." in (client.text or "")

    office = await harness.say(RACHEL, "/expected")
    assert "Bezeq" not in (office.text or "")
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        a = tables.audit_log.c
        said = (
            await uow.session.execute(
                select(a.actor_id, a.details).where(a.action == expected.NONE_THIS_MONTH)
            )
        ).one()
    assert said.actor_id == found[0].id and said.details["period"] == period


def expected_month(period: str) -> str:
    year, month = period.split("-")
    return f"{int(month)}.{year}"
