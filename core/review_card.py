"""The accountant's card: what a press on it does, and what they see next.

Each use case here decides access once (through `core.review`, which re-reads it from the
database) and returns a `Card`, the view of what to show: a document with what its card
needs, or the news that the organization has nothing left to file. Handlers only render it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core import review, suggestions
from core.domain import Document, StoredFile
from core.errors import NotAllowed
from core.permissions import Action, require
from core.ports import FileStore, UnitOfWork


@dataclass(frozen=True)
class Card:
    organization_id: int
    organization: str  # its name, as the card's title says it
    document: Document | None = None  # None: nothing left to file in the organization
    category: str | None = None  # chosen, else the one last chosen for the vendor
    page: StoredFile | None = None  # the newest page (after an answer, the client's photo)
    data: bytes | None = None  # the page's bytes
    # What the card's category, its reason and its readiness read, read once (smart filing).
    asked: suggestions.Asked | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Returned:
    document: Document  # returned: the client is told next
    card: Card  # the organization's next document


async def card_of(uow: UnitOfWork, files: FileStore, document: Document) -> Card:
    """The card of a document its reader was already allowed to see."""
    assert document.id is not None and document.organization_id is not None
    organization = await uow.organizations.get(document.organization_id)
    pages = await uow.documents.files(document.id)
    page = pages[-1] if pages else None
    asked = suggestions.Asked(uow, document)
    return Card(
        document.organization_id,
        organization.name if organization else "?",
        document,
        await review.suggested_category(uow, document, asked),
        page,
        await files.get(page.sha256) if page is not None else None,
        asked,
    )


async def next_card(
    uow: UnitOfWork,
    files: FileStore,
    person_id: int,
    organization_id: int,
    after_id: int | None = None,
) -> Card:
    """The organization's oldest document to file (after `after_id`), if the person may."""
    document = await review.next_document(uow, person_id, organization_id, after_id)
    return await _next(uow, files, organization_id, document)


async def _following(
    uow: UnitOfWork, files: FileStore, organization_id: int, after_id: int | None = None
) -> Card:
    """The next card, for a use case that has just checked the person's access."""
    document = await uow.documents.next_to_file(organization_id, after_id)
    return await _next(uow, files, organization_id, document)


async def _next(
    uow: UnitOfWork, files: FileStore, organization_id: int, document: Document | None
) -> Card:
    if document is not None:
        return await card_of(uow, files, document)
    organization = await uow.organizations.get(organization_id)
    return Card(organization_id, organization.name if organization else "?")


async def reviewable(uow: UnitOfWork, person_id: int, document_id: int) -> Document:
    """A document the person may review, whatever its version (NotAllowed otherwise)."""
    document = await uow.documents.get(document_id)
    if document is None or document.organization_id is None:
        raise NotAllowed()
    await require(uow, person_id, Action.REVIEW, document.organization_id)
    return document


def _organization_of(document: Document) -> int:
    assert document.organization_id is not None  # a reviewed document has one
    return document.organization_id


async def approve(
    uow: UnitOfWork,
    files: FileStore,
    person_id: int,
    document_id: int,
    version: int,
    now: datetime,
) -> Card:
    document = await review.approve(uow, person_id, document_id, version, now)
    return await _following(uow, files, _organization_of(document))


async def skip(uow: UnitOfWork, files: FileStore, person_id: int, document_id: int) -> Card:
    document = await reviewable(uow, person_id, document_id)
    return await _following(uow, files, _organization_of(document), document_id)


async def return_to_client(
    uow: UnitOfWork,
    files: FileStore,
    person_id: int,
    document_id: int,
    version: int,
    reason: str,
    note: str | None,
    now: datetime,
) -> Returned:
    document = await review.return_to_client(
        uow, person_id, document_id, version, reason, note, now
    )
    return Returned(document, await _following(uow, files, _organization_of(document)))


async def choose_category(
    uow: UnitOfWork,
    files: FileStore,
    person_id: int,
    document_id: int,
    version: int,
    category: str,
    now: datetime,
) -> Card:
    document = await review.choose_category(uow, person_id, document_id, version, category, now)
    return await card_of(uow, files, document)


async def set_direction(
    uow: UnitOfWork,
    files: FileStore,
    person_id: int,
    document_id: int,
    version: int,
    direction: str,
    now: datetime,
) -> Card:
    document = await review.set_direction(uow, person_id, document_id, version, direction, now)
    return await card_of(uow, files, document)


async def edit_field(
    uow: UnitOfWork,
    files: FileStore,
    person_id: int,
    document_id: int,
    version: int,
    field: str,
    raw_value: str,
    now: datetime,
) -> Card:
    """InvalidValue (nothing changed) when the value is wrong: the accountant types again."""
    document = await review.edit_field(uow, person_id, document_id, version, field, raw_value, now)
    return await card_of(uow, files, document)
