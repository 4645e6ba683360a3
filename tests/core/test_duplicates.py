"""Duplicates by content (issue 17): each rule on real pictures from the receipt factory.

The pictures go through the reader's own first steps (load, find the page on the table,
level it, fingerprint), without OCR: the fields a reading would give are set from the
factory's spec, as a perfect reader would read them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core import duplicates
from core.domain import Document, DocumentKind
from core.reading.fingerprint import Fingerprint
from core.reading.pipeline import Context, run_pipeline
from core.reading.steps import CheckQuality, Deskew, FindPage, LoadImage
from tests import receipt_factory as rf

START = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def fingerprint(data: bytes) -> str:
    ctx = run_pipeline(
        [LoadImage(), FindPage(), CheckQuality(), Deskew(), Fingerprint()],
        Context(data, "image/jpeg", engine=None, today=date(2026, 3, 6)),  # type: ignore[arg-type]
    )
    assert ctx.picture_hash is not None, ctx.steps
    return ctx.picture_hash


def document(
    number: int,
    spec: rf.ReceiptSpec | None,
    *,
    org: int = 1,
    picture: str | None = None,
    read: tuple[str, ...] = ("vendor_name", "vendor_id", "doc_number", "date", "total"),
    platform: str = "telegram",
) -> Document:
    fields: dict[str, object] = {}
    if spec is not None:
        expected = spec.expected()
        fields = {n: {"value": expected[n], "confidence": 0.9, "reason": ""} for n in read}
    if picture is not None:
        fields[duplicates.PICTURE_HASH] = picture
    return Document(
        uploaded_by=1,
        batch=f"b{number}",
        source_platform=platform,
        source_chat_id=1,
        source_message_id=number,
        organization_id=org,
        kind=DocumentKind.TAX_INVOICE,
        fields=fields,
        id=number,
        number=number,
        created_at=START + timedelta(hours=number),
    )


@pytest.fixture(scope="module")
def invoice() -> rf.ReceiptSpec:
    return rf.hebrew_invoice(seed=11)


@pytest.fixture(scope="module")
def same_vendor_same_day(invoice: rf.ReceiptSpec) -> rf.ReceiptSpec:
    """Another invoice of the same vendor on the same day: other number, other lines."""
    lines = [replace(line, quantity=line.quantity + 2) for line in invoice.lines]
    return replace(invoice, doc_number=str(int(invoice.doc_number) + 1), lines=lines)


@pytest.fixture(scope="module")
def pictures(invoice: rf.ReceiptSpec, same_vendor_same_day: rf.ReceiptSpec) -> dict[str, str]:
    page, other = rf.render(invoice), rf.render(same_vendor_same_day)
    first, _ = rf.on_table(page)
    # The same paper again: another angle and crop of the frame, another table, dimmer light.
    again, _ = rf.on_table(
        page,
        corners=((0.05, 0.12), (0.8, 0.05), (0.95, 0.85), (0.12, 0.95)),
        table=(90, 70, 50),
        light=0.55,
        seed=9,
    )
    different, _ = rf.on_table(other)
    return {
        "first": fingerprint(rf.jpeg_bytes(first)),
        "again": fingerprint(rf.jpeg_bytes(again, quality=70)),
        "different": fingerprint(rf.jpeg_bytes(different)),
    }


def test_a_retake_has_a_near_picture_hash(pictures: dict[str, str]) -> None:
    retake = duplicates.picture_distance(pictures["first"], pictures["again"])
    assert retake <= duplicates.PICTURE_DISTANCE, retake
    assert duplicates.picture_distance(pictures["first"], "not a hash") > 256


def test_the_same_receipt_photographed_again_is_caught_by_each_rule(
    invoice: rf.ReceiptSpec, pictures: dict[str, str]
) -> None:
    original = document(1, invoice, picture=pictures["first"])
    # Read fully: the vendor's business number and the document number.
    match = duplicates.find(document(2, invoice, picture=pictures["again"]), [original])
    assert match is not None and match.rule is duplicates.Rule.NUMBER
    assert match.original is original and not match.other_organization
    # The number not read: vendor, date and total.
    partly = document(2, invoice, read=("vendor_name", "date", "total"))
    match = duplicates.find(partly, [original])
    assert match is not None and match.rule is duplicates.Rule.VENDOR_DATE_TOTAL
    # Nothing read at all: the picture.
    unread = document(2, None, picture=pictures["again"])
    match = duplicates.find(unread, [original])
    assert match is not None and match.rule is duplicates.Rule.PICTURE


def test_two_receipts_of_one_vendor_on_one_day_are_not_duplicates(
    invoice: rf.ReceiptSpec, same_vendor_same_day: rf.ReceiptSpec, pictures: dict[str, str]
) -> None:
    original = document(1, invoice, picture=pictures["first"])
    # Read, it is told apart although its picture is as near as a retake's (one layout,
    # a few digits apart: no picture hash tells them apart, so read fields come first).
    near = document(2, same_vendor_same_day, picture=pictures["different"])
    assert duplicates.picture_distance(pictures["first"], pictures["different"]) <= (
        duplicates.PICTURE_DISTANCE
    )
    assert duplicates.find(near, [original]) is None
    # Same vendor, day and total, but both numbers read and different: two invoices.
    twin = replace(same_vendor_same_day, lines=invoice.lines)
    assert twin.total == invoice.total
    assert duplicates.find(document(2, twin), [original]) is None


def test_across_channels_and_organizations(invoice: rf.ReceiptSpec) -> None:
    # A chat photo first, then the PDF from the e-mail; typed a little differently.
    photo = document(1, invoice)
    pdf = document(2, invoice, platform="mail")
    pdf.fields["doc_number"] = {"value": f"INV-000{invoice.doc_number}", "confidence": 1}
    pdf.fields["vendor_id"] = {"value": f"{invoice.vendor_id[:2]}-{invoice.vendor_id[2:]}"}
    match = duplicates.find(pdf, [photo])
    assert match is not None and match.rule is duplicates.Rule.NUMBER
    # Sent to the client's other business: pointed out as such.
    elsewhere = document(3, invoice, org=2)
    match = duplicates.find(elsewhere, [photo])
    assert match is not None and match.other_organization
    assert duplicates.describe(match)["other_org"] is True
    # The earliest copy is the original; a pair the accountant kept is not proposed again.
    third = document(4, invoice)
    match = duplicates.find(third, [pdf, photo])
    assert match is not None and match.original is photo
    third.fields[duplicates.DISMISSED] = [1, 2]
    assert duplicates.find(third, [pdf, photo]) is None
    assert Decimal(str(invoice.total)) > 0
