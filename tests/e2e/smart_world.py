"""Helpers for the smart filing end-to-end tests (issue 17): reading a document the way the
worker applies a reading (the reader itself is off in the harness)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.domain import DocumentKind, OfficeMember, OfficeRole
from core.intake import READ_JOB
from core.reading.fingerprint import Fingerprint
from core.reading.pipeline import Context, run_pipeline
from core.reading.result import FieldReading, Reading
from core.reading.steps import FindPage, LoadImage
from core.reading_jobs import apply_reading
from handlers.reading_notice import announcer
from local_api.client import ChatMessage, TgUser
from tests import scenario
from tests.e2e.harness import Harness


async def staff(
    harness: Harness, user: TgUser, office_id: int, role: OfficeRole, language: str = "en"
) -> int:
    """An office member; English unless said (the tests of Hebrew cards pass "he")."""
    person = await scenario.person(harness.app.uow_factory, user.id, user.first_name, language)
    async with harness.app.uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=office_id, person_id=person.id or 0, role=role)
        )
        await uow.commit()
    return person.id or 0


async def read(
    harness: Harness,
    client: TgUser,
    fields: dict[str, str | None],
    *,
    photo: bytes | None = None,
    kind: DocumentKind = DocumentKind.TAX_INVOICE,
    text: str = "",
    confidence: float = 0.95,
) -> ChatMessage:
    """Applies a reading to the next queued document; returns the client's notice."""
    now = datetime.now(UTC)
    async with harness.app.uow_factory() as uow:
        job = await uow.jobs.claim(
            worker="test", now=now, lease=timedelta(minutes=1), kinds=[READ_JOB]
        )
        await uow.commit()
    assert job is not None
    picture = None
    if photo is not None:
        ctx = run_pipeline(
            [LoadImage(), FindPage(), Fingerprint()],
            Context(photo, "image/jpeg", engine=None, today=date.today()),  # type: ignore[arg-type]
        )
        picture = ctx.picture_hash
    reading = Reading(
        kind=kind,
        kind_confidence=0.95,
        fields={n: FieldReading(v, confidence, "test") for n, v in fields.items() if v},
        text=text,
        pages=1,
        picture_hash=picture,
    )
    async with harness.app.uow_factory() as uow:
        applied = await apply_reading(uow, job, reading, worker="test", now=now)
    announce = announcer(harness.app.bot, harness.app.uow_factory)
    return await harness.after(client, announce(applied))  # type: ignore[no-any-return]


async def open_org(harness: Harness, user: TgUser, org: str) -> ChatMessage:
    """/tofile, then the organization's button: its first card."""
    report = await harness.say(user, "/tofile")
    button = next(
        str(b["text"])
        for row in (report.reply_markup or {}).get("inline_keyboard", [])
        for b in row
        if str(b["text"]).startswith(org)
    )
    return await harness.after(user, harness.api.click(user, report, button))  # type: ignore[no-any-return]


def buttons(message: ChatMessage) -> list[str]:
    return [
        str(b["text"])
        for row in (message.reply_markup or {}).get("inline_keyboard", [])
        for b in row
    ]


async def latest(harness: Harness, user: TgUser, message: ChatMessage) -> ChatMessage:
    """The message as it is now (after it was edited)."""
    return next(
        m for m in await harness.api.messages(user.id) if m.message_id == message.message_id
    )
