"""A client's file reaches us: where it goes, storing it, and queueing it to be read.

Every channel calls `receive`, with the bytes or a function that downloads them: no
database transaction stays open while the file is downloaded, because `receive` decides
first (`plan_upload`'s checks: refuses early), ends the transaction, then fetches and writes
(`store_upload`).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain import (
    AuditEntry,
    Direction,
    Document,
    DocumentState,
    Job,
    Organization,
    Person,
    StoredFile,
)
from core.errors import Conflict, FileRejected, NotAllowed
from core.files import check_declared_type, check_size, safe_name, storable
from core.permissions import Action, may, upload_destinations
from core.ports import FileStore, UnitOfWork

READ_JOB = "read_document"
# A choice of organization is remembered this long, so an album or a few photos in a row
# do not ask again.
REMEMBER_CHOICE = timedelta(minutes=15)
_INCOME_WORDS = re.compile(r"(#?income\b|#?הכנסה|הכנסות|חשבונית\s+ש(?:הוצאתי|הנפקתי))", re.I)


@dataclass(frozen=True)
class Upload:
    """What the messaging platform tells us about a file, before it is downloaded."""

    platform: str
    chat_id: int
    message_id: int
    file_id: str
    file_unique_id: str | None
    file_size: int | None
    mime_type: str | None
    file_name: str | None
    caption: str | None = None
    media_group_id: str | None = None


class PlanOutcome(StrEnum):
    STORE = "store"
    ALREADY_HAVE = "already_have"  # the same message delivered again
    NO_ORGANIZATION = "no_organization"


@dataclass(frozen=True)
class UploadPlan:
    outcome: PlanOutcome
    organization_id: int | None = None  # None with STORE: ask the client which one
    destinations: list[int] = field(default_factory=list)
    existing: Document | None = None


def new_batch() -> str:
    return secrets.token_hex(8)


def wants_income(caption: str | None) -> bool:
    return bool(caption and _INCOME_WORDS.search(caption))


async def plan_upload(
    uow: UnitOfWork, person: Person, upload: Upload, now: datetime
) -> UploadPlan:
    assert person.id is not None
    existing = await uow.documents.by_source(upload.platform, upload.chat_id, upload.message_id)
    if existing is not None:
        return UploadPlan(PlanOutcome.ALREADY_HAVE, existing.organization_id, existing=existing)
    destinations = await upload_destinations(uow, person.id)
    if not destinations:
        return UploadPlan(PlanOutcome.NO_ORGANIZATION)
    check_size(upload.file_size)
    check_declared_type(upload.mime_type, upload.file_name)
    return UploadPlan(
        PlanOutcome.STORE, _remembered_choice(person, destinations, now), destinations
    )


def _remembered_choice(person: Person, destinations: list[int], now: datetime) -> int | None:
    if len(destinations) == 1:
        return destinations[0]
    if (
        person.current_org_id in destinations
        and person.current_org_at is not None
        and now - person.current_org_at <= REMEMBER_CHOICE
    ):
        return person.current_org_id
    return None


@dataclass(frozen=True)
class Stored:
    document: Document
    duplicate_of: Document | None
    queued: bool
    # What the answer to the client needs, read while the transaction was open anyway.
    organization_name: str | None = None
    may_mark_income: bool = False
    destinations: list[int] = field(default_factory=list)  # filled when asked again


async def already_stored(uow: UnitOfWork, person: Person, document: Document) -> Stored:
    """An upload stored before (its update handled again after a crash): its answer's facts."""
    assert person.id is not None
    duplicate_of = (
        await uow.documents.get(document.duplicate_of_id) if document.duplicate_of_id else None
    )
    organization = None
    may_income = False
    destinations: list[int] = []
    if document.organization_id is not None:
        organization = await uow.organizations.get(document.organization_id)
        may_income = await may(uow, person.id, Action.UPLOAD_INCOME, document.organization_id)
    else:
        destinations = await upload_destinations(uow, person.id)
    return Stored(
        document,
        duplicate_of,
        queued=False,
        organization_name=organization.name if organization else None,
        may_mark_income=may_income,
        destinations=destinations,
    )


@dataclass(frozen=True)
class KeptFile:
    """A file checked and written to the store, before a document row points at it."""

    sha256: str
    mime_type: str
    size: int
    upload: Upload
    name: str | None = None  # the sender's name made safe, with the extension of the bytes

    def attach(self, document_id: int) -> StoredFile:
        return StoredFile(
            document_id=document_id,
            sha256=self.sha256,
            mime_type=self.mime_type,
            size=self.size,
            original_name=self.name,
            platform_file_id=self.upload.file_id,
            platform_unique_id=self.upload.file_unique_id,
        )


async def keep_file(files: FileStore, upload: Upload, data: bytes) -> KeptFile:
    """Checks the bytes (FileRejected when unusable) and writes them, before any transaction.

    Decoding a picture to prove it whole is real work; off the event loop it overlaps other
    updates (Pillow lets go of the GIL while it decodes).
    """
    data, checked = await asyncio.to_thread(storable, data)
    # The bytes reach the disk before the row that points at them.
    try:
        sha256 = await files.put(data)
    except OSError as error:
        # A full or read-only disk: nothing was kept, and the client must hear so.
        raise FileRejected("file.not_saved") from error
    name = safe_name(upload.file_name, checked.mime_type)
    return KeptFile(sha256, checked.mime_type, len(data), upload, name)


async def store_upload(
    uow: UnitOfWork,
    files: FileStore,
    *,
    person: Person,
    upload: Upload,
    data: bytes,
    plan: UploadPlan,
    batch: str,
    now: datetime,
) -> Stored:
    """Checks and stores the file, creates the document and its read job, and commits."""
    kept = await keep_file(files, upload, data)
    return await store_kept(uow, person=person, kept=kept, plan=plan, batch=batch, now=now)


@dataclass(frozen=True)
class Standing:
    """What every file of one message needs to know of its organization, read once."""

    organization: Organization | None
    may_income: bool


async def standing_of(uow: UnitOfWork, person: Person, organization_id: int | None) -> Standing:
    assert person.id is not None
    if organization_id is None:
        return Standing(None, False)
    return Standing(
        await uow.organizations.get(organization_id),
        await may(uow, person.id, Action.UPLOAD_INCOME, organization_id),
    )


async def store_kept(
    uow: UnitOfWork,
    *,
    person: Person,
    kept: KeptFile,
    plan: UploadPlan,
    batch: str,
    now: datetime,
    standing: Standing | None = None,
    commit: bool = True,
) -> Stored:
    """The document of a file already kept, with its read job; committed unless the caller
    commits a whole message at once."""
    assert person.id is not None
    upload = kept.upload
    document = Document(
        uploaded_by=person.id,
        batch=batch,
        source_platform=upload.platform,
        source_chat_id=upload.chat_id,
        source_message_id=upload.message_id,
        organization_id=plan.organization_id,
        caption=upload.caption,
        created_at=now,
        updated_at=now,
    )
    if standing is None:
        standing = await standing_of(uow, person, plan.organization_id)
    organization, may_income = standing.organization, standing.may_income
    if wants_income(upload.caption) and may_income:
        document.direction = Direction.INCOME
    duplicate_of = await _place(uow, document, kept.sha256, now)
    await number(uow, document)
    await uow.documents.add(document)
    assert document.id is not None
    await uow.documents.add_file(kept.attach(document.id))
    queued = await _queue_if_placed(uow, document)
    await uow.audit.add(
        AuditEntry(
            action="document.received",
            actor_id=person.id,
            organization_id=document.organization_id,
            document_id=document.id,
            details={
                "sha256": kept.sha256,
                "mime": kept.mime_type,
                "size": kept.size,
                "duplicate_of": duplicate_of.id if duplicate_of else None,
            },
        )
    )
    if commit:
        await uow.commit()
    return Stored(
        document,
        duplicate_of,
        queued,
        organization_name=organization.name if organization else None,
        may_mark_income=may_income,
    )


async def _place(
    uow: UnitOfWork, document: Document, sha256: str, now: datetime
) -> Document | None:
    """Flags the document a duplicate when its organization already has the same file."""
    if document.organization_id is None:
        return None
    original = await uow.documents.original_of(document.organization_id, sha256)
    if original is None or original.id == document.id:
        # After an autoflush the query finds the document itself: not a duplicate.
        return None
    document.state = DocumentState.DUPLICATE
    document.duplicate_of_id = original.id
    document.updated_at = now
    return original


async def number(uow: UnitOfWork, document: Document) -> None:
    """Gives a placed, live document its organization's next number (duplicates get none)."""
    if document.organization_id is None or document.state is DocumentState.DUPLICATE:
        return
    document.number = await uow.documents.next_number(document.organization_id)


async def _queue_if_placed(uow: UnitOfWork, document: Document) -> bool:
    if document.organization_id is None or document.state is not DocumentState.RECEIVED:
        return False
    await uow.jobs.enqueue(
        Job(kind=READ_JOB, payload={"document_id": document.id}, document_id=document.id)
    )
    return True


class ReceiveOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # stored, but the organization already had the same file
    ALREADY_HAVE = "already_have"  # this very part was received before (a redelivery)
    NO_ORGANIZATION = "no_organization"  # the sender sends for no organization
    REFUSED = "refused"


@dataclass(frozen=True)
class Received:
    outcome: ReceiveOutcome
    document: Document | None = None
    duplicate_of: Document | None = None
    reason: str | None = None  # a locale key when refused
    params: dict[str, object] = field(default_factory=dict)
    # What an answer to the sender needs, read while the transaction was open anyway.
    organization_name: str | None = None
    may_mark_income: bool = False
    destinations: list[int] = field(default_factory=list)  # to choose from, when unplaced
    raced: bool = False  # ALREADY_HAVE because a concurrent delivery stored it just now


# Fetches a file's bytes, held while they are checked and stored (so a channel can bound
# how many files are in memory at once), e.g. a function decorated `asynccontextmanager`.
Download = Callable[[], AbstractAsyncContextManager[bytes]]


async def receive(
    uow: UnitOfWork,
    files: FileStore,
    *,
    person: Person,
    upload: Upload,
    data: bytes | Download,
    batch: str,
    now: datetime,
    organization_id: int | None = None,
) -> Received:
    """One file from any channel: the same checks, store and duplicate finding for all.

    The caller has decided who sent it (a chat member, an allowed e-mail sender). With
    `organization_id` the channel already resolved where it goes (an e-mail address belongs
    to one organization); without it, the sender's own organizations decide: their only
    one, the one they chose a moment ago, or none yet (the answer asks them to choose).
    `data` may be a `Download`: it is entered with no transaction open, and may raise
    `FileRejected`.
    """
    assert person.id is not None
    if organization_id is not None and isinstance(data, bytes):
        return await _receive_in_hand(
            uow, files, person=person, upload=upload, data=data, batch=batch, now=now,
            organization_id=organization_id,
        )  # fmt: skip
    existing = await uow.documents.by_source(upload.platform, upload.chat_id, upload.message_id)
    if existing is not None:
        # Handled before the process stopped, maybe unanswered: answer from what is stored.
        return _received(ReceiveOutcome.ALREADY_HAVE, await already_stored(uow, person, existing))
    if organization_id is None:
        destinations = await upload_destinations(uow, person.id)
        if not destinations:
            return Received(ReceiveOutcome.NO_ORGANIZATION)
        choice = _remembered_choice(person, destinations, now)
        plan = UploadPlan(PlanOutcome.STORE, choice, destinations)
    else:
        plan = UploadPlan(PlanOutcome.STORE, organization_id, [organization_id])
    try:
        check_size(upload.file_size)
        check_declared_type(upload.mime_type, upload.file_name)
        # No transaction stays open while the file is fetched, checked and written.
        await uow.release()
        async with _held(data) as content:
            stored = await store_upload(
                uow,
                files,
                person=person,
                upload=upload,
                data=content,
                plan=plan,
                batch=batch,
                now=now,
            )
    except FileRejected as error:
        return Received(ReceiveOutcome.REFUSED, reason=error.key, params=dict(error.params))
    except Conflict:
        return await _raced(uow, upload)
    outcome = ReceiveOutcome.DUPLICATE if stored.duplicate_of else ReceiveOutcome.STORED
    return _received(outcome, stored, plan.destinations)


async def _receive_in_hand(
    uow: UnitOfWork,
    files: FileStore,
    *,
    person: Person,
    upload: Upload,
    data: bytes,
    batch: str,
    now: datetime,
    organization_id: int,
) -> Received:
    """`receive` of bytes already in hand, for an organization the channel resolved (the
    web page): they are checked and written first, with no transaction open, so that
    finding a redelivery and storing the document are one transaction, not two. A
    redelivery's bytes are written again: the store keeps one copy by content."""
    await uow.release()
    try:
        check_size(upload.file_size)
        check_declared_type(upload.mime_type, upload.file_name)
        kept = await keep_file(files, upload, data)
    except FileRejected as error:
        return Received(ReceiveOutcome.REFUSED, reason=error.key, params=dict(error.params))
    existing = await uow.documents.by_source(upload.platform, upload.chat_id, upload.message_id)
    if existing is not None:
        return _received(ReceiveOutcome.ALREADY_HAVE, await already_stored(uow, person, existing))
    plan = UploadPlan(PlanOutcome.STORE, organization_id, [organization_id])
    try:
        stored = await store_kept(uow, person=person, kept=kept, plan=plan, batch=batch, now=now)
    except Conflict:
        return await _raced(uow, upload)
    outcome = ReceiveOutcome.DUPLICATE if stored.duplicate_of else ReceiveOutcome.STORED
    return _received(outcome, stored, plan.destinations)


async def _raced(uow: UnitOfWork, upload: Upload) -> Received:
    """A concurrent delivery of the same message stored it just now."""
    again = await uow.documents.by_source(upload.platform, upload.chat_id, upload.message_id)
    return Received(ReceiveOutcome.ALREADY_HAVE, again, raced=True)


@asynccontextmanager
async def _bytes(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _held(data: bytes | Download) -> AbstractAsyncContextManager[bytes]:
    return _bytes(data) if isinstance(data, bytes) else data()


def _received(
    outcome: ReceiveOutcome, stored: Stored, destinations: list[int] | None = None
) -> Received:
    return Received(
        outcome,
        stored.document,
        stored.duplicate_of,
        organization_name=stored.organization_name,
        may_mark_income=stored.may_mark_income,
        destinations=stored.destinations or destinations or [],
    )


async def sent_in_batch(uow: UnitOfWork, person_id: int, batch: str) -> list[Document]:
    """The documents of an upload batch that this person sent (a batch id is no secret)."""
    return [d for d in await uow.documents.in_batch(batch) if d.uploaded_by == person_id]


@dataclass(frozen=True)
class Album:
    """An album's parts, as the one answer to its sender tells of them."""

    documents: list[Document]
    placed: bool  # False: waiting for the sender to choose the organization
    organization: Organization | None = None  # where the parts went
    choices: list[Organization] = field(default_factory=list)  # where they may go
    may_mark_income: bool = False


async def album(uow: UnitOfWork, person: Person, batch: str) -> Album:
    assert person.id is not None
    documents = await sent_in_batch(uow, person.id, batch)
    org_ids = {d.organization_id for d in documents}
    if None in org_ids:
        destinations = await upload_destinations(uow, person.id)
        choices = [o for o in [await uow.organizations.get(i) for i in destinations] if o]
        return Album(documents, placed=False, choices=choices)
    organization = await uow.organizations.get(next(iter(org_ids)) or 0) if org_ids else None
    org_id = documents[0].organization_id if documents else None
    income = org_id is not None and await may(uow, person.id, Action.UPLOAD_INCOME, org_id)
    return Album(documents, placed=True, organization=organization, may_mark_income=income)


async def keep_all(
    files: FileStore, parts: Sequence[tuple[Upload, bytes]]
) -> list[KeptFile | FileRejected]:
    """The files of one message (an e-mail's attachments) checked and written together,
    each off the event loop: what `keep_file` gives, or why the file is refused. Called
    with no transaction open."""

    async def keep(upload: Upload, data: bytes) -> KeptFile:
        check_size(upload.file_size)
        check_declared_type(upload.mime_type, upload.file_name)
        return await keep_file(files, upload, data)

    found = await asyncio.gather(*(keep(*part) for part in parts), return_exceptions=True)
    results: list[KeptFile | FileRejected] = []
    for outcome in found:
        if isinstance(outcome, KeptFile | FileRejected):
            results.append(outcome)
        else:
            raise outcome
    return results


async def receive_all(
    uow: UnitOfWork,
    *,
    person: Person,
    organization_id: int,
    parts: Sequence[tuple[Upload, KeptFile | FileRejected]],
    batch: str,
    now: datetime,
) -> list[Received]:
    """The documents of one message's files (`keep_all`), as `receive` makes one: the same
    store and duplicate finding. The rows go in the caller's transaction, which commits the
    whole message at once (a crash before leaves none of them)."""
    plan = UploadPlan(PlanOutcome.STORE, organization_id, [organization_id])
    standing = await standing_of(uow, person, organization_id)
    results: list[Received] = []
    for upload, kept in parts:
        existing = await uow.documents.by_source(
            upload.platform, upload.chat_id, upload.message_id
        )
        if existing is not None:
            results.append(Received(ReceiveOutcome.ALREADY_HAVE, existing))
        elif isinstance(kept, FileRejected):
            results.append(
                Received(ReceiveOutcome.REFUSED, reason=kept.key, params=dict(kept.params))
            )
        else:
            stored = await store_kept(
                uow, person=person, kept=kept, plan=plan, batch=batch, now=now,
                standing=standing, commit=False,
            )  # fmt: skip
            results.append(
                Received(
                    ReceiveOutcome.DUPLICATE if stored.duplicate_of else ReceiveOutcome.STORED,
                    stored.document,
                    stored.duplicate_of,
                )
            )
    return results


@dataclass(frozen=True)
class BatchPlaced:
    documents: list[Document]
    duplicates: int


async def choose_organization(
    uow: UnitOfWork, person: Person, batch: str, organization_id: int, now: datetime
) -> BatchPlaced:
    """The client picked the organization for an upload that was waiting for it."""
    assert person.id is not None
    if not await may(uow, person.id, Action.UPLOAD, organization_id):
        raise NotAllowed()
    documents = await sent_in_batch(uow, person.id, batch)
    if not documents:
        raise NotAllowed()
    duplicates = 0
    for document in documents:
        if document.organization_id is not None or document.state is not DocumentState.RECEIVED:
            continue
        document.organization_id = organization_id
        document.updated_at = now
        assert document.id is not None  # loaded from the database
        files = await uow.documents.files(document.id)
        if files and await _place(uow, document, files[0].sha256, now) is not None:
            duplicates += 1
        await number(uow, document)
        await _queue_if_placed(uow, document)
    person.current_org_id = organization_id
    person.current_org_at = now
    await uow.audit.add(
        AuditEntry(
            action="document.organization_chosen",
            actor_id=person.id,
            organization_id=organization_id,
            details={"batch": batch},
        )
    )
    await uow.commit()
    return BatchPlaced(documents, duplicates)


async def mark_income(uow: UnitOfWork, person: Person, batch: str, now: datetime) -> int:
    """The client says the upload is an invoice they issued, not an expense."""
    assert person.id is not None
    documents = await sent_in_batch(uow, person.id, batch)
    changed = 0
    for document in documents:
        if document.organization_id is not None and not await may(
            uow, person.id, Action.UPLOAD_INCOME, document.organization_id
        ):
            raise NotAllowed("intake.income_not_allowed")
        if document.direction is not Direction.INCOME:
            document.direction = Direction.INCOME
            document.updated_at = now
            changed += 1
    if not documents:
        raise NotAllowed()
    await uow.audit.add(
        AuditEntry(
            action="document.marked_income",
            actor_id=person.id,
            details={"batch": batch, "count": changed},
        )
    )
    await uow.commit()
    return changed


async def join_as_pages(uow: UnitOfWork, person: Person, batch: str, now: datetime) -> Document:
    """Album parts become the pages of the first part, in the order they were sent."""
    assert person.id is not None
    documents = await sent_in_batch(uow, person.id, batch)
    live = [d for d in documents if d.state in (DocumentState.RECEIVED, DocumentState.TO_FILE)]
    if len(live) < 2:
        raise NotAllowed("intake.nothing_to_join")
    primary, rest = live[0], live[1:]
    assert primary.id is not None
    if primary.organization_id is not None and not await may(
        uow, person.id, Action.UPLOAD, primary.organization_id
    ):
        raise NotAllowed()
    page = len(await uow.documents.files(primary.id))
    for document in rest:
        assert document.id is not None
        for stored in await uow.documents.files(document.id):
            stored.document_id = primary.id
            stored.page_order = page
            page += 1
        document.state = DocumentState.MERGED
        document.merged_into_id = primary.id
        document.updated_at = now
    # Read again as one document: its fields may span pages.
    primary.state = DocumentState.RECEIVED
    primary.updated_at = now
    await _queue_if_placed(uow, primary)
    await uow.audit.add(
        AuditEntry(
            action="document.pages_joined",
            actor_id=person.id,
            organization_id=primary.organization_id,
            document_id=primary.id,
            details={"merged": [d.id for d in rest]},
        )
    )
    await uow.commit()
    return primary
