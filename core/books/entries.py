"""A filed expense document in book terms, and a period's VAT picture.

Amounts are shekels, signed: a supplier's credit note (document type 710) is negative.
A document in a foreign currency keeps its currency and amount; its shekel amounts come
from the representative rate of its date, entered by the accountant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Protocol

from core.domain import DocumentKind
from core.reading.tax_rules import allocation_threshold

PURCHASE_INVOICE = 700  # חשבונית מס רכש (OPENFRMT appendix 1)
PURCHASE_CREDIT = 710  # זיכוי רכש
CENT = Decimal("0.01")
TAX_INVOICES = frozenset(
    {DocumentKind.TAX_INVOICE, DocumentKind.TAX_INVOICE_RECEIPT, DocumentKind.CREDIT_NOTE}
)
EQUIPMENT = "equipment"

# Why some or all of a document's VAT is not deducted.
SHARE = "share"  # the category allows only part of it (vehicle 2/3, meals 0 ...)
ALLOCATION_MISSING = "allocation_missing"  # over the threshold, no allocation number
NOT_TAX_INVOICE = "not_tax_invoice"  # a receipt, a proforma, a foreign invoice ...
REASONS = (SHARE, ALLOCATION_MISSING, NOT_TAX_INVOICE)
# Exactly at the threshold: sources disagree whether it needs a number; deducted, flagged.
AT_THRESHOLD = "allocation_at_threshold"


class MissingRate(ValueError):
    """A foreign-currency document without the representative rate of its date."""

    def __init__(self, currency: str, day: date, document_id: int | None) -> None:
        super().__init__(f"no {currency} rate for {day}")
        self.currency = currency
        self.day = day
        self.document_id = document_id


class Filed(Protocol):
    """What the books read of a document: a `Document`, or the lighter row an export reads."""

    @property
    def id(self) -> int | None: ...
    @property
    def kind(self) -> DocumentKind: ...
    @property
    def fields(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def category(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Entry:
    document_id: int
    doc_type: int  # PURCHASE_INVOICE or PURCHASE_CREDIT
    kind: DocumentKind
    number: str
    day: date
    vendor_name: str
    vendor_id: str  # nine digits, or "" when not read
    category: str
    currency: str  # ISO 4217; "ILS" for shekels
    foreign_total: Decimal | None  # the document's own total when not in shekels
    rate: Decimal | None
    net: Decimal
    vat: Decimal
    total: Decimal
    deductible_vat: Decimal
    allocation_number: str
    reasons: tuple[str, ...] = ()  # why VAT is not (fully) deducted, plus AT_THRESHOLD

    @property
    def non_deductible_vat(self) -> Decimal:
        return self.vat - self.deductible_vat

    @property
    def expense(self) -> Decimal:
        """What the expense account carries: the net and the VAT that cannot be deducted."""
        return self.net + self.non_deductible_vat

    @property
    def equipment(self) -> bool:
        return self.category == EQUIPMENT

    @property
    def credit(self) -> bool:
        return self.doc_type == PURCHASE_CREDIT


_NON_DIGIT = re.compile(r"\D")


def _field(document: Filed, name: str) -> str | None:
    entry = document.fields.get(name)
    if isinstance(entry, dict) and entry.get("value") not in (None, ""):
        return str(entry["value"])
    return None


def _decimal(raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = Decimal(raw.replace(",", "").replace("₪", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def document_day(document: Filed) -> date:
    """The tax point: the document's date, else the day it arrived."""
    raw = _field(document, "date")
    if raw:
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            pass
    assert document.created_at is not None
    return document.created_at.date()


def period_day(document: Filed) -> date:
    """The day that puts a document in a VAT period: a later period the accountant chose
    for a document that arrived after its own was closed, else its date."""
    moved = document.fields.get("_vat_period_day")
    if isinstance(moved, str):
        return date.fromisoformat(moved)
    return document_day(document)


def _share_of(vat: Decimal, share: Fraction) -> Decimal:
    exact = vat * share.numerator / share.denominator
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def entry_of(
    document: Filed,
    chart: Mapping[str, Fraction],
    rates: Mapping[tuple[str, date], Decimal],
    *,
    day: date | None = None,
) -> Entry:
    """The document as the books see it. Raises MissingRate for a foreign currency without
    the representative rate of the document's date (`day`, when the caller has it)."""
    assert document.id is not None
    if day is None:
        day = document_day(document)
    credit = document.kind is DocumentKind.CREDIT_NOTE
    sign = Decimal(-1) if credit else Decimal(1)
    total = abs(_decimal(_field(document, "total")) or Decimal(0)).quantize(CENT)
    vat = abs(_decimal(_field(document, "vat")) or Decimal(0)).quantize(CENT)
    currency = (_field(document, "currency") or "ILS").upper()
    foreign_total: Decimal | None = None
    rate: Decimal | None = None
    if currency != "ILS":
        rate = rates.get((currency, day))
        if rate is None:
            raise MissingRate(currency, day, document.id)
        foreign_total = sign * total
        total, vat = ((x * rate).quantize(CENT, rounding=ROUND_HALF_UP) for x in (total, vat))
    # The net is what the total leaves after VAT, so every journal entry balances.
    net = total - vat
    category = document.category or "other"
    share = chart.get(category, Fraction(1))
    allocation = _NON_DIGIT.sub("", _field(document, "allocation_number") or "")
    reasons: list[str] = []
    deductible = _share_of(vat, share)
    if document.kind not in TAX_INVOICES:
        reasons.append(NOT_TAX_INVOICE)
        deductible = Decimal("0.00")
    else:
        threshold = allocation_threshold(day)
        if threshold is not None and not credit and not allocation:
            if net > threshold:
                reasons.append(ALLOCATION_MISSING)
                deductible = Decimal("0.00")
            elif net == threshold:
                reasons.append(AT_THRESHOLD)
    if vat and share != 1 and NOT_TAX_INVOICE not in reasons:
        reasons.insert(0, SHARE)
    vendor_id = _NON_DIGIT.sub("", _field(document, "vendor_id") or "")
    return Entry(
        document_id=document.id,
        doc_type=PURCHASE_CREDIT if credit else PURCHASE_INVOICE,
        kind=document.kind,
        number=(_field(document, "doc_number") or "").strip(),
        day=day,
        vendor_name=(_field(document, "vendor_name") or "").strip(),
        vendor_id=vendor_id.zfill(9) if vendor_id else "",
        category=category,
        currency=currency,
        foreign_total=foreign_total,
        rate=rate,
        net=sign * net,
        vat=sign * vat,
        total=sign * total,
        deductible_vat=sign * deductible,
        allocation_number=allocation,
        reasons=tuple(reasons),
    )


@dataclass
class Sums:
    documents: int = 0
    net: Decimal = Decimal(0)
    vat: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    deductible_vat: Decimal = Decimal(0)

    def add(self, entry: Entry) -> None:
        self.documents += 1
        self.net += entry.net
        self.vat += entry.vat
        self.total += entry.total
        self.deductible_vat += entry.deductible_vat

    @property
    def non_deductible_vat(self) -> Decimal:
        return self.vat - self.deductible_vat


@dataclass
class VatPicture:
    """A period's filed expenses for the VAT report; built in one pass over the entries."""

    filed: Sums = field(default_factory=Sums)
    equipment: Sums = field(default_factory=Sums)  # inputs the VAT report lists apart
    other: Sums = field(default_factory=Sums)
    by_category: dict[str, Sums] = field(default_factory=dict)
    # reason -> (documents, VAT not deducted for that reason)
    not_deducted: dict[str, Sums] = field(default_factory=dict)
    at_threshold: int = 0
    credit_notes: int = 0
    foreign: int = 0
    to_file: int = 0  # documents of the period still waiting for the office
    returned: int = 0  # returned to the client and not answered

    def add(self, entry: Entry) -> None:
        self.filed.add(entry)
        (self.equipment if entry.equipment else self.other).add(entry)
        self.by_category.setdefault(entry.category, Sums()).add(entry)
        for reason in entry.reasons:
            if reason == AT_THRESHOLD:
                self.at_threshold += 1
            else:
                self.not_deducted.setdefault(reason, Sums()).add(entry)
        self.credit_notes += entry.credit
        self.foreign += entry.currency != "ILS"

    @property
    def ready(self) -> bool:
        """Nothing of the period waits for the office or the client."""
        return not self.to_file and not self.returned


def picture(entries: Iterable[Entry], to_file: int = 0, returned: int = 0) -> VatPicture:
    result = VatPicture(to_file=to_file, returned=returned)
    for entry in entries:
        result.add(entry)
    return result
