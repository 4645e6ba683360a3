"""Fairness under flood at intake, over the local Bot API server: a client faster than the
rate gets every file in, told once; downloads at one moment are bounded."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.uploads import UploadGate
from local_api.client import TgUser
from storage import tables
from tests import images
from tests.e2e.harness import Harness

JOHN = TgUser(id=6_000_000_401, first_name="John", language_code="en")
CLIENTS = [TgUser(id=6_000_000_500 + n, first_name=f"C{n}", language_code="en") for n in range(8)]


async def gated(harness: Harness, gate: UploadGate) -> None:
    # Polling copies the dispatcher's services when it starts.
    await harness.stop_polling()
    harness.app.dispatcher["uploads"] = gate
    harness.start_polling()


async def stored(harness: Harness) -> int:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        return int(await uow.session.scalar(select(func.count()).select_from(tables.documents)))


async def test_a_client_over_the_rate_is_slowed_told_once_and_nothing_is_dropped(
    harness: Harness,
) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(JOHN, org_id)
    # Three at once, then one a second: the fourth to seventh wait their turn.
    gate = UploadGate(downloads=2, burst=3, per_minute=60)
    await gated(harness, gate)
    for n in range(7):
        await harness.api.send_photo(JOHN, images.jpeg(label=f"receipt {n}"))
    messages = await harness.api.wait_for_messages(JOHN.id, 1 + 7 + 1, timeout=15)
    texts = [m.text or "" for m in messages[1:]]
    assert sum("Received ✓" in t for t in texts) == 7
    slow = [t for t in texts if "more slowly" in t]
    assert len(slow) == 1 and "no need to send them again" in slow[0]
    # The notice comes when the first file has to wait: after the burst of three.
    assert texts.index(slow[0]) == 3
    assert await stored(harness) == 7


async def test_downloads_at_one_moment_are_bounded_and_all_arrive(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    for client in CLIENTS:
        await harness.join(client, org_id)
    gate = UploadGate(downloads=2, burst=60, per_minute=30)
    await gated(harness, gate)
    # Slow downloads, so that without a bound all eight would be in hand together.
    await harness.api.fail_next("download", error_code=None, delay=0.3, count=len(CLIENTS))
    await asyncio.gather(
        *(harness.api.send_photo(c, images.jpeg(label=c.first_name)) for c in CLIENTS)
    )
    for client in CLIENTS:
        replies = await harness.api.wait_for_messages(client.id, 2, timeout=15)
        assert "Received ✓" in (replies[-1].text or "")
    print(f"\npeak downloads at once: {gate.peak} of {len(CLIENTS)} clients")
    assert gate.peak == 2
    assert await stored(harness) == len(CLIENTS)
