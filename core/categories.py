"""The default chart of Israeli expense categories and the share of VAT each may deduct.

An office may override a share (office_categories); the chosen category of a document is
kept in `Document.category` and remembered per vendor of the organization.
"""

from __future__ import annotations

import re
from fractions import Fraction

from core.domain import Document

# Key -> the share of the input VAT that is deductible (Israeli VAT regulations 14-18).
DEFAULT_CHART: dict[str, Fraction] = {
    "vehicle": Fraction(2, 3),
    "fuel": Fraction(2, 3),
    "office_supplies": Fraction(1),
    "communications": Fraction(2, 3),
    "rent": Fraction(1),
    "professional_services": Fraction(1),
    "meals": Fraction(0),
    "travel": Fraction(1),
    "equipment": Fraction(1),
    "insurance": Fraction(0),  # exempt from VAT: nothing to deduct
    "bank_fees": Fraction(0),
    "salaries": Fraction(0),
    "other": Fraction(1),
}
CATEGORIES = tuple(DEFAULT_CHART)


def chart(overrides: dict[str, Fraction]) -> dict[str, Fraction]:
    """The office's chart: the default, with the office's own shares where it set one."""
    return {key: overrides.get(key, share) for key, share in DEFAULT_CHART.items()}


def parse_share(raw: str) -> Fraction:
    """ "2/3", "0.5", "1", "66.67%"… as a fraction between 0 and 1; ValueError otherwise."""
    value = raw.strip().replace(" ", "")
    percent = value.endswith("%")
    share = Fraction(value.rstrip("%"))
    if percent:
        share /= 100
    if not 0 <= share <= 1:
        raise ValueError(raw)
    return share.limit_denominator(1000)


def vendor_key(document: Document) -> str | None:
    """The vendor's business number when read, else its name normalised; None if neither."""
    number = _value(document, "vendor_id")
    if number:
        digits = re.sub(r"\D", "", number)
        if digits:
            return "id:" + digits.zfill(9)
    name = _value(document, "vendor_name")
    return name_key(name) if name else None


def name_key(name: str) -> str | None:
    """A vendor's name as a key: case, punctuation and "Ltd" do not tell vendors apart."""
    words = re.sub(r"[^\w]+", " ", name.casefold()).split()
    # "Ltd" and its Hebrew forms say nothing about who the vendor is.
    words = [w for w in words if w not in {"ltd", "בעמ", "בע", "מ", "inc", "llc"}]
    if words:
        return ("name:" + " ".join(words))[:120]
    return None


def _value(document: Document, field: str) -> str | None:
    entry = document.fields.get(field)
    if isinstance(entry, dict) and entry.get("value"):
        return str(entry["value"])
    return None
