from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from core.books.entries import (
    ALLOCATION_MISSING,
    AT_THRESHOLD,
    NOT_TAX_INVOICE,
    PURCHASE_CREDIT,
    SHARE,
    MissingRate,
    entry_of,
    picture,
)
from core.categories import DEFAULT_CHART, chart
from core.domain import DocumentKind
from tests.books.factory import filed

NO_RATES: dict[tuple[str, date], Decimal] = {}


def test_a_tax_invoice_deducts_its_vat() -> None:
    entry = entry_of(filed(1, "1180.00", "180.00"), DEFAULT_CHART, NO_RATES)
    assert (entry.net, entry.vat, entry.total) == (Decimal("1000"), Decimal("180"), 1180)
    assert entry.deductible_vat == Decimal("180.00") and entry.reasons == ()
    assert entry.doc_type == 700 and entry.expense == Decimal("1000.00")


def test_the_category_share_limits_the_deduction() -> None:
    entry = entry_of(filed(1, "1180", "180", category="vehicle"), DEFAULT_CHART, NO_RATES)
    assert entry.deductible_vat == Decimal("120.00")
    assert entry.non_deductible_vat == Decimal("60.00") and entry.reasons == (SHARE,)
    assert entry.expense == Decimal("1060.00")
    meals = entry_of(filed(2, "118", "18", category="meals"), DEFAULT_CHART, NO_RATES)
    assert meals.deductible_vat == 0 and meals.reasons == (SHARE,)
    # An office's own share wins over the default.
    own = chart({"vehicle": Fraction(1, 4)})
    assert (
        entry_of(filed(3, "1180", "180", category="vehicle"), own, NO_RATES).deductible_vat == 45
    )


def test_over_the_allocation_threshold_without_a_number_nothing_is_deducted() -> None:
    # From 2026-06-01 the threshold is NIS 5,000 before VAT.
    over = entry_of(filed(1, "5901.18", "900.18"), DEFAULT_CHART, NO_RATES)
    assert over.net == Decimal("5001.00") and over.deductible_vat == 0
    assert over.reasons == (ALLOCATION_MISSING,)
    numbered = entry_of(filed(2, "5901.18", "900.18", allocation="123456789"), DEFAULT_CHART, {})
    assert numbered.deductible_vat == Decimal("900.18") and numbered.reasons == ()
    exact = entry_of(filed(3, "5900", "900"), DEFAULT_CHART, NO_RATES)
    assert exact.deductible_vat == 900 and exact.reasons == (AT_THRESHOLD,)
    # Before 2026 the threshold was NIS 20,000.
    early = entry_of(filed(4, "11800", "1800", day="2025-03-01"), DEFAULT_CHART, NO_RATES)
    assert early.deductible_vat == 1800


def test_a_receipt_is_not_a_tax_invoice() -> None:
    entry = entry_of(filed(1, "118", "18", kind=DocumentKind.RECEIPT), DEFAULT_CHART, NO_RATES)
    assert entry.deductible_vat == 0 and entry.reasons == (NOT_TAX_INVOICE,)


def test_a_credit_note_has_the_opposite_sign_whatever_was_read() -> None:
    for total, vat in (("-118", "-18"), ("118", "18")):
        entry = entry_of(
            filed(1, total, vat, kind=DocumentKind.CREDIT_NOTE), DEFAULT_CHART, NO_RATES
        )
        assert entry.doc_type == PURCHASE_CREDIT
        assert (entry.net, entry.vat, entry.total, entry.deductible_vat) == (-100, -18, -118, -18)


def test_a_foreign_currency_needs_the_rate_of_its_date() -> None:
    document = filed(1, "100", "0", kind=DocumentKind.INVOICE, currency="USD")
    with pytest.raises(MissingRate) as raised:
        entry_of(document, DEFAULT_CHART, NO_RATES)
    assert raised.value.currency == "USD" and raised.value.day == date(2026, 11, 5)
    entry = entry_of(document, DEFAULT_CHART, {("USD", date(2026, 11, 5)): Decimal("3.712")})
    assert entry.total == Decimal("371.20") and entry.foreign_total == 100
    assert entry.currency == "USD" and entry.rate == Decimal("3.712")


def test_the_picture_splits_equipment_and_counts_the_reasons() -> None:
    entries = [
        entry_of(filed(1, "1180", "180"), DEFAULT_CHART, NO_RATES),
        entry_of(filed(2, "2360", "360", category="equipment"), DEFAULT_CHART, NO_RATES),
        entry_of(filed(3, "1180", "180", category="vehicle"), DEFAULT_CHART, NO_RATES),
        entry_of(filed(4, "118", "18", kind=DocumentKind.CREDIT_NOTE), DEFAULT_CHART, NO_RATES),
        entry_of(filed(5, "50", "0", kind=DocumentKind.RECEIPT), DEFAULT_CHART, NO_RATES),
    ]
    result = picture(entries, to_file=2, returned=1)
    assert result.filed.documents == 5
    assert result.filed.total == Decimal("4652")
    assert result.equipment.deductible_vat == 360 and result.equipment.documents == 1
    assert result.other.deductible_vat == Decimal("180") + 120 - 18
    assert result.filed.deductible_vat == Decimal("642")
    assert result.not_deducted[SHARE].non_deductible_vat == 60
    assert result.not_deducted[NOT_TAX_INVOICE].documents == 1
    assert result.credit_notes == 1 and not result.ready
