"""Number words of a Hebrew photo's digit lines re-read with the model that reads digits."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from core.reading.digits import is_number_word, merge_numbers, number_lines, reread_numbers
from core.reading.ports import OcrText, OcrWord
from tests.receipt_factory import font


def _w(text: str, left: int, *, width: int = 60, top: int = 10, key: int = 1) -> OcrWord:
    return OcrWord(text, left, top, width, 20, 90.0, (1, 1, 1, key))


def test_number_words_have_two_digits_and_no_letters() -> None:
    assert is_number_word("06/02/2026") and is_number_word("1,234.50") and is_number_word("₪12")
    assert not is_number_word("6") and not is_number_word("תאריך") and not is_number_word("Zo)")
    assert not is_number_word("A123") and not is_number_word("12ש")


def test_a_second_read_number_replaces_the_number_it_covers_and_keeps_the_label() -> None:
    # Right to left: the label first, the date (misread without slashes) left of it.
    line = [_w("תאריך:", 400), _w("0602/2026", 200, width=120)]
    again = [_w("תאריך", 395, key=9), _w("06/02/2026", 205, width=118, key=9)]
    merged = merge_numbers(line, again)
    assert [w.text for w in merged] == ["תאריך:", "06/02/2026"]
    assert all(w.line_key == (1, 1, 1, 1) for w in merged)  # the first read's line


def test_latin_garbage_is_replaced_but_a_hebrew_word_is_not() -> None:
    line = [_w('מע"מ', 400), _w("Zo)", 200)]
    assert [w.text for w in merge_numbers(line, [_w("2.27", 205)])] == ['מע"מ', "2.27"]
    # The Hebrew model glued label and number: the second read's number is not forced in.
    glued = [_w("לקוח606263408", 200, width=200)]
    assert [w.text for w in merge_numbers(glued, [_w("606263406", 260, width=120)])] == [
        "לקוח606263408"
    ]


def test_a_number_the_first_read_dropped_goes_in_at_its_place_in_reading_order() -> None:
    rtl = [_w("סכום", 500), _w("לתשלום", 400)]
    merged = merge_numbers(rtl, [_w("118.00", 100)])
    assert [w.text for w in merged] == ["סכום", "לתשלום", "118.00"]
    ltr = [_w("Total", 10), _w("due", 100)]
    assert [w.text for w in merge_numbers(ltr, [_w("118.00", 72, width=26)])] == [
        "Total",
        "118.00",
        "due",
    ]
    # Words that are not numbers are not taken from the second read.
    assert [w.text for w in merge_numbers(ltr, [_w("Tota1s", 300)])] == ["Total", "due"]


def test_only_lines_with_digits_are_chosen_top_first() -> None:
    ocr = OcrText(
        [
            _w("שלום", 10, top=300, key=3),
            _w("12", 10, top=200, key=2),
            _w("אבג", 100, top=205, key=2),
            _w("7", 10, top=100, key=1),
        ]
    )
    assert [(key[-1], top) for key, top, _ in number_lines(ocr)] == [(1, 100), (2, 200)]
    assert number_lines(ocr, limit=1) == [((1, 1, 1, 1), 100, 120)]


def test_digit_lines_are_re_read_in_one_run_at_their_place(engine) -> None:  # type: ignore[no-untyped-def]
    page = Image.new("L", (700, 260), 255)
    draw = ImageDraw.Draw(page)
    draw.text((20, 30), "Date 06/02/2026", font=font(30), fill=0)
    draw.text((20, 150), "Total 118.00", font=font(30), fill=0)
    # A first read that got the digits wrong, as the Hebrew model does.
    first = OcrText(
        [
            OcrWord("Date", 20, 34, 70, 28, 90.0, (1, 1, 1, 1)),
            OcrWord("0602/2026", 100, 34, 200, 28, 60.0, (1, 1, 1, 1)),
            OcrWord("Total", 20, 154, 80, 28, 90.0, (1, 1, 2, 1)),
            OcrWord("118.09", 110, 154, 110, 28, 60.0, (1, 1, 2, 1)),
        ]
    )
    calls = []

    class Counting:
        def image_to_text(self, image, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(kwargs["lang"])
            return engine.image_to_text(image, **kwargs)

    again, changed = reread_numbers(Counting(), page, first, lang="eng")  # type: ignore[arg-type]
    assert calls == ["eng"]
    assert again.text == "Date 06/02/2026\nTotal 118.00"
    assert changed == 4  # two words out, two in
    label_only = OcrText([first.words[0]])
    counting: Any = Counting()
    assert reread_numbers(counting, page, label_only, lang="eng") == (label_only, 0)


def test_a_second_read_with_other_digits_or_fewer_slashes_is_not_taken() -> None:
    # Both models drop slashes sometimes: the read with more of them stays.
    line = [_w("25/09/2025", 200, width=120)]
    assert merge_numbers(line, [_w("25092025", 200, width=120)])[0].text == "25/09/2025"
    # A digit more or less is not one model's 6-for-8: keep the first read.
    assert merge_numbers([_w("4471", 200)], [_w("44717", 200)])[0].text == "4471"
    # A business number whose check digit holds is not replaced by one that fails.
    valid = "301102703"
    merged = merge_numbers([_w(valid, 200, width=120)], [_w("301102708", 200, width=120)])
    assert merged[0].text == valid
    fixed = merge_numbers([_w("806263408", 200, width=120)], [_w("606263408", 200, width=120)])
    assert fixed[0].text == "606263408"


def test_a_number_of_another_column_is_not_put_into_a_line() -> None:
    line = [_w("מפגש", 400)]
    other_column = [_w("2,500.00", 100, width=80, key=7)]
    again = [_w("2,500.00", 100, width=80)]
    assert [w.text for w in merge_numbers(line, again, other_column)] == ["מפגש"]
    assert [w.text for w in merge_numbers(line, again)] == ["מפגש", "2,500.00"]


def test_a_rule_read_as_a_tall_character_does_not_widen_a_line_band() -> None:
    words = [_w("12", 10, top=100, key=1), _w("34", 100, top=200, key=2)]
    frame = OcrWord("|", 300, 100, 4, 900, 30.0, (1, 1, 1, 1))
    lines = number_lines(OcrText([words[0], frame, words[1]]))
    assert lines[0] == ((1, 1, 1, 1), 100, 120)


def test_a_business_number_the_hebrew_model_read_a_digit_short_is_replaced_by_a_valid_one() -> (
    None
):
    line = [_w("עוסק", 400), _w("99679805", 200, width=120)]  # 996798054 with a digit lost
    merged = merge_numbers(line, [_w("996798054", 205, width=125)])
    assert [w.text for w in merged] == ["עוסק", "996798054"]
    # A second read whose check digit fails does not change the digit count.
    assert [w.text for w in merge_numbers(line, [_w("996798055", 205, width=125)])] == [
        "עוסק",
        "99679805",
    ]


def test_a_lone_digit_the_first_read_left_of_a_number_is_replaced_by_the_number() -> None:
    line = [_w("1", 400, width=15), _w("15/12/2025", 200, width=120)]
    merged = merge_numbers(line, [_w("63164", 390, width=70), _w("15/12/2025", 200, width=120)])
    assert [w.text for w in merged] == ["63164", "15/12/2025"]
    # Two digits or more were a number: its digit count is kept.
    line = [_w("12", 400, width=30)]
    assert [w.text for w in merge_numbers(line, [_w("63164", 390, width=70)])] == ["12"]


def test_only_lines_a_second_read_can_change_a_field_are_worth_re_reading() -> None:
    from core.reading import labels
    from core.reading.digits import lines_worth_rereading

    ocr = OcrText(
        [
            _w("עוסק", 400, key=1),
            _w("514713288", 200, key=1),  # check digit holds
            _w("טלפון", 400, key=2),
            _w("03-6123456", 200, key=2),
            _w("שולחן", 400, key=3),
            _w("1,250.00", 300, key=3),
            _w("₪2,500.00", 200, key=3),  # an item row
            _w('מע"מ', 400, key=4),
            _w("18%", 300, key=4),
            _w("225.00", 200, key=4),
            _w("תאריך", 400, key=5),
            _w("14/05/2026", 200, key=5),
            _w("עוסק", 400, key=6),
            _w("514713289", 200, key=6),  # check digit fails
            _w("מספר", 400, key=7),
            _w("הקצאה", 300, key=7),
            _w("514713288", 200, key=7),  # no check digit on an allocation number
            _w("שלום", 400, key=8),  # no digits at all
            _w("מורשה", 400, key=9),
            _w("73", 200, key=9),  # what the first read kept of a business number
        ]
    )
    settled = lines_worth_rereading(ocr, amounts_agree=True, keep=labels.ALLOCATION_LABELS)
    assert {key[-1] for key in settled} == {5, 6, 7, 9}
    # While net, VAT and total do not agree every amount may still be the one misread.
    unsettled = lines_worth_rereading(ocr, amounts_agree=False, keep=labels.ALLOCATION_LABELS)
    assert {key[-1] for key in unsettled} == {3, 4, 5, 6, 7, 9}


def test_amounts_agree_only_when_net_vat_and_total_add_up_at_a_vat_rate() -> None:
    from core.reading.layout import from_text
    from core.reading.steps import amounts_agree

    assert amounts_agree(from_text('סה"כ לפני מע"מ 1,000.00\nמע"מ 180.00\nסה"כ לתשלום 1,180.00'))
    assert amounts_agree(from_text('סה"כ לפני מע"מ 1,000.00\nמע"מ 170.00\nסה"כ לתשלום 1,170.00'))
    # Adds up, but 5% is no VAT rate: one of them is misread.
    assert not amounts_agree(
        from_text('סה"כ לפני מע"מ 1,000.00\nמע"מ 50.00\nסה"כ לתשלום 1,050.00')
    )
    assert not amounts_agree(from_text('מע"מ 180.00\nסה"כ לתשלום 1,180.00'))
