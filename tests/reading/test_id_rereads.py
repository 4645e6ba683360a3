"""Business and allocation numbers of small print read again, cut tight, several ways."""

from __future__ import annotations

from datetime import date

from PIL import Image

from core.domain import DocumentKind
from core.reading import layout
from core.reading.ids import zeros_restored
from core.reading.pipeline import Context, Page
from core.reading.ports import OcrText, OcrWord
from core.reading.result import FieldReading
from core.reading.steps import (
    RereadAllocation,
    RereadNumbers,
    VendorNumberUnderItsName,
    number_line_crops,
)
from tests import receipt_factory as factory


class Sheets:
    """Answers each read (one stacked sheet of crops) with the next of `reads`, one line per
    crop on the sheet, and keeps the sheets' sizes."""

    def __init__(self, reads: list[list[str]]) -> None:
        self.reads, self.sheets = reads, []

    def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
        self.sheets.append(image.size)
        lines = self.reads[min(len(self.sheets), len(self.reads)) - 1]
        # read_crops_words puts a word in the crop whose band holds its middle: one line a
        # crop, the crops' bands as crops.stack lays them out (24 px apart).
        words, top = [], 24
        for line in lines:
            words.append(OcrWord(line, 30, top + 2, 200, 10, 90.0, (1, 1, 1, top)))
            top += (image.size[1] - 24) // max(1, len(lines))
        return OcrText(words)


def _ctx(engine: Sheets, fields: dict[str, FieldReading], segment: layout.Segment) -> Context:
    ctx = Context(b"", "image/jpeg", engine, date(2026, 6, 1))  # type: ignore[arg-type]
    ctx.hebrew, ctx.kind = True, DocumentKind.TAX_INVOICE
    picture = Image.new("L", (1500, 800), 255)
    ctx.pages = [Page(image=Image.new("L", (700, 380)), ocr_image=picture, photo=True)]
    ctx.pages[0].ocr_scale = 2.1
    ctx.fields = {
        "vendor_id": FieldReading(None, 0.0, "not found"),
        "customer_id": FieldReading(None, 0.0, "not found"),
        "allocation_number": FieldReading(None, 0.0, "none"),
        **fields,
    }
    for name, reading in fields.items():
        if reading.value:
            ctx.number_segments[name] = segment
    return ctx


SEGMENT = layout.Segment(
    "עוסק מורשה / ח.פ: 529352381", 3, left=900, top=300, right=1200, bottom=333
)


def _failing_seller_beside_buyer(engine: Sheets, buyer: str) -> Context:
    """The seller's number fails its check digit on its line; the buyer's was read valid
    elsewhere (its line not known)."""
    ctx = _ctx(
        engine,
        {
            "vendor_id": FieldReading("529352381", 0.15, "fails"),
            "customer_id": FieldReading(buyer, 0.8, "buyer's label"),
        },
        SEGMENT,
    )
    ctx.number_segments.pop("customer_id")
    return ctx


def test_a_number_line_is_cut_tight_so_the_lines_around_it_are_not_read_with_it() -> None:
    crops = number_line_crops(Image.new("L", (1500, 800), 255), SEGMENT)
    heights = sorted(c.height for c in crops)
    # A 33 px line with 2 px and a quarter line (8 px) of margin, each at its size and half
    # as large again; half a line of margin (53 px) reached into the lines around it.
    assert heights == [37, 49, 55, 73]


def test_a_failing_business_number_takes_the_one_valid_number_of_several_reads() -> None:
    right = factory.check_digit_id("52935236")
    engine = Sheets([["529952361 :9.n/ pow", "", "§29352361", "329952361"], [""], [right]])
    ctx = _ctx(engine, {"vendor_id": FieldReading("529352381", 0.15, "fails")}, SEGMENT)
    step = RereadNumbers()
    assert step.applies(ctx)
    step.run(ctx)
    assert ctx.fields["vendor_id"].value == right == "529352361"
    assert ctx.fields["vendor_id"].confidence < 0.9
    assert len(engine.sheets) == 3  # four crops, then each size alone


def test_two_valid_numbers_read_from_one_line_are_no_answer() -> None:
    one, other = factory.check_digit_id("15693986"), factory.check_digit_id("18693988")
    engine = Sheets([[one], [other], [""]])
    ctx = _ctx(engine, {"vendor_id": FieldReading("156939000", 0.15, "fails")}, SEGMENT)
    RereadNumbers().run(ctx)
    assert ctx.fields["vendor_id"].value == "156939000"
    assert ctx.fields["vendor_id"].confidence == 0.15


def test_the_buyers_number_read_on_the_sellers_line_is_not_the_sellers() -> None:
    buyer = factory.check_digit_id("47343814")
    ctx = _failing_seller_beside_buyer(Sheets([[buyer]]), buyer)
    RereadNumbers().run(ctx)
    assert ctx.fields["vendor_id"].value == "529352381"


def test_zeros_filled_by_blur_are_put_back_where_another_read_saw_them() -> None:
    assert zeros_restored("965645239", ["865645239", "065645239", "965645239"]) == "065645239"
    assert zeros_restored("300327565", ["300327585", "300327505"]) == "300327505"
    # No read saw a 0 there: the digits stay as read.
    assert zeros_restored("965645239", ["865645239", "965645239"]) == "965645239"
    # A read that differs elsewhere too (1 against 3) is a poorer read, not evidence.
    assert zeros_restored("915492091", ["015492003"]) == "915492091"
    # Only a 6, 8 or 9 becomes a 0, never another digit.
    assert zeros_restored("915492091", ["015492091"]) == "015492091"
    assert zeros_restored("135", ["035"]) == "135"
    assert zeros_restored("965645239", []) == "965645239"


def test_an_allocation_number_read_in_small_print_gets_its_zeros_back_below_sure() -> None:
    segment = layout.Segment("מספר הקצאה: 965645239", 9, left=900, top=500, right=1400, bottom=530)
    engine = Sheets([["865645239", "", "065645239", "965645239"], ["x"], ["y"]])
    read = FieldReading("965645239", 0.85, "allocation label")
    ctx = _ctx(engine, {"allocation_number": read}, segment)
    step = RereadAllocation()
    assert step.applies(ctx)
    step.run(ctx)
    assert ctx.fields["allocation_number"].value == "065645239"
    assert ctx.fields["allocation_number"].confidence <= 0.8
    # A scan's print (not enlarged for OCR) is left as read.
    ctx.pages[0].ocr_scale = 1.0
    assert not step.applies(ctx)


def test_a_phone_number_whose_dash_was_lost_is_not_a_business_number() -> None:
    from core.reading.ids import nine_digit_numbers

    # "טל' 04-4016479" read right to left: the area code after the number, its dash lost.
    assert nine_digit_numbers('כי" 4016479 04') == []
    assert nine_digit_numbers("04 4016479") == []
    assert [n for n, _ in nine_digit_numbers("ח.פ 524952231")] == ["524952231"]


def test_the_valid_number_read_most_often_wins_and_a_tie_is_no_answer() -> None:
    from core.reading.steps import most_read_valid

    right, wrong = factory.check_digit_id("56391200"), factory.check_digit_id("96991200")
    assert most_read_valid(["569912005", right, wrong, right, right], set()) == right
    assert most_read_valid([right, wrong], set()) is None
    assert most_read_valid([right, wrong, wrong], {wrong}) == right
    assert most_read_valid(["569912005"], set()) is None


def test_a_buyers_number_misread_under_its_label_is_read_again_on_its_own_line() -> None:
    from core.reading.steps import FindCustomerNumber

    buyer = factory.check_digit_id("56391200")
    page_read = layout.from_ocr(
        OcrText(
            [
                OcrWord("לכבוד", 900, 100, 80, 20, 90.0, (1, 1, 1, 1)),
                OcrWord("$63912005", 880, 130, 120, 20, 90.0, (1, 1, 1, 2)),
                OcrWord("תפ/n.+t", 1010, 130, 70, 20, 90.0, (1, 1, 1, 2)),
            ]
        )
    )
    # The line cut tight, read three ways: the right number twice, a wrong valid one once.
    wrong = factory.check_digit_id("96991200")
    engine = Sheets([[buyer, "569912005", wrong, buyer], [buyer, buyer], [buyer, "x"]])
    ctx = _ctx(engine, {}, SEGMENT)
    ctx.pages[0].layout = page_read
    step = FindCustomerNumber()
    assert step.applies(ctx)
    step.run(ctx)
    assert ctx.fields["customer_id"].value == buyer
    assert ctx.fields["customer_id"].confidence < 0.9
    # With the Latin engine its one valid number comes first: no Tesseract read more.
    engine = Sheets([[wrong, wrong, wrong]])
    ctx = _ctx(engine, {}, SEGMENT)
    ctx.pages[0].layout = page_read
    ctx.latin_engine = LatinLine(f"{buyer}1.n/9.n")  # type: ignore[assignment]
    step.run(ctx)
    assert ctx.fields["customer_id"].value == buyer
    assert engine.sheets == []


def test_no_document_number_label_read_the_dates_row_is_read_again_for_it() -> None:
    from core.reading.steps import RereadDocNumber

    page_read = layout.from_ocr(
        OcrText(
            [
                OcrWord("ies", 1300, 300, 60, 20, 60.0, (1, 1, 1, 1)),
                OcrWord("15/12/2025", 1100, 300, 150, 20, 90.0, (1, 1, 1, 1)),
            ]
        )
    )
    engine = Sheets([["63164 15/12/2025 @ 1.n/9n"]])
    ctx = _ctx(engine, {"date": FieldReading("2025-12-15", 0.8, "date label")}, SEGMENT)
    ctx.fields["doc_number"] = FieldReading(None, 0.0, "not found")
    ctx.pages[0].layout = page_read
    step = RereadDocNumber()
    assert step.applies(ctx)
    step.run(ctx)
    assert ctx.fields["doc_number"].value == "63164"
    assert ctx.fields["doc_number"].confidence < 0.9
    assert len(engine.sheets) == 1


def test_a_buyers_number_in_print_the_page_read_skipped_is_found_there() -> None:
    from PIL import ImageDraw

    from core.reading.steps import CustomerNumberInSkippedPrint

    seller, buyer = factory.check_digit_id("99679805"), factory.check_digit_id("45505326")
    engine = Sheets([[buyer, "455052204", seller, buyer], [buyer, "x"], ["455083264", buyer]])
    ctx = _ctx(engine, {"vendor_id": FieldReading(seller, 0.8, "re-read")}, SEGMENT)
    ctx.pages[0].layout = layout.from_ocr(
        OcrText([OcrWord("קבלה", 100, 50, 80, 20, 90.0, (1, 1, 1, 1))])
    )
    assert ctx.pages[0].ocr_image is not None
    ImageDraw.Draw(ctx.pages[0].ocr_image).rectangle((800, 300, 1000, 330), fill=0)
    step = CustomerNumberInSkippedPrint()
    assert step.applies(ctx)
    step.run(ctx)
    assert ctx.fields["customer_id"].value == buyer
    assert ctx.fields["customer_id"].confidence <= 0.5
    # The seller's number misread (its check fails): another valid number may be the
    # seller's own, read right; nothing is taken.
    ctx.fields["customer_id"] = FieldReading(None, 0.0, "not found")
    ctx.fields["vendor_id"] = FieldReading("998798054", 0.15, "fails")
    assert not step.applies(ctx)


def test_a_valid_business_number_without_a_label_yields_to_what_its_line_reads_again() -> None:
    right = factory.check_digit_id("15693986")
    engine = Sheets([["158039860", right, right, "156039860"], [right], ["x"]])
    ctx = _ctx(
        engine,
        {"vendor_id": FieldReading("154939060", 0.599, "check digit ok, no label")},
        SEGMENT,
    )
    step = RereadNumbers()
    assert step.applies(ctx)
    step.run(ctx)
    assert ctx.fields["vendor_id"].value == right == "156939860"
    assert ctx.fields["vendor_id"].confidence <= 0.6
    # Read back as the page read it: it stays.
    engine = Sheets([["154939060", right, "154939060"], ["154939060"], ["x"]])
    ctx = _ctx(engine, {"vendor_id": FieldReading("154939060", 0.599, "no label")}, SEGMENT)
    RereadNumbers().run(ctx)
    assert ctx.fields["vendor_id"].value == "154939060"


def test_an_allocation_label_beside_a_number_of_the_wrong_length_is_read_again() -> None:
    label = "מספר הקצאה (חשבוניות ישראל): 80392580578"
    engine = Sheets([["039250570", "639250570", "039250570", ""], ["x"], ["039250570"]])
    ctx = _ctx(engine, {}, SEGMENT)
    ctx.pages[0].layout = layout.from_ocr(
        OcrText(
            [
                OcrWord(word, 1400 - 120 * at, 500, 110, 20, 80.0, (1, 1, 1, 9))
                for at, word in enumerate(label.split())
            ]
        )
    )
    step = RereadAllocation()
    assert step.applies(ctx)
    step.run(ctx)
    assert ctx.fields["allocation_number"].value == "039250570"
    assert ctx.fields["allocation_number"].confidence < 0.9
    # Read once only: no two reads agree, nothing is taken.
    engine = Sheets([["039250570", "639250576"], ["x"], ["y"]])
    ctx = _ctx(engine, {}, SEGMENT)
    ctx.pages[0].layout = layout.from_ocr(
        OcrText([OcrWord(label, 900, 500, 500, 20, 80.0, (1, 1, 1, 9))])
    )
    RereadAllocation().run(ctx)
    assert ctx.fields["allocation_number"].value is None


def test_a_number_read_right_twice_on_the_first_sheet_needs_no_other_sheet() -> None:
    right = factory.check_digit_id("99679805")
    engine = Sheets([["", right, "998798054", right], [right], [right]])
    ctx = _ctx(engine, {"vendor_id": FieldReading("998798054", 0.15, "fails")}, SEGMENT)
    RereadNumbers().run(ctx)
    assert ctx.fields["vendor_id"].value == right
    assert len(engine.sheets) == 1


class LatinLine:
    """The Latin engine: reads every crop it is given as `text` (its lines one under the
    other), and keeps the crops' sizes."""

    name = "rapidocr"

    def __init__(self, text: str) -> None:
        self.text, self.crops = text, []

    def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
        self.crops.append(image.size)
        return OcrText(
            [
                OcrWord(w, 10 + 60 * i, 5 + 30 * n, 50, 20, 95.0, (n,))
                for n, line in enumerate(self.text.splitlines())
                for i, w in enumerate(line.split())
            ]
        )


def test_the_latin_engine_reads_a_failing_business_numbers_line_before_tesseract_again() -> None:
    """On a Hebrew photo the Latin engine (RapidOCR) reads the blurred digits Tesseract's
    reads misread; its one valid number is taken, with no further Tesseract read."""
    right = factory.check_digit_id("52935236")
    engine = Sheets([["529952361"], [""], [""]])
    ctx = _ctx(engine, {"vendor_id": FieldReading("529352381", 0.15, "fails")}, SEGMENT)
    ctx.latin_engine = LatinLine(f"nynho {right} :9.n/nmn pory")  # type: ignore[assignment]
    RereadNumbers().run(ctx)
    reading = ctx.fields["vendor_id"]
    assert (reading.value, reading.confidence) == (right, 0.8)
    assert "read again by rapidocr" in reading.reason
    assert engine.sheets == []
    assert len(ctx.latin_engine.crops) == 1  # type: ignore[union-attr]
    # A scan (not enlarged for OCR) is not asked: its print reads well as it is.
    ctx = _ctx(Sheets([[right]]), {"vendor_id": FieldReading("529352381", 0.15, "x")}, SEGMENT)
    ctx.pages[0].ocr_scale = 1.0
    ctx.latin_engine = latin = LatinLine("")  # type: ignore[assignment]
    RereadNumbers().run(ctx)
    assert latin.crops == [] and ctx.fields["vendor_id"].value == right


def test_what_the_latin_engine_cannot_settle_goes_to_tesseracts_reads() -> None:
    """No valid number, two of them, or the buyer's: Tesseract's reads decide as before."""
    right = factory.check_digit_id("52935236")
    buyer = factory.check_digit_id("47343814")
    one, other = factory.check_digit_id("15693986"), factory.check_digit_id("18693988")
    for text in ["529352381 9.n/nn", f"{one} {other}", f"{buyer} 1.n/9.n"]:
        engine = Sheets([["529952361", "", right, right], [""], [""]])
        ctx = _failing_seller_beside_buyer(engine, buyer)
        ctx.latin_engine = LatinLine(text)  # type: ignore[assignment]
        RereadNumbers().run(ctx)
        assert ctx.fields["vendor_id"].value == right, text
        assert "re-reading the line" in ctx.fields["vendor_id"].reason
        assert engine.sheets, text


def test_a_weak_number_the_latin_engine_reads_otherwise_gives_way_below_sure() -> None:
    right = factory.check_digit_id("15693986")
    engine = Sheets([["154939060"], ["154939060"], ["154939060"]])
    ctx = _ctx(engine, {"vendor_id": FieldReading("154939060", 0.599, "no label")}, SEGMENT)
    ctx.latin_engine = LatinLine(f"{right} 9n/nn pory")  # type: ignore[assignment]
    RereadNumbers().run(ctx)
    reading = ctx.fields["vendor_id"]
    assert reading.value == right and reading.confidence <= 0.6, reading
    assert "read again by rapidocr" in reading.reason


def test_a_header_row_read_as_nothing_gives_its_date_and_number_to_the_latin_engine() -> None:
    """A shaded header row the page read skipped, and Tesseract's reads of it gave nothing:
    RapidOCR reads its date in the skipped print, then the row across the page, where the
    document number stands beside the date ("25/09/2025 44757")."""
    from PIL import ImageDraw

    from core.reading.steps import RereadDate, RereadDocNumber

    ctx = _ctx(Sheets([[""]]), {}, SEGMENT)
    ctx.fields["date"] = FieldReading(None, 0.0, "not found")
    ctx.fields["doc_number"] = FieldReading(None, 0.0, "not found")
    ctx.pages[0].layout = layout.from_ocr(
        OcrText([OcrWord("קבלה", 100, 50, 80, 20, 90.0, (1, 1, 1, 1))])
    )
    assert ctx.pages[0].ocr_image is not None
    ImageDraw.Draw(ctx.pages[0].ocr_image).rectangle((1000, 260, 1170, 300), fill=0)
    ctx.latin_engine = date_read = LatinLine("Y8n 25/09/2025")  # type: ignore[assignment]
    step = RereadDate()
    assert step.applies(ctx)
    step.run(ctx)
    assert ctx.fields["date"].value == "2025-09-25"
    assert ctx.fields["date"].confidence < 0.9
    assert ctx.date_box is not None and ctx.date_box[1] <= 260 and ctx.date_box[3] >= 300
    assert date_read.crops
    ctx.latin_engine = row_read = LatinLine("1037 7000 000\nD D 25/09/2025 44757")  # type: ignore[assignment]
    RereadDocNumber().run(ctx)
    reading = ctx.fields["doc_number"]
    assert (reading.value, reading.confidence) == ("44757", 0.5)
    assert "Latin engine" in reading.reason
    # The whole row, across the page, around the date's box.
    width, height = row_read.crops[0]
    assert width == 1500 and 40 <= height <= 100
    # A bank statement's row of dates carries no document number: not read again.
    ctx.kind, ctx.fields["doc_number"] = DocumentKind.BANK_STATEMENT, FieldReading(None, 0, "")
    ctx.latin_engine = unused = LatinLine("25/09/2025 44757")  # type: ignore[assignment]
    RereadDocNumber().run(ctx)
    assert unused.crops == [] and ctx.fields["doc_number"].value is None


def test_a_date_under_its_label_tesseract_cannot_read_is_read_by_the_latin_engine() -> None:
    from core.reading.steps import RereadDate

    engine = Sheets([["תאריך 6 שעה"]])
    ctx = _ctx(engine, {}, SEGMENT)
    ctx.fields["date"] = FieldReading(None, 0.0, "not found")
    ctx.pages[0].layout = layout.from_ocr(
        OcrText([OcrWord("תאריך:", 1100, 300, 120, 30, 90.0, (1, 1, 1, 1))])
    )
    ctx.latin_engine = latin = LatinLine("n'Nn 25/09/2025")  # type: ignore[assignment]
    RereadDate().run(ctx)
    reading = ctx.fields["date"]
    assert reading.value == "2025-09-25" and reading.confidence < 0.9
    assert "read by the Latin engine" in reading.reason
    # Read once, at the page read's size, and no larger Tesseract read after it.
    assert len(latin.crops) == 1 and latin.crops[0][0] == 1500
    assert len(engine.sheets) == 1


def test_a_latin_engine_that_fails_leaves_the_reread_to_tesseract() -> None:
    """Its models could not load (memory, a broken wheel): the number is read as before,
    the failure noted once, and the engine not asked again for this document."""

    class Broken:
        name = "rapidocr"
        calls = 0

        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            Broken.calls += 1
            raise RuntimeError("onnxruntime: cannot allocate memory")

    right = factory.check_digit_id("52935236")
    engine = Sheets([["529952361", "", right, right], [""], [""]])
    ctx = _ctx(engine, {"vendor_id": FieldReading("529352381", 0.15, "fails")}, SEGMENT)
    ctx.fields["customer_id"] = FieldReading("131031112", 0.15, "fails")
    ctx.number_segments["customer_id"] = SEGMENT
    ctx.latin_engine = Broken()  # type: ignore[assignment]
    RereadNumbers().run(ctx)
    assert ctx.fields["vendor_id"].value == right
    assert Broken.calls == 1 and ctx.latin_engine is None
    assert sum(s.startswith("Latin engine failed") for s in ctx.steps) == 1


def test_a_date_the_larger_tesseract_read_found_is_not_credited_to_the_latin_engine() -> None:
    from core.reading.steps import RereadDate

    engine = Sheets([["תאריך 6 שעה"], ["תאריך: 25/09/2025"]])
    ctx = _ctx(engine, {}, SEGMENT)
    ctx.fields["date"] = FieldReading(None, 0.0, "not found")
    ctx.pages[0].layout = layout.from_ocr(
        OcrText([OcrWord("תאריך:", 1100, 300, 120, 30, 90.0, (1, 1, 1, 1))])
    )
    ctx.latin_engine = LatinLine("n'Nn")  # type: ignore[assignment]
    RereadDate().run(ctx)
    reading = ctx.fields["date"]
    assert reading.value == "2025-09-25"
    assert reading.reason == "date label's line, re-read enlarged"


NAME = layout.Segment('טכנולוגיות נט בע"מ', 1, left=1100, top=100, right=1440, bottom=130)


def _seller_unread(latin: LatinLine, *segments: layout.Segment) -> Context:
    """A Hebrew photo: the seller's name read at the top, its number not at all."""
    ctx = _ctx(Sheets([[""]]), {"vendor_name": FieldReading(NAME.text, 0.7, "company")}, NAME)
    ctx.pages[0].layout = layout.Layout(list(segments or [NAME]), True, line_height=31.0)
    ctx.latin_engine = latin  # type: ignore[assignment]
    return ctx


def test_a_sellers_number_the_page_read_skipped_is_read_under_the_sellers_name() -> None:
    """The seller's block prints its number in small grey print under the name; the page's
    read skipped it. The lines under the name, cut small, are read by the Latin engine."""
    right = factory.check_digit_id("81380232")
    ctx = _seller_unread(LatinLine(f"{right} 9n/nn po\npnm,717\n02-5642027 7o"))
    step = VendorNumberUnderItsName()
    assert step.applies(ctx)
    step.run(ctx)
    reading = ctx.fields["vendor_id"]
    assert (reading.value, reading.confidence) == (right, 0.6)
    assert "under the seller's name by rapidocr" in reading.reason
    # From a quarter of the name's height above its foot to four of its lines below it, and
    # as far again to its left as the name is wide: small enough not to be shrunk (960 px).
    assert ctx.latin_engine.crops == [(340 + 340 + 30, 30 // 4 + 4 * 30)]  # type: ignore[union-attr]


def test_a_failing_sellers_number_gives_way_to_the_one_valid_under_the_name() -> None:
    right = factory.check_digit_id("70987979")
    ctx = _seller_unread(LatinLine(f"{right} :9.0\n08-4"))
    ctx.fields["vendor_id"] = FieldReading("084534725", 0.15, "check digit fails")
    ctx.number_segments["vendor_id"] = SEGMENT
    assert VendorNumberUnderItsName().applies(ctx)
    VendorNumberUnderItsName().run(ctx)
    assert ctx.fields["vendor_id"].value == right
    assert "vendor_id" not in ctx.number_segments  # the failing number's place, not this one's


def test_under_the_sellers_name_only_one_valid_number_not_anothers_is_taken() -> None:
    buyer = factory.check_digit_id("96823977")
    one, other = factory.check_digit_id("15693986"), factory.check_digit_id("18693988")
    for text in ["813802328 9n/nn", f"{one} {other}", f"{buyer} 1.0/9.n", ""]:
        ctx = _seller_unread(LatinLine(text))
        ctx.fields["customer_id"] = FieldReading(buyer, 0.8, "buyer's label")
        VendorNumberUnderItsName().run(ctx)
        assert ctx.fields["vendor_id"].value is None, text


def test_the_sellers_number_is_looked_for_under_its_name_only_where_it_is_missing() -> None:
    right = factory.check_digit_id("50589185")
    step = VendorNumberUnderItsName()
    # Read already (valid), a scan, a paper with no seller's number, no Latin engine.
    ctx = _seller_unread(LatinLine(right))
    ctx.fields["vendor_id"] = FieldReading("529352361", 0.8, "label")
    assert not step.applies(ctx)
    ctx = _seller_unread(LatinLine(right))
    ctx.pages[0].ocr_scale = 1.0
    assert not step.applies(ctx)
    ctx = _seller_unread(LatinLine(right))
    ctx.kind = DocumentKind.BANK_STATEMENT
    assert not step.applies(ctx)
    ctx = _seller_unread(LatinLine(right))
    ctx.latin_engine = None
    assert not step.applies(ctx)


def test_a_sellers_name_read_as_one_with_the_lines_under_it_is_taken_a_line_high() -> None:
    """The name and its block's lines read as one segment (100 px, lines of 31): the name is
    its first line, and the crop starts under that line, not under the whole segment (whose
    foot is the block's, the buyer's box under it)."""
    right = factory.check_digit_id("99550657")
    tall = layout.Segment(NAME.text, 1, left=1100, top=100, right=1440, bottom=200)
    ctx = _seller_unread(latin := LatinLine(f"{right} sn/net pom\n08-4633280 7o"), tall)
    VendorNumberUnderItsName().run(ctx)
    assert ctx.fields["vendor_id"].value == right
    assert latin.crops == [(340 + 340 + 31, 31 // 4 + 4 * 31)]
