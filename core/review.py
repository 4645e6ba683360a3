"""The accountant's filing work: the to-file report, one document at a time, and the
actions on it (approve, edit a field, return to the client), plus the client's answers.

Every action re-checks permission against the database and the document's version, so a
forged button or a second accountant acting on the same document loses cleanly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from stdnum.il import hp, idnr

from core import categories, suggestions
from core.books.service import ensure_open
from core.deadlines.quiet_hours import is_quiet
from core.domain import (
    Answer,
    AuditEntry,
    Direction,
    Document,
    DocumentKind,
    DocumentState,
    Job,
    ReportRow,
    StoredFile,
)
from core.errors import Conflict, NotAllowed, NotFound, TayukError
from core.intake import READ_JOB
from core.permissions import Action, may, require, require_in_office
from core.ports import UnitOfWork
from core.reading.tax_rules import allocation_threshold
from core.reporting.profiles import quiet_of

REVIEW_STATES = (DocumentState.TO_FILE, DocumentState.NEEDS_MANUAL)
RETURN_REASONS = (
    "unreadable",
    "not_recognized",
    "needs_clarification",
    "not_tax_invoice",
    "allocation_missing",
    "duplicate",
    "wrong_organization",
)
EDITABLE = (
    "vendor_name",
    "vendor_id",
    "customer_id",
    "doc_number",
    "date",
    "total",
    "vat",
    "allocation_number",
)


class InvalidValue(TayukError):
    key = "review.invalid"


_FAR = datetime.max.replace(tzinfo=UTC)


async def to_file_report(uow: UnitOfWork, person_id: int) -> list[ReportRow]:
    """Organizations the person's offices reach, with work waiting; oldest waiting first."""
    rows = await uow.documents.review_report(person_id)
    # The repository's datetimes are aware (UTC): compared as they are, no copy per row.
    return sorted(rows, key=lambda r: (r.oldest is None, r.oldest or _FAR))


async def queue(
    uow: UnitOfWork, person_id: int, organization_id: int, limit: int
) -> list[Document]:
    """The organization's documents to file, oldest first (the order `next_document` walks)."""
    await require(uow, person_id, Action.REVIEW, organization_id)
    return await uow.documents.to_file_queue(organization_id, limit)


async def next_document(
    uow: UnitOfWork, person_id: int, organization_id: int, after_id: int | None = None
) -> Document | None:
    """The oldest document to file; `after_id` skips up to and including that one."""
    await require(uow, person_id, Action.REVIEW, organization_id)
    return await uow.documents.next_to_file(organization_id, after_id)


async def _load(
    uow: UnitOfWork, person_id: int, document_id: int, version: int, action: Action
) -> Document:
    document = await uow.documents.get(document_id)
    if document is None or document.organization_id is None:
        raise NotFound()
    await require(uow, person_id, action, document.organization_id)
    if document.version != version or document.state not in REVIEW_STATES:
        raise await _conflict(uow, document_id, person_id)
    if action in (Action.APPROVE, Action.REVIEW):
        # A closed VAT period is final until someone with the right reopens it.
        await ensure_open(uow, document)
    return document


async def current(uow: UnitOfWork, person_id: int, document_id: int, version: int) -> Document:
    """The document, if the card showing `version` is still current (else a Conflict)."""
    return await _load(uow, person_id, document_id, version, Action.REVIEW)


async def _conflict(uow: UnitOfWork, document_id: int, person_id: int | None = None) -> Conflict:
    """ "Already handled by ...": the actor of the document's last audit entry.

    When that is the person pressing (a double tap, or an older card of their own), they
    are told their own action went through, not that they were beaten by themselves.
    """
    last = await uow.audit.last_for_document(document_id)
    name = "?"
    if last is not None and last.actor_id is not None:
        if last.actor_id == person_id:
            return Conflict("review.already_done")
        actor = await uow.people.get(last.actor_id)
        name = actor.display_name if actor else "?"
    return Conflict("review.already_handled", name=name)


async def _save(
    uow: UnitOfWork,
    document: Document,
    person_id: int,
    action: str,
    now: datetime,
    details: dict[str, Any],
    *,
    keep_changes: bool = False,
) -> Document:
    if not keep_changes and "_previous" in document.fields:
        # What a new reading changed is news until someone acts on the document: after
        # that (an accountant's edit above all) the card no longer lists it.
        document.fields = {k: v for k, v in document.fields.items() if k != "_previous"}
    document.updated_at = now
    await uow.audit.add(
        AuditEntry(
            action=action,
            actor_id=person_id,
            organization_id=document.organization_id,
            document_id=document.id,
            details=details,
            at=now,
        )
    )
    document_id = document.id
    assert document_id is not None
    try:
        # Flushes with the version check; someone else's write in between fails here.
        await uow.documents.save(document)
    except Conflict:
        raise await _conflict(uow, document_id, person_id) from None
    await uow.commit()
    return document


async def approve(
    uow: UnitOfWork, person_id: int, document_id: int, version: int, now: datetime
) -> Document:
    document = await _load(uow, person_id, document_id, version, Action.APPROVE)
    before = document.state
    details: dict[str, Any] = {"from": before.value, "to": "filed"}
    if document.category is None:
        # Filing a document of a known vendor is one tap: the suggestion is taken.
        suggested = await suggested_category(uow, document)
        if suggested is not None:
            document.categorise(suggested)
            details["category"] = suggested
    document.state = DocumentState.FILED
    return await _save(uow, document, person_id, "document.filed", now, details)


async def return_to_client(
    uow: UnitOfWork,
    person_id: int,
    document_id: int,
    version: int,
    reason: str,
    note: str | None,
    now: datetime,
) -> Document:
    if reason not in RETURN_REASONS:
        raise InvalidValue("review.invalid_reason")
    document = await _load(uow, person_id, document_id, version, Action.RETURN)
    note = (note or "").strip()[:500] or None
    document.return_to_client(reason, note, person_id, now)
    return await _save(
        uow, document, person_id, "document.returned", now, {"reason": reason, "note": note}
    )


def validate(field: str, raw: str) -> str:
    """The value to store, normalised; InvalidValue with a locale key when it is wrong."""
    value = raw.strip()
    if field not in EDITABLE:
        raise InvalidValue("review.invalid_field")
    if not value:
        raise InvalidValue("review.invalid_empty")
    if field == "date":
        return _date(value).isoformat()
    if field in ("total", "vat"):
        try:
            amount = Decimal(value.replace(",", "").replace("₪", "").strip())
        except InvalidOperation:
            raise InvalidValue("review.invalid_amount") from None
        if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
            raise InvalidValue("review.invalid_amount")
        return str(amount.quantize(Decimal("0.01")))
    if field in ("vendor_id", "customer_id"):
        digits = re.sub(r"[\s-]", "", value)
        if not (hp.is_valid(digits) or idnr.is_valid(digits)):
            raise InvalidValue("review.invalid_business_number")
        return digits.zfill(9)
    if field == "allocation_number":
        digits = re.sub(r"[\s-]", "", value)
        if not re.fullmatch(r"\d{9}", digits):
            raise InvalidValue("review.invalid_allocation")
        return digits
    return value[:200]


def _date(value: str) -> date:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", value)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise InvalidValue("review.invalid_date")


async def edit_field(
    uow: UnitOfWork,
    person_id: int,
    document_id: int,
    version: int,
    field: str,
    raw_value: str,
    now: datetime,
) -> Document:
    value = validate(field, raw_value)  # before touching the database: a typo costs nothing
    document = await _load(uow, person_id, document_id, version, Action.REVIEW)
    old = (document.fields.get(field) or {}).get("value")
    document.fields = {
        **document.fields,
        field: {"value": value, "confidence": 1.0, "reason": "edited", "by": person_id},
    }
    return await _save(
        uow,
        document,
        person_id,
        "document.field_edited",
        now,
        {"field": field, "old": old, "new": value},
    )


async def choose_category(
    uow: UnitOfWork,
    person_id: int,
    document_id: int,
    version: int,
    category: str,
    now: datetime,
) -> Document:
    """Sets the document's expense category and remembers it for the vendor."""
    if category not in categories.CATEGORIES:
        raise InvalidValue("review.invalid_category")
    document = await _load(uow, person_id, document_id, version, Action.REVIEW)
    vendor = categories.vendor_key(document)
    if vendor is not None and document.organization_id is not None:
        # Before the document changes: this write must not flush the document early, its
        # version check belongs to `_save`. A lost race rolls this back with the rest.
        await uow.categories.remember_vendor(document.organization_id, vendor, category, person_id)
    old = document.categorise(category)
    return await _save(
        uow,
        document,
        person_id,
        "document.category_set",
        now,
        {"old": old, "new": category, "vendor": vendor},
    )


async def suggested_category(
    uow: UnitOfWork, document: Document, asked: suggestions.Asked | None = None
) -> str | None:
    """The chosen category, else the one last chosen for this vendor of the organization,
    else what the office's model (or the default keyword rules) suggests with confidence."""
    chosen = document.category
    if chosen is not None and chosen in categories.CATEGORIES:
        return chosen
    asked = asked or suggestions.Asked(uow, document)
    remembered = await asked.remembered()
    if remembered is not None:
        return remembered
    learned = await asked.suggestion()  # smart filing (issue 17)
    return learned.category if learned is not None else None


async def office_chart(uow: UnitOfWork, office_id: int) -> dict[str, Fraction]:
    return categories.chart(await uow.categories.office_shares(office_id))


async def set_vat_share(
    uow: UnitOfWork, person_id: int, office_id: int, category: str, raw_share: str, now: datetime
) -> Fraction:
    """An office changes the deductible VAT share of a category (its managers only)."""
    await require_in_office(uow, person_id, Action.MANAGE_TEAM, office_id)
    if category not in categories.CATEGORIES:
        raise InvalidValue("review.invalid_category")
    try:
        share = categories.parse_share(raw_share)
    except (ValueError, ZeroDivisionError):
        raise InvalidValue("review.invalid_share") from None
    if share == categories.DEFAULT_CHART[category]:
        # Back to the default: no override left, so a later change of the default applies.
        await uow.categories.clear_office_share(office_id, category)
    else:
        await uow.categories.set_office_share(office_id, category, share)
    await uow.audit.add(
        AuditEntry(
            action="office.category_share_set",
            actor_id=person_id,
            office_id=office_id,
            details={"office": office_id, "category": category, "share": str(share)},
            at=now,
        )
    )
    await uow.commit()
    return share


# --- the client's side ---------------------------------------------------------------------


async def returned_for_client(
    uow: UnitOfWork, person_id: int, document_id: int, *, sender_vouched: bool = False
) -> Document:
    """A returned document its sender may answer or withdraw: theirs, and only while they
    still may send to its organization (a revoked grant ends it, uploader or not).

    `sender_vouched`: an e-mail whose sender is on the organization's allowed list and
    passed its authentication (or that the office accepted) stands for that grant.
    """
    document = await uow.documents.get(document_id)
    if document is None or document.organization_id is None:
        raise NotFound()
    if document.uploaded_by != person_id or not (
        sender_vouched or await may(uow, person_id, Action.UPLOAD, document.organization_id)
    ):
        raise NotAllowed()
    if document.state is not DocumentState.RETURNED:
        raise Conflict("review.not_returned")
    return document


async def returned_to_me(uow: UnitOfWork, person_id: int, limit: int = 10) -> list[Document]:
    """The client's returned documents still waiting for an answer (for /status), of the
    organizations they may still send to."""
    found = await uow.documents.returned_to(person_id, limit)
    allowed = {
        org_id
        for org_id in {d.organization_id for d in found}
        if org_id is not None and await may(uow, person_id, Action.UPLOAD, org_id)
    }
    return [d for d in found if d.organization_id in allowed]


async def withdraw(uow: UnitOfWork, person_id: int, document_id: int, now: datetime) -> Document:
    document = await returned_for_client(uow, person_id, document_id)
    document.state = DocumentState.WITHDRAWN
    return await _save(uow, document, person_id, "document.withdrawn", now, {})


async def answer_text(
    uow: UnitOfWork,
    person_id: int,
    document_id: int,
    text: str,
    now: datetime,
    *,
    sender_vouched: bool = False,
) -> Document:
    document = await returned_for_client(
        uow, person_id, document_id, sender_vouched=sender_vouched
    )
    text = text.strip()[:2000]
    document.answer(Answer(kind="text", by=person_id, at=now, text=text))
    return await _save(uow, document, person_id, "document.answered", now, {"text": text})


async def answer_file(
    uow: UnitOfWork,
    person_id: int,
    document_id: int,
    stored: StoredFile,
    now: datetime,
    *,
    sender_vouched: bool = False,
) -> Document:
    """A new picture from the client, read again before the office sees it.

    After an automatic retake request the new file replaces the bad one (the office never
    saw it); after an accountant's return it becomes the next page. Either way the fields
    read so far are kept aside, so the card can show what the new reading changed.
    """
    document = await returned_for_client(
        uow, person_id, document_id, sender_vouched=sender_vouched
    )
    assert document.id is not None
    pages = await uow.documents.files(document.id)
    retake = document.waits_for_retake
    if retake:
        for page in pages:
            await uow.documents.remove_file(page)
        pages = []
    stored.document_id = document.id
    stored.page_order = max((p.page_order for p in pages), default=-1) + 1
    await uow.documents.add_file(stored)
    previous = {
        name: f.get("value")
        for name, f in document.fields.items()
        if not name.startswith("_") and isinstance(f, dict) and f.get("value") is not None
    }
    if retake:
        # Nothing reached the office: the new file is simply the document now.
        document.retaken()
    else:
        document.answer(Answer(kind="file", by=person_id, at=now, sha256=stored.sha256))
        document.fields = {**document.fields, "_previous": previous}
        document.state = DocumentState.RECEIVED  # read again before the office sees it
    await uow.jobs.enqueue(
        Job(kind=READ_JOB, payload={"document_id": document.id}, document_id=document.id)
    )
    return await _save(
        uow,
        document,
        person_id,
        "document.answered",
        now,
        {"sha256": stored.sha256, "page": stored.page_order, "replaced": retake},
        keep_changes=not retake,
    )


def changes(document: Document) -> list[tuple[str, object, object]]:
    """(field, before, after) for each field a new reading changed after a client's answer."""
    previous = document.fields.get("_previous")
    if not isinstance(previous, dict):
        return []
    names = [n for n in EDITABLE if n in previous or n in document.fields]
    result = []
    for name in names:
        now = (document.fields.get(name) or {}).get("value")
        before = previous.get(name)
        if now != before:
            result.append((name, before, now))
    return result


ALLOCATION_KINDS = (DocumentKind.TAX_INVOICE, DocumentKind.TAX_INVOICE_RECEIPT)


@dataclass(frozen=True)
class AllocationMissing:
    threshold: Decimal
    vat: Decimal | None  # what is not deductible without the number


def allocation_missing(document: Document) -> AllocationMissing | None:
    """A tax invoice above the threshold for its date, with no allocation number."""
    if document.kind not in ALLOCATION_KINDS or document.direction is Direction.INCOME:
        return None
    if _value(document, "allocation_number"):
        return None
    day, total, vat = (_value(document, n) for n in ("date", "total", "vat"))
    net = _value(document, "net")
    try:
        threshold = allocation_threshold(date.fromisoformat(str(day))) if day else None
        vat_amount = Decimal(str(vat)) if vat else None
        if net:
            before_vat = Decimal(str(net))
        elif total and vat_amount is not None:
            before_vat = Decimal(str(total)) - vat_amount
        else:
            return None
    except (ValueError, InvalidOperation):
        return None
    if threshold is None or abs(before_vat) <= threshold:
        return None
    return AllocationMissing(threshold, vat_amount)


def _value(document: Document, name: str) -> Any:
    field = document.fields.get(name)
    return field.get("value") if isinstance(field, dict) else None


async def set_direction(
    uow: UnitOfWork,
    person_id: int,
    document_id: int,
    version: int,
    direction: str,
    now: datetime,
) -> Document:
    """The accountant says the document is income (a sale) or an expense."""
    try:
        wanted = Direction(direction)
    except ValueError:
        raise InvalidValue("review.invalid") from None
    document = await _load(uow, person_id, document_id, version, Action.REVIEW)
    old = document.direction
    document.direction = wanted
    return await _save(
        uow,
        document,
        person_id,
        "document.direction_set",
        now,
        {"old": old.value, "new": wanted.value},
    )


async def returner_to_tell(uow: UnitOfWork, document: Document, now: datetime) -> int | None:
    """The accountant who returned the document, when they may be told of the answer now.

    Not during their office's quiet hours: the scheduler's tick tells them when those end.
    """
    accountant = document.last_return.by if document.last_return else None
    if accountant is None or document.organization_id is None:
        return None
    if not await may(uow, accountant, Action.REVIEW, document.organization_id):
        return None
    memberships = await uow.offices.memberships(accountant)
    office_ids = [m.office_id for m in memberships]
    schedules = await uow.reporting.schedules_for(office_ids) if office_ids else {}
    # The first office's hours, as the scheduler's deferred notice (core.reporting) reads them.
    schedule = schedules.get(min(office_ids)) if office_ids else None
    if is_quiet(now, quiet_of(schedule)):
        return None
    return accountant
