"""The same invoice however it arrives: likely duplicates by content, proposed, never deleted.

Three rules, strongest first (after dmadan86/waves PR #395, "proposes, never blocks"):
1. the vendor's business number with the document number (a strong key in Israel);
2. the vendor, the date and the total (a receipt read without its number);
3. a perceptual hash of the picture, for documents whose fields could not be read.

A match is kept in `document.fields["_duplicate"]`; the accountant approves, keeps both or
returns it as a duplicate. Candidates come from the document's organization and the sender's
other organizations: the same invoice sent to another of them was sent to the wrong business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core.categories import name_key
from core.domain import AccessLevel, AuditEntry, Document
from core.ports import UnitOfWork

if TYPE_CHECKING:
    from PIL import Image

DUPLICATE = "_duplicate"  # in Document.fields: {"of", "number", "org", "rule", "at"}
DISMISSED = "_not_duplicate"  # ids the accountant said are different documents
PICTURE_HASH = "_picture"  # hex perceptual hash of the first page, as read
LOOK_BACK = timedelta(days=400)  # an invoice is sent again within the year, not years later
CANDIDATES = 3000  # newest documents compared; older ones are rarely sent again
# Bits (of 256) two pictures of one page may differ by. Measured on factory receipts
# (tests/core/test_duplicates.py): the same page on another table, angle, crop and light 14,
# a receipt of another layout 140; but another receipt of the same layout a few digits apart
# is 4: a picture hash cannot tell those apart, which is why it is only asked when no field
# was read (and only proposes).
PICTURE_DISTANCE = 20
HASH_SIZE = 16


class Rule(StrEnum):
    NUMBER = "number"  # vendor's business number + document number
    VENDOR_DATE_TOTAL = "vendor_date_total"
    PICTURE = "picture"


@dataclass(frozen=True)
class Match:
    original: Document
    rule: Rule
    other_organization: bool  # the original went to another of the client's organizations


def _value(document: Document, name: str) -> str | None:
    entry = document.fields.get(name)
    if isinstance(entry, dict) and entry.get("value"):
        return str(entry["value"])
    return None


def number_key(document: Document) -> str | None:
    """Vendor business number + document number, normalised; None unless both were read."""
    vendor, number = _value(document, "vendor_id"), _value(document, "doc_number")
    if not vendor or not number:
        return None
    digits = re.sub(r"\D", "", vendor)
    # "INV-000123" and "123" are the same number as a bookkeeper types it.
    doc = re.sub(r"\D", "", number).lstrip("0") or re.sub(r"\W", "", number).upper()
    if not digits or not doc:
        return None
    return f"{digits.zfill(9)}:{doc}"


def vendor_keys(document: Document) -> set[str]:
    """Every way the vendor was read: business number and name (either may be missing)."""
    keys = set()
    if number := _value(document, "vendor_id"):
        digits = re.sub(r"\D", "", number)
        if digits:
            keys.add("id:" + digits.zfill(9))
    if (name := _value(document, "vendor_name")) and (key := name_key(name)):
        keys.add(key)
    return keys


def content_key(document: Document) -> str | None:
    """Date + total; None unless both and some vendor were read (see `same_content`)."""
    day, total = _value(document, "date"), _value(document, "total")
    if not day or not total or not vendor_keys(document):
        return None
    try:
        amount = Decimal(total.replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return f"{day}|{abs(amount)}"


def same_content(a: Document, b: Document) -> bool:
    """One vendor (by number where both have it, else by name), one date, one total."""
    key = content_key(a)
    if key is None or key != content_key(b):
        return False
    ka, kb = vendor_keys(a), vendor_keys(b)
    ids_a = {k for k in ka if k.startswith("id:")}
    ids_b = {k for k in kb if k.startswith("id:")}
    if ids_a and ids_b:
        return bool(ids_a & ids_b)
    return bool(ka & kb)


def is_unread(document: Document) -> bool:
    """Neither key could be formed: only the picture can tell."""
    return number_key(document) is None and content_key(document) is None


def picture_hash(image: Image.Image) -> str:
    """A perceptual hash of a page that survives another crop, light and JPEG compression.

    Grey, contrast stretched (light), and the outer 4% cut (what a crop changes most).
    """
    import imagehash
    from PIL import ImageOps

    factor = max(1, max(image.size) // 512)
    small = image.reduce(factor) if factor > 1 else image  # the hash looks at 64x64 anyway
    gray = ImageOps.autocontrast(ImageOps.grayscale(small), cutoff=2)
    w, h = gray.size
    mx, my = int(w * 0.04), int(h * 0.04)
    inner = gray.crop((mx, my, w - mx, h - my)) if w > 50 and h > 50 else gray
    return str(imagehash.phash(inner, hash_size=HASH_SIZE))


def picture_distance(a: str, b: str) -> int:
    import imagehash

    try:
        return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))
    except (ValueError, TypeError):
        return 10_000


def find(document: Document, candidates: list[Document]) -> Match | None:
    """The best earlier document this one is probably a copy of; pure, for tests and bench."""
    dismissed = set(document.fields.get(DISMISSED) or [])
    others = [
        c for c in candidates if c.id is not None and c.id != document.id and c.id not in dismissed
    ]
    # Earliest original first: a third copy points at the first, not at the second copy.
    others.sort(key=lambda c: (c.created_at or datetime.min, c.id or 0))
    own = document.organization_id
    number = number_key(document)
    if number is not None:
        for candidate in others:
            if number_key(candidate) == number:
                return Match(candidate, Rule.NUMBER, candidate.organization_id != own)
    if content_key(document) is not None:
        for candidate in others:
            if not same_content(document, candidate):
                continue
            theirs = number_key(candidate)
            if number is not None and theirs is not None and theirs != number:
                continue  # two invoices of one vendor, one day, one amount: numbers differ
            return Match(candidate, Rule.VENDOR_DATE_TOTAL, candidate.organization_id != own)
    mine = document.fields.get(PICTURE_HASH)
    if isinstance(mine, str) and is_unread(document):
        best: tuple[int, Document] | None = None
        for candidate in others:
            theirs_hash = candidate.fields.get(PICTURE_HASH)
            if not isinstance(theirs_hash, str):
                continue
            distance = picture_distance(mine, theirs_hash)
            if distance <= PICTURE_DISTANCE and (best is None or distance < best[0]):
                best = (distance, candidate)
        if best is not None:
            return Match(best[1], Rule.PICTURE, best[1].organization_id != own)
    return None


def describe(match: Match, source: str | None = None) -> dict[str, Any]:
    """What the card and the client's notice need, kept on the document."""
    original = match.original
    return {
        "of": original.id,
        "number": original.number,
        "org": original.organization_id,
        "rule": match.rule.value,
        "at": original.created_at.isoformat() if original.created_at else None,
        "platform": source or original.source_platform,
        "other_org": match.other_organization,
    }


async def check(uow: UnitOfWork, document: Document, now: datetime) -> Match | None:
    """Marks a freshly read document that is probably a copy of an earlier one.

    Does not commit: it runs inside the reading's transaction, so a reading lands with its
    duplicate mark or not at all.
    """
    if document.organization_id is None:
        return None
    organizations = {document.organization_id}
    # The client's own organizations (not an accountant's whole office): the same invoice
    # there was sent to the wrong business. Only those the same office serves: another
    # office must not learn of a document it has no access to.
    offices = await _offices(uow, document.organization_id)
    for organization in await uow.organizations.for_person(
        document.uploaded_by, AccessLevel.UPLOADER
    ):
        if organization.id is not None and offices & await _offices(uow, organization.id):
            organizations.add(organization.id)
    candidates = await uow.filing.candidates(
        sorted(organizations), since=now - LOOK_BACK, limit=CANDIDATES
    )
    match = find(document, candidates)
    fields = {k: v for k, v in document.fields.items() if k != DUPLICATE}
    if match is not None:
        fields[DUPLICATE] = describe(match)
        if match.other_organization and match.original.organization_id is not None:
            other = await uow.organizations.get(match.original.organization_id)
            fields[DUPLICATE]["org_name"] = other.name if other else None
        await uow.audit.add(
            AuditEntry(
                action="document.duplicate_suspected",
                organization_id=document.organization_id,
                document_id=document.id,
                details={"of": match.original.id, "rule": match.rule.value},
                at=now,
            )
        )
    document.fields = fields
    return match


async def _offices(uow: UnitOfWork, organization_id: int) -> set[int]:
    grants = await uow.organizations.offices_with_access(organization_id)
    return {g.office_id for g in grants if g.revoked_at is None}


def suspected(document: Document) -> dict[str, Any] | None:
    mark = document.fields.get(DUPLICATE)
    return mark if isinstance(mark, dict) and mark.get("of") else None


async def keep_both(
    uow: UnitOfWork, person_id: int, document_id: int, version: int, now: datetime
) -> Document:
    """The accountant says they are different documents: the mark goes, and this pair is not
    proposed again (a new reading of the document still compares it with the others)."""
    from core import review  # review imports the reading side; keep this module light

    document = await review.current(uow, person_id, document_id, version)
    mark = suspected(document)
    if mark is None:
        return document
    dismissed = sorted({*(document.fields.get(DISMISSED) or []), int(mark["of"])})
    fields = {k: v for k, v in document.fields.items() if k != DUPLICATE}
    document.fields = {**fields, DISMISSED: dismissed}
    return await review._save(
        uow, document, person_id, "document.duplicate_dismissed", now, {"of": mark["of"]}
    )
