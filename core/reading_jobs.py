"""What happens to a document once it has been read, or could not be read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core import duplicates, ready, smart_filing
from core.domain import (
    PARTIAL,
    AuditEntry,
    Document,
    DocumentKind,
    DocumentState,
    Job,
    JobState,
)
from core.permissions import Action, may, upload_destinations
from core.ports import UnitOfWork
from core.reading.result import (
    BLANK,
    BLURRY,
    CARD_SLIP,
    DARK,
    NO_TEXT,
    SEND_AS_FILE,
    SEVERAL_DOCUMENTS,
    Reading,
)

# Problems the client can fix at once with a better photo, while the paper is in hand.
# Last: small print on a compressed photo asks for the same picture sent as a file.
RETAKE_PROBLEMS = (BLANK, BLURRY, DARK, NO_TEXT, SEVERAL_DOCUMENTS, CARD_SLIP, SEND_AS_FILE)
BACKOFF = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
)


class ReadOutcome(StrEnum):
    TO_FILE = "to_file"
    RETAKE = "retake"  # ask the client for a better photo
    SKIPPED = "skipped"  # the document moved on meanwhile (merged, withdrawn)
    LEASE_LOST = "lease_lost"  # another worker owns the job now


# Telling the client what was read: a job of its own, written with the reading.
ANNOUNCE_JOB = "announce_reading"


@dataclass(frozen=True)
class Applied:
    outcome: ReadOutcome
    document: Document | None = None
    problem: str | None = None
    moved_from: int | None = None  # organization the client chose, when the invoice said otherwise
    announcement: Job | None = None  # to send, held by the worker that read it


def fields_of(reading: Reading) -> dict[str, dict[str, object]]:
    return {
        name: {"value": f.value, "confidence": round(f.confidence, 3), "reason": f.reason}
        for name, f in reading.fields.items()
    }


async def apply_reading(
    uow: UnitOfWork,
    job: Job,
    reading: Reading,
    *,
    worker: str,
    now: datetime,
    announce_lease: timedelta | None = None,
) -> Applied:
    """Stores what was read and closes the job in one transaction: a result lands once.

    With `announce_lease`, the client's notice is written in the same transaction as a job
    already held by this worker for that long (`announcement`): the worker sends it and
    marks it done (`announced`); if it dies first, another worker takes it when the lease
    runs out (`claim_announcement`). Sent after the commit, a notice was otherwise lost
    with a worker killed in between.
    """
    assert job.id is not None and job.document_id is not None
    document = await uow.documents.get(job.document_id)
    if not await uow.jobs.complete(job.id, worker=worker, now=now):
        return Applied(ReadOutcome.LEASE_LOST)
    if document is None or document.state is not DocumentState.RECEIVED:
        await uow.commit()
        return Applied(ReadOutcome.SKIPPED, document)
    # A document read again (the client's new photo) keeps what the fields' own history
    # needs (the fields before the answer, for the card's changes).
    kept = {k: v for k, v in document.fields.items() if k.startswith("_")}
    document.fields = {**kept, **fields_of(reading)}
    document.kind = reading.kind
    document.confidence = reading.confidence
    document.read_at = now
    document.updated_at = now
    if reading.pages_skipped:
        # The file had more pages than are read (a 200-page TIFF): the client and the
        # accountant are told, so no one takes the reading for the whole file.
        document.fields[PARTIAL] = {
            "read": reading.pages,
            "total": reading.pages + reading.pages_skipped,
        }
    problem = next((p for p in reading.problems if p in RETAKE_PROBLEMS), None)
    if reading.kind is DocumentKind.CARD_SLIP:
        problem = CARD_SLIP
    moved_from = None
    if problem is not None:
        document.ask_for_retake(problem)
    else:
        document.state = DocumentState.TO_FILE
        moved_from = await _route_by_buyer(uow, document, reading.value("customer_id"))
        # Smart filing (issue 17): what the picture and the words were, then the same
        # invoice sent before is looked for (proposed to the accountant, never deleted).
        document.fields = {**document.fields, **smart_filing.reading_marks(reading)}
        await duplicates.check(uow, document, now)
        await ready.auto_file(uow, document, now)
    await uow.audit.add(
        AuditEntry(
            action="document.read",
            organization_id=document.organization_id,
            document_id=document.id,
            details={
                "kind": reading.kind.value,
                "confidence": reading.confidence,
                "problems": reading.problems,
                "seconds": reading.seconds,
                "moved_from": moved_from,
                "pages_skipped": reading.pages_skipped,
            },
        )
    )
    outcome = ReadOutcome.RETAKE if problem else ReadOutcome.TO_FILE
    announcement = None
    if announce_lease is not None:
        announcement = await uow.jobs.enqueue(
            Job(
                kind=ANNOUNCE_JOB,
                # No document_id: the document's jobs are its readings.
                payload={
                    "document_id": document.id,
                    "outcome": outcome.value,
                    "problem": problem,
                    "moved_from": moved_from,
                },
                state=JobState.RUNNING,
                attempts=1,
                lease_until=now + announce_lease,
                leased_by=worker,
            )
        )
    await uow.commit()
    return Applied(outcome, document, problem, moved_from, announcement)


async def claim_announcement(
    uow: UnitOfWork, *, worker: str, now: datetime, lease: timedelta
) -> Applied | None:
    """A notice whose worker died before sending it (its lease ran out), taken for `lease`;
    None when there is none. Claimed like any job, so two workers never both take it."""
    job = await uow.jobs.claim(
        worker=worker, now=now, lease=lease, kinds=[ANNOUNCE_JOB], fair=False
    )
    if job is None:
        return None
    document = await uow.documents.get(int(job.payload["document_id"]))
    await uow.commit()
    return Applied(
        ReadOutcome(job.payload["outcome"]),
        document,
        job.payload.get("problem"),
        job.payload.get("moved_from"),
        job,
    )


async def announced(
    uow: UnitOfWork, applied: Applied, *, worker: str, now: datetime, error: str | None = None
) -> None:
    """The notice was sent (or, with `error`, cannot be: not tried again)."""
    job = applied.announcement
    assert job is not None and job.id is not None
    if error is None:
        await uow.jobs.complete(job.id, worker=worker, now=now)
    else:
        await uow.jobs.fail(job.id, worker=worker, now=now, error=error, retry_at=None)
    await uow.commit()


async def _route_by_buyer(
    uow: UnitOfWork, document: Document, buyer_number: str | None
) -> int | None:
    """The invoice names its buyer: if that is another of the sender's organizations, move it."""
    if not buyer_number:
        return None
    for organization_id in await upload_destinations(uow, document.uploaded_by):
        if organization_id == document.organization_id:
            continue
        organization = await uow.organizations.get(organization_id)
        if (
            organization is not None
            and organization.business_number == buyer_number
            and await may(uow, document.uploaded_by, Action.UPLOAD, organization_id)
        ):
            previous = document.organization_id
            document.organization_id = organization_id
            document.number = await uow.documents.next_number(organization_id)
            return previous
    return None


DIED_EVERY_TIME = "the reading worker stopped on every attempt (crash, memory or time limit)"


async def claim_reading(
    uow: UnitOfWork, *, worker: str, now: datetime, lease: timedelta, kinds: list[str]
) -> tuple[Job | None, list[Document]]:
    """The next job to read, after giving up on jobs whose worker died on their last attempt
    (a file that kills its reader every time would otherwise be taken again forever).

    Returns the job (None when nothing is runnable) and the documents given up on.
    """
    given_up: list[Document] = []
    for dead in await uow.jobs.take_exhausted(now=now, error=DIED_EVERY_TIME, kinds=kinds):
        document = await _needs_manual(uow, dead, DIED_EVERY_TIME, now)
        if document is not None:
            given_up.append(document)
    job = await uow.jobs.claim(worker=worker, now=now, lease=lease, kinds=kinds)
    await uow.commit()
    return job, given_up


async def _needs_manual(uow: UnitOfWork, job: Job, error: str, now: datetime) -> Document | None:
    if job.document_id is None:
        return None
    document = await uow.documents.get(job.document_id)
    if document is None or document.state is not DocumentState.RECEIVED:
        return None
    document.state = DocumentState.NEEDS_MANUAL
    document.updated_at = now
    await uow.audit.add(
        AuditEntry(
            action="document.needs_manual",
            document_id=document.id,
            organization_id=document.organization_id,
            details={"error": error[:500], "attempts": job.attempts},
        )
    )
    return document


async def fail_reading(
    uow: UnitOfWork, job: Job, error: str, *, worker: str, now: datetime
) -> Document | None:
    """Retries with backoff; after the last attempt the accountant types it in by hand.

    Returns the document when it was given up on (so the office and client can be told).
    """
    assert job.id is not None
    last = job.attempts >= job.max_attempts
    retry_at = None if last else now + BACKOFF[min(job.attempts - 1, len(BACKOFF) - 1)]
    if not await uow.jobs.fail(job.id, worker=worker, now=now, error=error, retry_at=retry_at):
        return None
    document = await _needs_manual(uow, job, error, now) if last else None
    await uow.commit()
    return document
