"""Several receipts in one picture are told apart from one receipt; one receipt never is."""

from __future__ import annotations

import pytest

from core.reading import result
from core.reading.layout import Layout, Segment
from core.reading.several import find_split
from tests import receipt_factory as factory


def _column(x: int, rows: list[tuple[str, str]], *, top: int = 0) -> list[Segment]:
    """A receipt's rows as OCR boxes: a label at x, its amount 260 px to the right."""
    segments = []
    for number, (label, amount) in enumerate(rows):
        y = top + 40 * number
        segments.append(Segment(label, number, x, y, x + 12 * len(label), y + 20))
        if amount:
            segments.append(Segment(amount, number, x + 260, y, x + 330, y + 20))
    return segments


RECEIPT = [
    ("HARBOUR TRADING LTD", ""),
    ("12 Harbour Road", ""),
    ("Receipt No 4711", ""),
    ("Coffee beans", "54.90"),
    ("Paper cups", "25.00"),
    ("Delivery", "25.00"),
    ("Subtotal", "104.90"),
    ("Tax 10%", "10.49"),
    ("TOTAL", "115.39"),
]


def test_two_receipts_side_by_side_split_between_them() -> None:
    layout = Layout(_column(0, RECEIPT) + _column(600, RECEIPT, top=30), has_boxes=True)
    split = find_split(layout)
    assert split is not None and 330 < split < 600


def test_one_receipt_with_labels_and_amounts_in_columns_is_not_split() -> None:
    assert find_split(Layout(_column(0, RECEIPT), has_boxes=True)) is None


def test_a_second_column_without_a_total_is_not_a_second_document() -> None:
    notes = [(f"Note line {n} about delivery", "") for n in range(9)]
    layout = Layout(_column(0, RECEIPT) + _column(600, notes), has_boxes=True)
    assert find_split(layout) is None


def test_parts_one_above_the_other_are_not_side_by_side() -> None:
    layout = Layout(_column(0, RECEIPT) + _column(600, RECEIPT, top=800), has_boxes=True)
    assert find_split(layout) is None


def test_a_line_across_the_gap_joins_the_columns() -> None:
    crossing = [
        Segment("Thank you for shopping with us, see you soon again", 20, 100, 400, 700, 420),
        Segment("Goods sold are not returnable without the receipt", 21, 100, 440, 700, 460),
    ]
    layout = Layout(_column(0, RECEIPT) + _column(600, RECEIPT) + crossing, has_boxes=True)
    assert find_split(layout) is None


@pytest.mark.parametrize("pair", ["english", "hebrew", "mixed"])
@pytest.mark.parametrize("as_photo", [False, True])
def test_a_photo_of_two_receipts_asks_for_one_per_photo(read, pair, as_photo) -> None:  # type: ignore[no-untyped-def]
    first, second = {
        "english": (factory.english_receipt(seed=2), factory.english_receipt(seed=9)),
        "hebrew": (factory.hebrew_invoice(seed=7), factory.hebrew_invoice(seed=8)),
        "mixed": (factory.hebrew_invoice(seed=7), factory.english_receipt(seed=3)),
    }[pair]
    image = factory.side_by_side(
        factory.render(first), factory.render(second), stagger=120 if pair == "mixed" else 0
    )
    if as_photo:
        reading = read(factory.photo(image, rotate=2, scale=0.6), "image/jpeg")
    else:
        reading = read(factory.png_bytes(image))
    assert result.SEVERAL_DOCUMENTS in reading.problems


SINGLE_PHOTOS = {
    "scan": {},
    "tilted": {"rotate": 2, "scale": 0.8},
    "on its side": {"rotate": -87, "blur": 0.6, "scale": 0.9, "uneven_light": True},
    "upside down": {"rotate": 180},
    "shaded": {"uneven_light": True, "scale": 0.7},
    "perspective": {"perspective": 0.06, "noise": 6},
}


@pytest.mark.parametrize("variant", list(SINGLE_PHOTOS))
@pytest.mark.parametrize("language", ["hebrew", "english"])
def test_one_receipt_is_not_taken_for_several(read, hebrew_invoice, variant, language) -> None:  # type: ignore[no-untyped-def]
    spec = hebrew_invoice if language == "hebrew" else factory.english_receipt()
    image = factory.render(spec)
    reading = read(factory.photo(image, **SINGLE_PHOTOS[variant]), "image/jpeg")
    assert result.SEVERAL_DOCUMENTS not in reading.problems
    assert reading.value("total") == spec.expected()["total"]
