from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.reading.amounts import find_amounts, parse_amount
from core.reading.dates import find_dates, parse_date
from core.reading.fields import month_first_evidence
from core.reading.ids import is_valid_business_number, nine_digit_numbers
from core.reading.text import fix_visual_order, normalise, strip_bidi


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("₪ 27,081.00", "27081.00"),
        ("4,800.00-", "-4800.00"),
        ("(12.00)", "-12.00"),
        ("12", "12.00"),
        ("5,39", "5.39"),
        ("1,234,567.89", "1234567.89"),
    ],
)
def test_amounts_parse_in_israeli_and_european_formats(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


def test_text_that_is_not_an_amount_is_refused() -> None:
    assert parse_amount("12/03/2026") is None
    assert parse_amount("abc") is None


def test_amounts_in_a_line_skip_dates_and_phone_numbers() -> None:
    line = "26.09.2025 טל' 08-2736698 סה\"כ לתשלום 27,081.00 ₪"
    decimals = [a.value for a in find_amounts(line, decimals_only=True)]
    assert decimals == [Decimal("27081.00")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/3/2026", date(2026, 3, 5)),
        ("05.03.26", date(2026, 3, 5)),
        ("2026-03-05", date(2026, 3, 5)),
        ("תאריך: 26/09/2025", date(2025, 9, 26)),
        ("Invoice Date: August 3 , 2014", date(2014, 8, 3)),
        ("7. Mai 2014", date(2014, 5, 7)),
        ("19 april 2014", date(2014, 4, 19)),
        ("Jan 1, 2022", date(2022, 1, 1)),
        ("13/02/2018 10:22", date(2018, 2, 13)),
    ],
)
def test_dates_parse_day_first_and_with_month_names(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_month_first_only_when_asked_and_when_the_day_allows() -> None:
    assert parse_date("03/05/2026", month_first=True) == date(2026, 3, 5)
    assert parse_date("03/20/2023") == date(2023, 3, 20)  # 20 cannot be a month
    assert find_dates("05/03/2026")[0].ambiguous
    assert month_first_evidence("Date: 03/20/2023 due 04/04/2023")
    assert not month_first_evidence("26/09/2025")


def test_a_time_printed_with_points_is_no_evidence_of_month_first_dates() -> None:
    # SROIE photo 130: its time read as month-first made "05/02/2018" 2 May, not 5 February.
    text = "Doc No. C:S00065374 Date 05/02/2018\nCashier USER Time. 11.14.00"
    assert not month_first_evidence(text)
    assert not month_first_evidence("תאריך 05/02/2018 שעה: 11.14.00")
    assert month_first_evidence("Invoice 11.14.00")  # no time label: a date as any other
    assert month_first_evidence("Date/Time: 11/14/2020 10:30")  # a date after the label
    assert month_first_evidence("DATE/TIME: 11/14/20 10:30")


def test_a_date_run_into_its_time_is_read() -> None:
    # RapidOCR loses the space between a receipt's date and time.
    assert parse_date("Date :16-03-201812:07:10") == date(2018, 3, 16)
    assert parse_date("29/12/201711:41") == date(2017, 12, 29)
    assert parse_date("Ref 16-03-20181234") is None  # digits, not a time


def test_impossible_dates_are_not_dates() -> None:
    assert parse_date("31/02/2026") is None
    assert parse_date("99.99.99") is None


def test_business_number_check_digit() -> None:
    assert is_valid_business_number("301102703")
    assert not is_valid_business_number("301102708")  # one digit misread
    assert not is_valid_business_number("30110270")
    assert [n for n, _ in nine_digit_numbers("ח.פ: 301102703, טל 03-1234567")] == ["301102703"]


def test_a_phone_number_whose_leading_zero_ocr_misread_is_not_an_id() -> None:
    # "טל 09-9784331" read as "סל 99-9784331": the label and the 0 lost, the shape kept.
    assert nine_digit_numbers("סל 99-9784331") == []
    # A company number printed with its dashes is still one.
    assert [n for n, _ in nine_digit_numbers("ח.פ 51-471328-1")] == ["514713281"]


def test_direction_marks_are_stripped_and_quotes_unified() -> None:
    assert strip_bidi('\u200fמע"מ\u200e 18%\u202b') == 'מע"מ 18%'
    assert normalise("סה״כ\r\nמע''מ") == 'סה"כ\nמע"מ'


def test_hebrew_stored_in_visual_order_is_put_back() -> None:
    visual = "\n".join(line[::-1] for line in ["שלום עולם", "תאריך חשבון", "מספר מסמך ומלון"])
    assert fix_visual_order(visual).split("\n")[0] == "שלום עולם"
    assert fix_visual_order("שלום עולם") == "שלום עולם"


@pytest.mark.parametrize(
    ("text", "expected"), [("6.48000 ₪", "6480.00"), ("₪2,40000-", "-2400.00")]
)
def test_an_amount_whose_decimal_point_ocr_lost_has_two_decimals(text: str, expected: str) -> None:
    # "6,480.00" on a photo: the comma read as the point, the point dropped.
    assert [a.value for a in find_amounts(text, decimals_only=True)] == [Decimal(expected)]


def test_four_decimals_are_not_taken_for_a_lost_point() -> None:
    assert find_amounts("שער 3.7120", decimals_only=True) == []
