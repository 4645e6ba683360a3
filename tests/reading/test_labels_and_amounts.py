"""Labels misread or varied (the buyer's number, the document number), vendor names,
and amounts that give each other: net, VAT and total at the VAT rate of the document's
date."""

from __future__ import annotations

from datetime import date

import pytest

from core.domain import DocumentKind
from core.reading.crosscheck import check_amounts
from core.reading.fields import read_date, read_doc_number, read_ids, read_vendor_name
from core.reading.ids import nine_digit_numbers, nine_digit_numbers_glued
from core.reading.kinds import classify
from core.reading.layout import from_ocr, from_text
from core.reading.ports import OcrText, OcrWord
from core.reading.result import FieldReading
from tests.receipt_factory import check_digit_id

VENDOR = check_digit_id("51471328")
BUYER = check_digit_id("30110270")


@pytest.mark.parametrize(
    "label",
    [
        "ח.פ. לקוח: {n}",
        'ח"פ לקוח {n}',
        "מספר עוסק של הלקוח: {n}",
        "ע.מ. הלקוח: {n}",
        "לכבוד: משרד כהן  ח.פ {n}",
        "שם הלקוח: משרד כהן\nח.פ: {n}",
        "לקוח\nמשרד כהן\n{n}",
        "Bill to: Cohen Ltd {n}",
        "Customer: Cohen Ltd\nReg. {n}",
    ],
)
def test_the_buyers_number_is_found_under_every_label(label: str) -> None:
    text = f'אלפא בע"מ\nעוסק מורשה: {VENDOR}\nחשבונית מס 1001\n' + label.format(n=BUYER)
    ids = read_ids(from_text(text))
    assert ids["customer_id"].value == BUYER
    assert ids["vendor_id"].value == VENDOR


def test_a_copy_for_the_customer_is_not_a_buyer_label() -> None:
    ids = read_ids(from_text(f"העתק ללקוח\nעוסק מורשה: {VENDOR}"))
    assert ids["customer_id"].value is None
    assert ids["vendor_id"].value == VENDOR


@pytest.mark.parametrize("label", ["מספר מסמך", "סספרמסמך", "ספר מסמך"])
def test_a_misread_document_number_label_still_finds_the_number(label: str) -> None:
    assert read_doc_number(from_text(f"{label}: 37212")).value == "37212"


def amounts(**values: str | None) -> dict[str, FieldReading]:
    return {
        n: FieldReading(values.get(n), 0.7 if values.get(n) else 0.0, "read")
        for n in ("date", "total", "vat", "net", "currency")
    }


def test_a_net_equal_to_the_vat_is_rejected_and_derived_from_the_other_two() -> None:
    read = amounts(date="2025-03-01", total="1180.00", vat="180.00", net="180.00")
    check_amounts(read, [], israeli=True)
    assert read["net"].value == "1000.00"
    assert "total - VAT" in read["net"].reason


def test_a_vat_equal_to_the_total_is_rejected() -> None:
    read = amounts(date="2018-03-12", total="343.95", vat="343.95")
    check_amounts(read, [], israeli=False)
    assert read["vat"].value is None
    assert "equal to the total" in read["vat"].reason
    assert read["total"].value == "343.95"


def test_a_vat_of_more_than_half_the_total_is_rejected() -> None:
    # SROIE's GST summary row "SR @ 6%  8.21  0.49": the taxable amount read as the VAT.
    read = amounts(date="2017-12-02", total="8.70", vat="8.21")
    check_amounts(read, [], israeli=False)
    assert read["vat"].value is None
    assert "more than half the total" in read["vat"].reason
    kept = amounts(date="2017-12-02", total="8.70", vat="0.49")
    check_amounts(kept, [], israeli=False)
    assert kept["vat"].value == "0.49"


def test_net_and_vat_at_the_dates_rate_give_the_total() -> None:
    read = amounts(date="2025-03-01", vat="180.00", net="1000.00")
    check_amounts(read, [], israeli=True)
    assert read["total"].value == "1180.00"
    assert "18%" in read["total"].reason
    old = amounts(date="2024-06-01", vat="170.00", net="1000.00")
    check_amounts(old, [], israeli=True)
    assert old["total"].value == "1170.00"


def test_total_and_net_at_the_dates_rate_give_the_vat() -> None:
    read = amounts(date="2026-01-10", total="4106.40", net="3480.00")
    check_amounts(read, [], israeli=True)
    assert read["vat"].value == "626.40"


def test_amounts_at_another_rate_give_nothing() -> None:
    # 17% on a 2025 document: not the rate in force, so no total is made up from them.
    read = amounts(date="2025-03-01", vat="170.00", net="1000.00")
    check_amounts(read, [], israeli=True)
    assert read["total"].value is None
    read = amounts(date="2025-03-01", total="1170.00", net="1000.00")
    check_amounts(read, [], israeli=True)
    assert read["vat"].value is None


def test_latin_words_in_a_hebrew_line_keep_their_left_to_right_order() -> None:
    # Tesseract's order for a right-to-left line: the Hebrew word, then Latin right to left.
    words = [
        OcrWord('בע"מ', 600, 10, 80, 30, 95.0, (1, 1, 1, 1)),
        OcrWord("Ltd", 520, 10, 60, 30, 95.0, (1, 1, 1, 1)),
        OcrWord("Falafel", 380, 10, 120, 30, 95.0, (1, 1, 1, 1)),
    ]
    assert "Falafel Ltd" in from_ocr(OcrText(words)).segments[0].text


def test_an_address_line_is_not_the_vendors_name() -> None:
    name = read_vendor_name(from_text("הרצל 110, פתח תקווה\nמאפיית השכונה\nקבלה 12"))
    assert name.value == "מאפיית השכונה"


def test_an_owners_label_read_onto_its_line_is_not_part_of_the_name() -> None:
    text = "NO. 31G, JALAN SETIA INDAH\nOwned By : SANYU SUPPLY SDN BHD (1135772-K)\nCASH SALES"
    assert read_vendor_name(from_text(text)).value == "SANYU SUPPLY SDN BHD"


def test_a_document_number_glued_to_a_symbol_is_not_taken_without_its_misread_digit() -> None:
    # "65195" read as "$5195": "5195" would be confidently wrong; none lets the row be re-read.
    assert read_doc_number(from_text("מספר מסמך  תאריך\n$5195  25/09/2025")).value is None
    assert read_doc_number(from_text("מספר מסמך  תאריך\n65195  25/09/2025")).value == "65195"


def test_the_header_rows_document_number_label_misread_is_not_the_vendors_name() -> None:
    # The seller's name lost by the page read: a label is no name at all.
    name = read_vendor_name(from_text("מספר מסמן  תארץ\n99286  25/09/2025"))
    assert name.value != "מספר מסמן"
    # Nor is a company under the buyer's label the seller.
    page = 'אחזקות גמא בע"ם  חשבונית מס / קבלה\nמספר מסמך  תאריך  לכבוד\n48646  אחזקות TH בע"מ'
    assert read_vendor_name(from_text(page)).value == 'אחזקות גמא בע"ם'


@pytest.mark.parametrize("line", ['מע"ם 18%  180.00', 'מע"מ 18%  180.00', "מעם  180.00"])
def test_vat_is_found_when_ocr_ends_its_label_with_a_final_letter(line: str) -> None:
    from core.reading.fields import read_total, read_vat

    page = from_text(f'{line}\nסה"ך לתשלום  1,180.00')
    assert read_vat(page).value == "180.00"
    assert read_total(page)[0].value == "1180.00"


# Labels as Tesseract's Hebrew model misreads them on phone photos (il-synthetic photos).
@pytest.mark.parametrize("label", ["לכבור", "לכבוו", "לכבו"])
def test_the_buyers_number_is_found_under_a_misread_buyer_label(label: str) -> None:
    text = f"עוסק מורשה: {VENDOR}\nמספר מסמך  תאריך  {label}\nמשרד כהן\nת.ז/ח.פ {BUYER}"
    ids = read_ids(from_text(text))
    assert ids["customer_id"].value == BUYER
    assert ids["vendor_id"].value == VENDOR


@pytest.mark.parametrize("label", ["לכבוד", "לכגוד", "לכגוו"])
def test_the_buyer_label_alone_tells_the_buyers_number(label: str) -> None:
    # No id label beside the number: the buyer's label over it is all there is.
    ids = read_ids(from_text(f"מספר מסמך  תאריך  {label}\nמשרד כהן\n{BUYER}"))
    assert ids["customer_id"].value == BUYER


def test_a_word_that_only_starts_like_the_buyer_label_is_not_one() -> None:
    ids = read_ids(from_text(f"לבן\n{BUYER}"))
    assert ids["customer_id"].value is None


@pytest.mark.parametrize("label", ["מסנר מסמן", "מספר מוסנוך", "מספר מססך", "won מסמך"])
def test_a_document_number_label_misread_letter_by_letter_still_finds_it(label: str) -> None:
    assert read_doc_number(from_text(f"{label}  תאריך\n37212  26/09/2025")).value == "37212"


def test_the_footer_that_starts_with_the_word_document_is_not_a_number_label() -> None:
    assert read_doc_number(from_text("מסמך זה הופק ממערכת ממוחשבת 2026")).value is None


@pytest.mark.parametrize("label", ["תאריך", "תארץ", "תארד", "חאריך", "תארי"])
def test_a_misread_date_label_still_finds_the_date(label: str) -> None:
    got = read_date(from_text(f"{label}\n26/09/2025"), today=date(2026, 1, 1), hebrew=True)
    assert got.value == "2025-09-26"
    assert got.reason.startswith("date label")


@pytest.mark.parametrize("printed", ["14052026", "1405/2026", "14/052026"])
def test_a_date_whose_separators_ocr_lost_is_read_under_its_label(printed: str) -> None:
    got = read_date(
        from_text(f"מספר מסמך  תאריך\n87823  {printed}"), today=date(2026, 11, 1), hebrew=True
    )
    assert got.value == "2026-05-14"
    assert got.confidence < 0.9  # where the day ends is a guess


def test_an_eight_digit_number_without_a_date_label_is_not_a_date() -> None:
    got = read_date(from_text("אסמכתא 14052026"), today=date(2026, 11, 1), hebrew=True)
    assert got.value is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("חשבונ ת מס 1001", DocumentKind.TAX_INVOICE),
        ("חשבנית מס / קבלה", DocumentKind.TAX_INVOICE_RECEIPT),
        ('אחזקות גמא בע"מ  חשבונית מס / קבל\nמקור', DocumentKind.TAX_INVOICE_RECEIPT),
        ("דף חשבק עובר ושב", DocumentKind.BANK_STATEMENT),
        ("תאריך  תיאור התנועה  חובה  זכות  יתרה", DocumentKind.BANK_STATEMENT),
        ("סן של שנים אלף שקלים חדשים", DocumentKind.CHEQUE),
        ("של שניים אלף ארבע מאות שקלם חדשם.", DocumentKind.CHEQUE),
        (
            "לוש שכר\nרכיבי שכר (תשלומים)  סכום  ניכויים  סכום\n"
            'סה"כ ברוטו  18,250.00 ₪  מס בריאות  566.00 ₪\nנטו לתשלום  12,910.00',
            DocumentKind.PAYSLIP,
        ),
        ('סה"כ 100.00\nשולם / באמצעות העברה בנקאית', DocumentKind.RECEIPT),
    ],
)
def test_a_title_misread_or_lost_still_gives_the_kind(text: str, kind: DocumentKind) -> None:
    assert classify(text, hebrew=True)[0] == kind


@pytest.mark.parametrize(
    "text",
    [
        # An invoice that withholds tax, and a statement with a salary credited.
        'חשבונית\nניכוי מס במקור  500.00\nסה"כ לתשלום  4,500.00\nביטוח לאומי',
        "תאריך  תיאור  זכות\n01/05/2026  משכורת  12,910.00\nמס בריאות",
        # One word read twice, spaced differently, is still one.
        "נטו לתשלום  12,910.00\nנטו  לתשלום\nברוטו",
    ],
)
def test_a_document_with_a_payslips_word_or_two_is_not_a_payslip(text: str) -> None:
    assert classify(text, hebrew=True)[0] is not DocumentKind.PAYSLIP


@pytest.mark.parametrize("label", ["ח.פ / ת.ז:", "nפ/r.n", "1.n/9n", "תפ/ת.1:"])
def test_the_buyers_number_is_found_by_its_two_id_label_alone(label: str) -> None:
    text = f"עוסק מורשה / ח.פ: {VENDOR}\nמשרד כהן\n{label} {BUYER}"
    ids = read_ids(from_text(text))
    assert ids["customer_id"].value == BUYER
    assert ids["customer_id"].confidence < 0.9  # a label's shape, not its words
    assert ids["vendor_id"].value == VENDOR


@pytest.mark.parametrize("line", ["12/05/2026 {n}", "Tel 03/555 {n}", "עוסק מורשה / ח.פ: {n}"])
def test_a_slash_in_a_date_or_the_sellers_label_is_not_the_buyers_label(line: str) -> None:
    assert read_ids(from_text(line.format(n=BUYER)))["customer_id"].value is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("331031112 1n/ar", "331031112"),  # a stray digit of the label after the number
        ("n/sn 1 908939622", "908939622"),  # and before it
        ("51 4713 288", "514713288"),  # printed in groups
    ],
)
def test_a_stray_digit_beside_a_nine_digit_number_does_not_hide_it(text: str, found: str) -> None:
    assert [n for n, _ in nine_digit_numbers(text)] == [found]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("3310311121.0/9.0", ["331031112"]),  # ת of ת.ז/ח.פ read as a 1, glued on
        ("1171893081.0|9.0", ["117189308"]),
        ("393401922:1.0/9.0", ["393401922"]),
        ("3310311121 0/9.0", []),  # ten digits, no label after them
        ("33103111210", []),
    ],
)
def test_a_number_glued_to_its_id_label_read_as_digits_is_found(
    text: str, found: list[str]
) -> None:
    assert nine_digit_numbers_glued(text) == found


def test_ten_digits_in_two_groups_are_not_a_business_number() -> None:
    assert nine_digit_numbers("12345 67890") == []


@pytest.mark.parametrize("word", ["תיאור", "תאר"])
def test_words_near_the_date_label_are_not_taken_for_a_misread_of_it(word: str) -> None:
    got = read_date(from_text(f"{word}\n26/09/2025"), today=date(2026, 1, 1), hebrew=True)
    assert got.reason == "first date printed"


def _row_words(row: int, *words: tuple[str, int]) -> list[OcrWord]:
    """Words of one OCR line (right to left), each at its left edge, 30 px high."""
    return [
        OcrWord(text, left, 20 + 60 * row, 20 * len(text), 30, 90.0, (1, 1, 1, row))
        for text, left in words
    ]


def test_the_buyers_two_id_label_a_gap_away_from_its_number_still_marks_the_buyer() -> None:
    seller, buyer = check_digit_id("51471328"), check_digit_id("90893962")
    words = [
        *_row_words(1, ("עוסק", 900), ("מורשה", 780), (seller, 560)),
        # "ח.פ/ת.ז" misread and set apart from the number by a wide gap: its own segment.
        *_row_words(2, ("n/n", 900), ("1", 420), (buyer, 200)),
    ]
    ids = read_ids(from_ocr(OcrText(words)))
    assert ids["customer_id"].value == buyer and ids["customer_id"].confidence < 0.9
    assert ids["vendor_id"].value == seller


def test_a_two_id_label_on_the_sellers_row_does_not_make_the_buyer() -> None:
    seller = check_digit_id("51471328")
    words = _row_words(1, ("עוסק", 900), ("מורשה", 780), ("ע.מ/ח.פ", 600), (seller, 200))
    ids = read_ids(from_ocr(OcrText(words)))
    assert ids["vendor_id"].value == seller and ids["customer_id"].value is None


def test_a_future_year_one_misread_digit_from_last_year_is_read_back() -> None:
    today = date(2026, 11, 30)
    misread = read_date(from_text("תאריך: 28/06/2028"), today=today, hebrew=True)
    assert misread.value == "2026-06-28" and misread.confidence < 0.5
    # 9 read for a 0: 2029 -> 2020 is more than two years back, not a date just issued.
    far = read_date(from_text("תאריך: 28/06/2029"), today=today, hebrew=True)
    assert far.value == "2029-06-28" and "in the future" in far.reason
    # No digit the model confuses: left as read, and doubtful.
    other = read_date(from_text("תאריך: 28/06/2027"), today=today, hebrew=True)
    assert other.value == "2027-06-28" and other.confidence < 0.3


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("סך של שבעה אלף מאתיים חמישים שקלים חדשים", "7250.00"),
        ("סך של שניים אלף ארבע מאות שקלים חדשים", "2400.00"),
        ("סך של אלפיים ושלוש מאות ושלושה עשר שקלים", "2313.00"),
        ('של שלושת אלפים מאה ועשרים ואחד ש"ח', "3121.00"),
        ("של חמישה עשר אלף שקלים", "15000.00"),
        ("0 של שמונה מאות חמישים שקלים חדשים", "850.00"),
        # A word misread between "של" and "שקלים": no amount rather than part of one.
        ("0 של שמונה NINN חמישים שקלים חדשים", None),
        ('סן של שנ"םאלף ארבע מאות שקלים חדשים', None),
        # Words in an order no number is written in.
        ("של שמונה שמונה שקלים", None),
        ("של חמישים מאה שקלים", None),
        ("שבעה אלף שקלים", None),  # no "של" before them
    ],
)
def test_a_cheques_amount_in_hebrew_words(line: str, value: str | None) -> None:
    from core.reading.amounts import amount_in_hebrew_words

    found = amount_in_hebrew_words(line)
    assert (str(found) if found is not None else None) == value


@pytest.mark.parametrize(
    ("line", "total"),
    [
        ("Grand Total  Rs 1939", "1939.00"),  # rupee bills print whole amounts
        ("Total  Rs. 1,939", "1939.00"),
        ("Grand Total  1939", None),  # no currency: a count or a number, not money
        ('סה"כ לתשלום  ₪ 193900', None),  # shekel amounts print agorot: a point was lost
        ("Total  RM 12  RM 12.50", "12.50"),  # cents printed beside it win
    ],
)
def test_a_whole_amount_is_a_total_only_after_its_currency(line: str, total: str | None) -> None:
    from core.reading.fields import read_total

    assert read_total(from_text(line))[0].value == total


@pytest.mark.parametrize(
    ("line", "total"),
    [
        ("TOTAL  110-00", "110.00"),  # the point read as a hyphen
        ("TOTAL  28-02-2016", None),  # a date, not an amount
        ("TOTAL  10-15-20", None),
    ],
)
def test_a_total_whose_point_was_read_as_a_hyphen(line: str, total: str | None) -> None:
    from core.reading.fields import read_total

    assert read_total(from_text(line))[0].value == total


def test_the_total_paid_after_a_rounding_line_is_the_total() -> None:
    from core.reading.fields import read_total

    # A SROIE photo: the final total's label misread, the amount before rounding repeated
    # in the tax summary (so "confirmed"), the payment the rounded one.
    lines = [
        "Total Amount: RM7.72",
        "Rounding: -RM0.02",
        "Net Totai: RM7.70",
        "CASH  RM7.70",
        "Change  RM0.00",
        "GST Summary  Amount(RM)  Tax(RM)",
        "SR=GST @0%  7.72  0.00",
    ]
    found = read_total(from_text("\n".join(lines)))[0]
    assert (found.value, found.reason) == ("7.70", "total after rounding, as paid")
    # Paid the amount before rounding: it stands.
    paid_before = [line.replace("CASH  RM7.70", "CASH  RM7.72") for line in lines]
    assert read_total(from_text("\n".join(paid_before)))[0].value == "7.72"
