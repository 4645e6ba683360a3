"""Dated Israeli tax figures. Rates change by law: add a row, never edit logic."""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from decimal import Decimal

# (valid from, standard VAT rate)
VAT_RATES: tuple[tuple[date, Decimal], ...] = (
    (date(2013, 6, 2), Decimal("0.18")),
    (date(2015, 10, 1), Decimal("0.17")),
    (date(2025, 1, 1), Decimal("0.18")),
)

# (valid from, amount before VAT above which a tax invoice needs an allocation number)
ALLOCATION_THRESHOLDS: tuple[tuple[date, Decimal], ...] = (
    (date(2024, 5, 5), Decimal("25000")),
    (date(2025, 1, 1), Decimal("20000")),
    (date(2026, 1, 1), Decimal("10000")),
    (date(2026, 6, 1), Decimal("5000")),
)


def _in_force(table: tuple[tuple[date, Decimal], ...], on: date) -> Decimal | None:
    index = bisect_right([start for start, _ in table], on)
    return table[index - 1][1] if index else None


def vat_rate(on: date) -> Decimal | None:
    """The standard rate in force on `on` (the document's date), None before the table."""
    return _in_force(VAT_RATES, on)


def allocation_threshold(on: date) -> Decimal | None:
    """None before Israel Invoices started: no allocation number was required."""
    return _in_force(ALLOCATION_THRESHOLDS, on)


def known_vat_rates() -> set[Decimal]:
    return {rate for _, rate in VAT_RATES}
