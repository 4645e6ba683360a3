"""End to end with the real Tesseract on factory-made documents."""

from __future__ import annotations

from datetime import date

from core.domain import DocumentKind
from tests import receipt_factory as factory

MONEY = ("total", "vat", "net")


def test_hebrew_tax_invoice_is_read_with_trusted_amounts(
    read,
    hebrew_invoice,  # type: ignore[no-untyped-def]
    hebrew_invoice_png,
) -> None:
    reading = read(hebrew_invoice_png)
    expected = hebrew_invoice.expected()
    assert reading.kind == DocumentKind.TAX_INVOICE
    for name in (
        "vendor_id",
        "customer_id",
        "doc_number",
        "date",
        *MONEY,
        "currency",
        "allocation_number",
    ):
        assert reading.value(name) == expected[name], name
    assert reading.fields["total"].confidence >= 0.9
    assert reading.fields["vendor_id"].reason.startswith("check digit ok")
    assert reading.problems == []


def test_english_receipt(read) -> None:  # type: ignore[no-untyped-def]
    spec = factory.english_receipt()
    reading = read(factory.photo(factory.render(spec), jpeg_quality=90), "image/jpeg")
    expected = spec.expected()
    assert reading.kind == DocumentKind.RECEIPT
    for name in ("doc_number", "date", *MONEY, "currency", "vendor_name"):
        assert reading.value(name) == expected[name], name


def test_photo_turned_on_its_side_and_tilted_is_read(read, hebrew_invoice) -> None:  # type: ignore[no-untyped-def]
    image = factory.render(hebrew_invoice)
    photo = factory.photo(image, rotate=-87, blur=0.6, scale=0.9, uneven_light=True)
    reading = read(photo, "image/jpeg")
    expected = hebrew_invoice.expected()
    assert reading.value("total") == expected["total"]
    assert reading.value("vendor_id") == expected["vendor_id"]


def test_upside_down_photo_is_read(read, hebrew_invoice) -> None:  # type: ignore[no-untyped-def]
    photo = factory.photo(factory.render(hebrew_invoice), rotate=180)
    reading = read(photo, "image/jpeg")
    assert reading.value("total") == hebrew_invoice.expected()["total"]


def test_blurred_photo_is_flagged_blurry(read, hebrew_invoice) -> None:  # type: ignore[no-untyped-def]
    photo = factory.photo(factory.render(hebrew_invoice), blur=6, scale=0.6)
    reading = read(photo, "image/jpeg")
    assert "blurry" in reading.problems
    assert all(f.confidence < 0.9 for f in reading.fields.values() if f.value)


def test_sharp_photo_is_not_flagged(read, hebrew_invoice) -> None:  # type: ignore[no-untyped-def]
    photo = factory.photo(factory.render(hebrew_invoice), rotate=2, scale=0.8)
    reading = read(photo, "image/jpeg")
    assert reading.problems == []


def test_blank_page_stops_before_ocr(read) -> None:  # type: ignore[no-untyped-def]
    reading = read(factory.photo(factory.blank_page()), "image/jpeg")
    assert reading.problems == ["blank"]
    assert "ocr" not in reading.steps
    assert reading.confidence == 0.0


def test_dark_photo_is_flagged(read, hebrew_invoice) -> None:  # type: ignore[no-untyped-def]
    photo = factory.photo(factory.render(hebrew_invoice), dark=0.2, scale=0.6)
    assert "dark" in read(photo, "image/jpeg").problems


def test_credit_note_amounts_are_negative(read) -> None:  # type: ignore[no-untyped-def]
    spec = factory.hebrew_invoice(DocumentKind.CREDIT_NOTE, seed=11)
    reading = read(factory.png_bytes(factory.render(spec)))
    assert reading.kind == DocumentKind.CREDIT_NOTE
    assert reading.value("total") == spec.expected()["total"]
    assert reading.value("total").startswith("-")


def test_vat_at_17_percent_is_trusted_on_a_2024_invoice(read) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    spec = factory.hebrew_invoice(
        seed=5, issued=date(2024, 11, 3), vat_rate=Decimal("0.17"), allocation=False
    )
    reading = read(factory.png_bytes(factory.render(spec)), today=date(2024, 12, 1))
    assert reading.value("vat") == spec.expected()["vat"]
    assert "17%" in reading.fields["vat"].reason


def test_card_slip_is_recognised(read) -> None:  # type: ignore[no-untyped-def]
    reading = read(factory.png_bytes(factory.card_slip()))
    assert reading.kind == DocumentKind.CARD_SLIP
    assert "card_slip" in reading.problems


def test_pdf_text_layer_is_read_without_ocr(read) -> None:  # type: ignore[no-untyped-def]
    pdf = factory.text_pdf(
        [
            "HARBOUR TRADING LTD",
            "Invoice No: INV-2041",
            "Invoice Date: 05/03/2026",
            "Subtotal $100.00",
            "VAT 18% $18.00",
            "Total $118.00",
        ]
    )
    reading = read(pdf, "application/pdf")
    assert "ocr" not in reading.steps
    assert reading.kind == DocumentKind.INVOICE
    assert (reading.value("doc_number"), reading.value("date"), reading.value("total")) == (
        "INV-2041",
        "2026-03-05",
        "118.00",
    )
    assert reading.fields["total"].confidence >= 0.9


def test_scanned_pdf_is_ocrd(read, hebrew_invoice) -> None:  # type: ignore[no-untyped-def]
    pdf = factory.image_pdf(factory.render(hebrew_invoice))
    reading = read(pdf, "application/pdf")
    assert "ocr" in reading.steps
    assert reading.value("total") == hebrew_invoice.expected()["total"]


def test_encrypted_pdf_is_a_problem(read) -> None:  # type: ignore[no-untyped-def]
    reading = read(factory.encrypted_pdf(), "application/pdf")
    assert reading.problems == ["encrypted_pdf"]


def test_broken_pdf_is_a_problem(read) -> None:  # type: ignore[no-untyped-def]
    reading = read(factory.broken_pdf(), "application/pdf")
    assert reading.problems == ["unreadable_pdf"]
