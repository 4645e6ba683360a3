"""One tap for the obvious (issue 17): documents "ready" to file, approving all of an
organization's at once, and the opt-in to file them with no tap at all (with an undo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core import duplicates, review, suggestions
from core.books.service import ensure_open
from core.categories import vendor_key
from core.domain import PARTIAL, AuditEntry, Document, DocumentState
from core.errors import Conflict, NotAllowed, NotFound
from core.permissions import Action, require
from core.ports import UnitOfWork

AUTO_FILED = "_auto_filed"  # in Document.fields: when it was filed without a tap
CONFIDENT = 0.8  # every field read at least this sure (the card marks below 0.6)
NEEDED = ("vendor_name", "date", "total")  # and a vendor number or name, a date, a total
BULK_LIMIT = 200  # one "approve all ready" at most; the rest on the next tap


@dataclass(frozen=True)
class Ready:
    category: str
    suggestion: suggestions.Suggestion


async def readiness(
    uow: UnitOfWork, document: Document, asked: suggestions.Asked | None = None
) -> Ready | None:
    """A document obvious enough to file in one tap, and its category; None if not.

    All fields confident, a vendor the office has filed before, a category on which the
    office's history and the vendor's last choice agree, no duplicate, nothing missing.
    `asked`: what the document's card already read (suggestions.Asked).
    """
    if document.state is not DocumentState.TO_FILE or document.organization_id is None:
        return None
    if duplicates.suspected(document) or document.fields.get(PARTIAL):
        return None
    if document.answered or review.allocation_missing(document) is not None:
        return None
    read = {
        name: f
        for name, f in document.fields.items()
        if not name.startswith("_") and isinstance(f, dict) and f.get("value") is not None
    }
    if any(name not in read for name in ("date", "total")) or not vendor_key(document):
        return None
    if any(float(f.get("confidence") or 0) < CONFIDENT for f in read.values()):
        return None
    try:
        await ensure_open(uow, document)
    except Conflict:
        return None  # a closed VAT period: the accountant moves it on by hand
    asked = asked or suggestions.Asked(uow, document)
    found = await asked.suggestion()
    if found is None or found.reason is not suggestions.Reason.VENDOR:
        return None  # a vendor the office has not filed before, or an unsure model
    remembered = await asked.remembered()
    if remembered is not None and remembered != found.category:
        return None  # the accountant's latest choice for the vendor says otherwise
    return Ready(found.category, found)


async def ready_documents(
    uow: UnitOfWork, person_id: int, organization_id: int
) -> list[tuple[Document, Ready]]:
    await require(uow, person_id, Action.REVIEW, organization_id)
    found = []
    for document in await uow.filing.to_file(organization_id, BULK_LIMIT):
        ready = await readiness(uow, document)
        if ready is not None:
            found.append((document, ready))
    return found


async def approve_ready(
    uow: UnitOfWork, person_id: int, organization_id: int, now: datetime
) -> list[Document]:
    """Files every ready document of the organization, each one approved (and audited) on
    its own with the category it was ready with. A document someone changed meanwhile stops
    the run with the usual Conflict; those filed before it stay filed."""
    filed = []
    for document, _ in await ready_documents(uow, person_id, organization_id):
        assert document.id is not None
        # `approve` takes the same suggestion `readiness` agreed with (vendor memory, then
        # the office's model).
        filed.append(await review.approve(uow, person_id, document.id, document.version, now))
    return filed


async def set_auto_file(
    uow: UnitOfWork, person_id: int, organization_id: int, on: bool, now: datetime
) -> None:
    """Those who run the office decide whether an organization's ready documents file
    themselves: it skips the accountant's look."""
    await require(uow, person_id, Action.REOPEN_PERIOD, organization_id)
    await uow.filing.set_auto_file(organization_id, on, person_id)
    await uow.audit.add(
        AuditEntry(
            action="organization.auto_file_set",
            actor_id=person_id,
            organization_id=organization_id,
            details={"on": on},
            at=now,
        )
    )
    await uow.commit()


async def auto_file(uow: UnitOfWork, document: Document, now: datetime) -> bool:
    """Inside the reading's transaction: files a ready document of an organization that
    opted in. The daily list names it, with an undo."""
    if document.organization_id is None or not await uow.filing.auto_file(
        document.organization_id
    ):
        return False
    ready = await readiness(uow, document)
    if ready is None:
        return False
    document.categorise(ready.category)
    document.fields = {**document.fields, AUTO_FILED: now.isoformat()}
    document.state = DocumentState.FILED
    await uow.audit.add(
        AuditEntry(
            action="document.auto_filed",
            organization_id=document.organization_id,
            document_id=document.id,
            details={"category": ready.category, "confidence": ready.suggestion.confidence},
            at=now,
        )
    )
    return True


async def auto_filed_since(uow: UnitOfWork, person_id: int, since: datetime) -> list[Document]:
    """What was filed without a tap since `since`, in the organizations the person reviews,
    and still filed that way (an undone one is not listed again)."""
    found: dict[int, Document] = {}
    for entry in await uow.audit.since("document.auto_filed", since):
        if entry.document_id is None or entry.organization_id is None:
            continue
        document = await uow.documents.get(entry.document_id)
        if (
            document is None
            or document.state is not DocumentState.FILED
            or AUTO_FILED not in document.fields
        ):
            continue
        try:
            await require(uow, person_id, Action.REVIEW, entry.organization_id)
        except NotAllowed:  # not theirs: simply not listed
            continue
        found[entry.document_id] = document
    return list(found.values())


async def undo_auto_file(
    uow: UnitOfWork, person_id: int, document_id: int, now: datetime
) -> Document:
    """Back to the accountant's queue, as if it had never been filed."""
    document = await uow.documents.get(document_id)
    if document is None or document.organization_id is None:
        raise NotFound()
    await require(uow, person_id, Action.REVIEW, document.organization_id)
    if document.state is not DocumentState.FILED or AUTO_FILED not in document.fields:
        raise Conflict("review.already_done")
    document.fields = {k: v for k, v in document.fields.items() if k != AUTO_FILED}
    document.category = None
    document.state = DocumentState.TO_FILE
    document.updated_at = now
    await uow.audit.add(
        AuditEntry(
            action="document.auto_file_undone",
            actor_id=person_id,
            organization_id=document.organization_id,
            document_id=document.id,
            at=now,
        )
    )
    await uow.documents.save(document)
    await uow.commit()
    return document
