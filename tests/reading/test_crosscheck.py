from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.domain import DocumentKind
from core.reading.crosscheck import check_allocation, check_amounts, check_credit_note
from core.reading.result import FieldReading
from core.reading.tax_rules import allocation_threshold, vat_rate


def fields(**values: str | None) -> dict[str, FieldReading]:
    names = (
        "vendor_name",
        "vendor_id",
        "customer_id",
        "doc_number",
        "date",
        "total",
        "vat",
        "net",
        "currency",
        "allocation_number",
    )
    return {n: FieldReading(values.get(n), 0.7 if values.get(n) else 0.0, "read") for n in names}


def test_vat_rate_follows_the_documents_date() -> None:
    assert vat_rate(date(2024, 12, 30)) == Decimal("0.17")
    assert vat_rate(date(2025, 1, 1)) == Decimal("0.18")
    assert allocation_threshold(date(2025, 6, 1)) == Decimal("20000")
    assert allocation_threshold(date(2026, 6, 1)) == Decimal("5000")
    assert allocation_threshold(date(2024, 1, 1)) is None


def test_amounts_that_add_up_at_the_rate_in_force_are_trusted() -> None:
    read = fields(date="2025-03-01", total="1180.00", vat="180.00", net="1000.00")
    check_amounts(read, [], israeli=True)
    assert read["total"].confidence >= 0.95
    assert "18%" in read["total"].reason


def test_17_percent_on_a_2024_invoice_matches_but_not_on_a_2025_one() -> None:
    old = fields(date="2024-12-30", total="1170.00", vat="170.00", net="1000.00")
    check_amounts(old, [], israeli=True)
    assert "17%" in old["vat"].reason
    new = fields(date="2025-02-01", total="1170.00", vat="170.00", net="1000.00")
    check_amounts(new, [], israeli=True)
    assert "%" not in new["vat"].reason  # adds up, but not at the rate in force
    assert new["vat"].confidence < old["vat"].confidence


def test_amounts_that_do_not_add_up_lose_confidence() -> None:
    # Two digits off net + VAT (1,180.00): not one misread digit, so nothing is mended.
    read = fields(date="2025-03-01", total="1250.00", vat="180.00", net="1000.00")
    check_amounts(read, [], israeli=True)
    assert read["total"].confidence <= 0.5
    assert "does not add up" in read["total"].reason


def test_missing_vat_and_net_are_found_among_printed_amounts() -> None:
    read = fields(date="2025-03-01", total="1180.00")
    printed = [Decimal(v) for v in ("500.00", "1000.00", "180.00", "1180.00", "3.00")]
    check_amounts(read, printed, israeli=True)
    assert (read["net"].value, read["vat"].value) == ("1000.00", "180.00")


def test_credit_note_amounts_are_negative() -> None:
    read = fields(total="1180.00", vat="180.00", net="1000.00")
    check_credit_note(read, DocumentKind.CREDIT_NOTE)
    assert (read["total"].value, read["vat"].value) == ("-1180.00", "-180.00")


def test_missing_allocation_number_above_the_threshold_is_doubtful() -> None:
    read = fields(date="2026-02-01", net="12000.00")
    check_allocation(read, DocumentKind.TAX_INVOICE, text_layer=False, label_printed=False)
    assert read["allocation_number"].value is None
    assert read["allocation_number"].confidence < 0.5
    small = fields(date="2026-02-01", net="800.00")
    check_allocation(small, DocumentKind.TAX_INVOICE, text_layer=False, label_printed=False)
    assert small["allocation_number"].confidence >= 0.8


def test_a_total_a_character_off_what_net_and_vat_agree_on_is_mended() -> None:
    # "10,478.40" read as "0,478.40": net and VAT agree at 18%, the total is what they give.
    read = fields(date="2025-09-25", total="478.40", vat="1598.40", net="8880.00")
    check_amounts(read, [], israeli=True)
    assert read["total"].value == "10478.40" and read["total"].confidence < 0.9
    # A VAT line misread while net and total agree.
    read = fields(date="2025-09-25", total="10478.40", vat="1898.40", net="8880.00")
    check_amounts(read, [], israeli=True)
    assert read["vat"].value == "1598.40"


def test_a_total_far_from_net_plus_vat_is_not_overruled() -> None:
    # 10,478.40 less 5% deducted at source: the total differs on purpose, not by a misread.
    read = fields(date="2025-09-25", total="10034.40", vat="1598.40", net="8880.00")
    check_amounts(read, [], israeli=True)
    assert read["total"].value == "10034.40" and read["total"].confidence <= 0.5
