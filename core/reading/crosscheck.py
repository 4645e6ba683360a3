"""Cross-checks between fields: they raise confidence when the numbers agree, lower it if not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.domain import DocumentKind
from core.reading.amounts import format_amount
from core.reading.result import FieldReading
from core.reading.tax_rules import allocation_threshold, vat_rate

CENT = Decimal("0.01")
# Kinds on which Israel Invoices may require an allocation number.
ALLOCATION_KINDS = {
    DocumentKind.TAX_INVOICE,
    DocumentKind.TAX_INVOICE_RECEIPT,
    DocumentKind.CREDIT_NOTE,
}


def _decimal(reading: FieldReading | None) -> Decimal | None:
    return Decimal(reading.value) if reading and reading.value is not None else None


def _date(reading: FieldReading | None) -> date | None:
    return date.fromisoformat(reading.value) if reading and reading.value else None


def _set(
    fields: dict[str, FieldReading], name: str, value: Decimal, conf: float, reason: str
) -> None:
    fields[name] = FieldReading(format_amount(value), conf, reason)


def vat_matches(net: Decimal, vat: Decimal, rate: Decimal) -> bool:
    # Documents round VAT per line or on the sum: allow a few agorot.
    return abs(abs(net) * rate - abs(vat)) <= Decimal("0.05") and net * vat >= 0


def _find_triple(
    amounts: list[Decimal], rate: Decimal, total: Decimal | None = None
) -> tuple[Decimal, Decimal, Decimal] | None:
    """(net, vat, total) among the printed amounts with vat = net x rate; largest total wins."""
    values = sorted({a for a in amounts if a}, key=abs)
    present = set(values)
    best: tuple[Decimal, Decimal, Decimal] | None = None
    for net in values:
        for vat in values:
            if abs(vat) >= abs(net) or not vat_matches(net, vat, rate):
                continue
            gross = net + vat
            wanted = gross in present and (total is None or gross == total)
            if wanted and (best is None or abs(gross) > abs(best[2])):
                best = (net, vat, gross)
    return best


def _reject(fields: dict[str, FieldReading], name: str, reason: str) -> None:
    fields[name] = FieldReading(None, 0.0, f"{fields[name].value} rejected: {reason}")


def reject_impossible(fields: dict[str, FieldReading]) -> None:
    """A net equal to the VAT, or a VAT equal to the total, is one line's amount taken twice
    (the net line's number was not read; the VAT label sat next to the total). A VAT of
    more than half the total is no VAT at any rate under 100%: the taxable amount of a tax
    summary row ("SR @ 6%  8.21  0.49", its VAT the last figure). Unless a net larger than
    it was read: then the total is the suspect (a digit lost), mended from the two below."""
    total, vat, net = (_decimal(fields.get(n)) for n in ("total", "vat", "net"))
    if vat is not None and net is not None and vat == net:
        _reject(fields, "net", "equal to the VAT amount")
    if vat is not None and total is not None and vat == total:
        _reject(fields, "vat", "equal to the total")
    elif (
        vat is not None
        and total is not None
        and 2 * abs(vat) > abs(total)
        and (net is None or abs(net) <= abs(vat))
    ):
        _reject(fields, "vat", "more than half the total")


def check_amounts(
    fields: dict[str, FieldReading], amounts: list[Decimal], *, israeli: bool
) -> None:
    reject_impossible(fields)
    total, vat, net = (_decimal(fields.get(n)) for n in ("total", "vat", "net"))
    doc_date = _date(fields.get("date"))
    rate = vat_rate(doc_date) if doc_date and israeli else None
    pct = f"{rate * 100:.0f}%" if rate is not None else ""

    if total is not None and vat is not None and net is not None and net + vat == total:
        if rate is not None and vat_matches(net, vat, rate):
            reason, conf = f"total = net + VAT at {pct}", 0.97
        else:
            reason, conf = "total = net + VAT", 0.93
        for name, value in (("total", total), ("vat", vat), ("net", net)):
            _set(fields, name, value, max(fields[name].confidence, conf), reason)
        return
    if rate is not None:
        triple = _find_triple(amounts, rate, total) or (
            _find_triple(amounts, rate) if total is None else None
        )
        if triple:
            reason = f"total = net + VAT at {pct} (found among printed amounts)"
            conf = 0.95 if total is not None else 0.85
            for name, value in zip(("net", "vat", "total"), triple, strict=True):
                _set(fields, name, value, conf, reason)
            return
    if (
        total is not None
        and vat is not None
        and net is None
        and rate is not None
        and vat_matches(total - vat, vat, rate)
    ):
        _set(fields, "net", total - vat, 0.9, f"total - VAT, VAT at {pct}")
        fields["total"].confidence = max(fields["total"].confidence, 0.9)
        fields["vat"].confidence = max(fields["vat"].confidence, 0.9)
        return
    # Any two amounts that agree at the rate of the document's date give the third.
    if (
        total is None
        and vat is not None
        and net is not None
        and rate is not None
        and (vat_matches(net, vat, rate))
    ):
        _set(fields, "total", net + vat, 0.88, f"net + VAT, VAT at {pct}")
        fields["net"].confidence = max(fields["net"].confidence, 0.88)
        fields["vat"].confidence = max(fields["vat"].confidence, 0.88)
        return
    if (
        vat is None
        and total is not None
        and net is not None
        and rate is not None
        and (vat_matches(net, total - net, rate))
    ):
        _set(fields, "vat", total - net, 0.88, f"total - net, VAT at {pct}")
        fields["total"].confidence = max(fields["total"].confidence, 0.88)
        fields["net"].confidence = max(fields["net"].confidence, 0.88)
        return
    if (
        total is not None
        and vat is not None
        and net is not None
        and rate is not None
        and _mend_one(fields, total, vat, net, rate, pct)
    ):
        return
    if total is not None and vat is not None and net is not None:
        # Parts that do not add up: one of them is misread.
        for name in ("total", "vat", "net"):
            if fields.get(name) and fields[name].value is not None:
                fields[name].confidence = round(min(fields[name].confidence, 0.5), 3)
                fields[name].reason += ", does not add up with the other amounts"


def _edits(a: str, b: str) -> int:
    """Characters to change, add or drop to turn `a` into `b` (Levenshtein)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def _misread_of(read: Decimal, value: Decimal) -> bool:
    """`read` is `value` with one digit changed, slipped in or dropped, or with its leading
    digits lost (a column's edge cut "10,478.40" to "0,478.40")."""
    got, wanted = (format_amount(abs(v)).replace(".", "") for v in (read, value))
    if (read < 0) != (value < 0):
        return False
    return _edits(got, wanted) <= 1 or (len(got) >= 4 and wanted.endswith(got))


def _mend_one(
    fields: dict[str, FieldReading],
    total: Decimal,
    vat: Decimal,
    net: Decimal,
    rate: Decimal,
    pct: str,
) -> bool:
    """Net, VAT and total that do not add up, two of them agreeing at the date's rate while
    the third is a digit off what they give or lost its leading digits ("0,478.40" for
    10,478.40): the third was misread, and is what the other two give. A third further off
    is left alone (a deduction at source or a deposit makes the total differ on purpose)."""
    options = (
        ("total", net + vat, vat_matches(net, vat, rate), ("vat", "net")),
        ("net", total - vat, vat_matches(total - vat, vat, rate), ("total", "vat")),
        ("vat", total - net, vat_matches(net, total - net, rate), ("total", "net")),
    )
    read = {"total": total, "vat": vat, "net": net}
    mended = [
        (name, value, others)
        for name, value, agree, others in options
        if agree and _misread_of(read[name], value)
    ]
    if len(mended) != 1:
        return False
    name, value, others = mended[0]
    _set(
        fields,
        name,
        value,
        0.8,
        f"{' and '.join(others)} agree at {pct}; {format_amount(read[name])} was misread",
    )
    for other in others:
        fields[other].confidence = max(fields[other].confidence, 0.8)
    return True


def check_credit_note(fields: dict[str, FieldReading], kind: DocumentKind) -> None:
    """Credit notes are negative expenses, whether or not the paper prints a minus."""
    if kind != DocumentKind.CREDIT_NOTE:
        return
    for name in ("total", "vat", "net"):
        value = _decimal(fields.get(name))
        if value is not None and value > 0:
            fields[name].value = format_amount(-value)
            fields[name].reason += ", negative on a credit note"


def check_allocation(
    fields: dict[str, FieldReading], kind: DocumentKind, *, text_layer: bool, label_printed: bool
) -> None:
    reading = fields["allocation_number"]
    if reading.value is not None:
        return
    net = _decimal(fields.get("net"))
    doc_date = _date(fields.get("date"))
    threshold = allocation_threshold(doc_date) if doc_date else None
    if label_printed:
        fields["allocation_number"] = FieldReading(None, 0.1, "label printed, number not read")
    elif kind == DocumentKind.UNKNOWN:
        # The title was not read: it may be a tax invoice that carries one.
        fields["allocation_number"] = FieldReading(None, 0.4, "none read, kind unknown")
    elif kind not in ALLOCATION_KINDS:
        fields["allocation_number"] = FieldReading(None, 0.9, f"not expected on a {kind}")
    elif net is None or threshold is None:
        fields["allocation_number"] = FieldReading(None, 0.5, "none read")
    elif abs(net) > threshold:
        fields["allocation_number"] = FieldReading(
            None, 0.2, f"none read, but required above {threshold} before VAT on this date"
        )
    else:
        conf = 0.95 if text_layer else 0.85
        fields["allocation_number"] = FieldReading(
            None, conf, f"none read, not required up to {threshold} before VAT"
        )
