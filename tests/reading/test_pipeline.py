from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from core.domain import DocumentKind
from core.reading import read_document
from core.reading.pipeline import Context, Stop, run_pipeline
from core.reading.ports import OcrText, OcrWord
from tests import receipt_factory as factory

CORE = Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = {"pytesseract", "aiogram", "sqlalchemy", "fastapi", "apscheduler"}


class FakeEngine:
    """Returns fixed words; counts calls so tests can see what the pipeline asked for."""

    def __init__(
        self, lines: list[str], conf: float = 95.0, confs: list[float] | None = None
    ) -> None:
        self.lines, self.conf, self.calls = lines, conf, 0
        self.confs = confs or []  # per call, when a test needs reads of varying quality

    def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
        if lang in ("heb", "heb+eng"):  # the script probe on a strip of the page: not a read
            self.probes = getattr(self, "probes", 0) + 1
            return self._words(self.conf)
        self.calls += 1
        # Reads after the listed ones (re-reads of crops) keep the last quality.
        conf = self.confs[min(self.calls, len(self.confs)) - 1] if self.confs else self.conf
        return self._words(conf)

    def _words(self, conf: float) -> OcrText:
        words = []
        for number, line in enumerate(self.lines):
            x = 1000
            for word in line.split():
                width = 12 * len(word)
                words.append(
                    OcrWord(word, x - width, 40 * number, width, 20, conf, (1, 1, 1, number))
                )
                x -= width + 10
        return OcrText(words)

    def orientation(self, image: Image.Image) -> tuple[int, float] | None:
        return None


class Recorder:
    def __init__(
        self, name: str, log: list[str], *, stop: str | None = None, applies: bool = True
    ) -> None:
        self.name, self.log, self.stop, self._applies = name, log, stop, applies

    def applies(self, ctx: Context) -> bool:
        return self._applies

    def run(self, ctx: Context) -> None:
        self.log.append(f"run {self.name}")
        if self.stop:
            raise Stop(self.stop)

    def cleanup(self, ctx: Context) -> None:
        self.log.append(f"cleanup {self.name}")


def test_a_stopping_step_ends_the_pipeline_and_every_started_step_cleans_up() -> None:
    log: list[str] = []
    ctx = Context(b"", "image/png", FakeEngine([]), date(2026, 3, 1))
    steps = [
        Recorder("a", log),
        Recorder("skip", log, applies=False),
        Recorder("b", log, stop="blank"),
        Recorder("c", log),
    ]
    run_pipeline(steps, ctx)  # type: ignore[arg-type]
    assert log == ["run a", "run b", "cleanup b", "cleanup a"]
    assert ctx.problems == ["blank"]
    assert "skip" not in ctx.steps and "c" not in ctx.steps


def test_fields_are_read_from_ocr_words_with_a_fake_engine() -> None:
    engine = FakeEngine(
        [
            'דלתא סחר בע"מ',
            "עוסק מורשה: 301102703",
            "חשבונית מס מס' 4411",
            "תאריך: 05/03/2026",
            'סה"כ לפני מע"מ 1,000.00',
            'מע"מ 18% 180.00',
            'סה"כ לתשלום 1,180.00 ₪',
            "מספר הקצאה: 123456782",
        ]
    )
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 3, 20))
    assert reading.kind == DocumentKind.TAX_INVOICE
    assert reading.value("vendor_id") == "301102703"
    assert reading.value("doc_number") == "4411"
    assert reading.value("date") == "2026-03-05"
    assert (reading.value("net"), reading.value("vat"), reading.value("total")) == (
        "1000.00",
        "180.00",
        "1180.00",
    )
    assert reading.fields["total"].confidence >= 0.95
    assert reading.value("allocation_number") == "123456782"
    assert engine.calls == 1  # a confident, complete read is not retried


def test_an_allocation_number_in_a_box_ocr_skipped_is_recovered() -> None:
    class SkipsTheBox(FakeEngine):
        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            if psm == 6 and lang not in ("heb", "heb+eng"):  # recovery reads skipped regions
                self.lines = ["מספר הקצאה: 123456782"]
            return super().image_to_text(image, lang=lang, psm=psm)

    engine = SkipsTheBox(["חשבונית מס מס' 4411", 'סה"כ לתשלום 1,180.00 ₪'])
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 3, 20))
    assert reading.value("allocation_number") == "123456782"
    assert "framed box" in reading.fields["allocation_number"].reason


def test_a_poor_read_is_probed_each_way_round_and_the_best_turn_read_again() -> None:
    # first read, probes at 0, 180, 90, 270, then the full read turned 180 (with a date in
    # it, so no date re-read adds a call)
    engine = FakeEngine(['סה"כ לתשלום 10.00', "תאריך: 05/03/2026"], confs=[30, 30, 85, 20, 20, 90])
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 3, 20))
    assert engine.calls == 6
    assert "turned 180: 30 -> 90" in reading.steps


def test_a_poor_read_that_no_turn_improves_is_kept() -> None:
    engine = FakeEngine(['סה"כ לתשלום 10.00'], conf=30.0)
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 3, 20))
    assert any(step.startswith("probed turns: 0=30, 180=30") for step in reading.steps)
    assert not any(step.startswith("turned") for step in reading.steps)


def test_a_plain_text_file_is_read_without_ocr() -> None:
    text = "Faktura nr: F 12/2021\nData wystawienia: 2021-01-01\nDo zapłaty: 316,83 PLN\n"
    engine = FakeEngine([])
    reading = read_document(text.encode(), "text/plain", engine=engine, today=date(2021, 2, 1))
    assert engine.calls == 0
    assert reading.value("total") == "316.83"
    assert reading.value("currency") == "PLN"
    assert reading.value("date") == "2021-01-01"


def test_an_unknown_file_type_is_a_problem() -> None:
    reading = read_document(
        b"PK\x03\x04", "application/zip", engine=FakeEngine([]), today=date(2026, 3, 1)
    )
    assert reading.problems == ["unsupported_file"]
    assert reading.confidence == 0.0


def test_a_decompression_bomb_is_a_problem_not_a_crash() -> None:
    huge = Image.new("1", (20_000, 20_000))  # 400 Mpx, tiny as a PNG
    reading = read_document(
        factory.png_bytes(huge), "image/png", engine=FakeEngine([]), today=date(2026, 3, 1)
    )
    assert reading.problems == ["too_large"]


def test_core_imports_no_frameworks_or_tesseract() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0].lower() in FORBIDDEN
            ]
    assert offenders == []


def test_a_business_number_failing_its_check_digit_is_read_again() -> None:
    class MisreadsOnce(FakeEngine):
        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            if psm == 7:  # the enlarged single line
                self.lines = ["עוסק מורשה: 301102703"]
            return super().image_to_text(image, lang=lang, psm=psm)

    engine = MisreadsOnce(["עוסק מורשה: 301102708", "קבלה מס' 12", 'סה"כ לתשלום 10.00'])
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 3, 20))
    assert reading.value("vendor_id") == "301102703"
    assert reading.fields["vendor_id"].reason == "check digit ok after re-reading the line"
    assert reading.fields["vendor_id"].confidence < 0.9


def test_a_business_number_that_stays_wrong_keeps_a_low_confidence() -> None:
    engine = FakeEngine(["עוסק מורשה: 301102708", "קבלה מס' 12", 'סה"כ לתשלום 10.00'])
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 3, 20))
    assert reading.fields["vendor_id"].confidence < 0.3
    assert "check digit fails" in reading.fields["vendor_id"].reason


def test_an_unconfirmed_total_is_read_again_enlarged() -> None:
    class SharperWhenEnlarged(FakeEngine):
        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            if psm == 7:
                self.lines = ["TOTAL 9.00"]
            return super().image_to_text(image, lang=lang, psm=psm)

    engine = SharperWhenEnlarged(["SHOP LTD", "Date: 05/03/2026", "TOTAL 9.60"], conf=70.0)
    image = factory.png_bytes(factory.render(factory.english_receipt()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 3, 20))
    assert reading.value("total") == "9.00"
    assert reading.fields["total"].reason == "total label, on an enlarged re-read"
    assert reading.fields["total"].confidence < 0.9


class RereadsWith(FakeEngine):
    """The page read gives `lines`; a re-read of crops (psm 6) in `lang` gives `again`."""

    def __init__(self, lines: list[str], again: list[str], lang: str) -> None:
        super().__init__(lines)
        self.again, self.again_lang = again, lang

    def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
        if psm == 6 and lang == self.again_lang:
            return FakeEngine(self.again)._words(self.conf)
        return super().image_to_text(image, lang=lang, psm=psm)


@pytest.mark.parametrize(
    ("page", "again", "lang", "today", "date_read", "reason"),
    [
        pytest.param(
            # The date label misread beyond matching ("חארל"), the date itself lost by the
            # page read: the header row (document number, date, buyer) is read again,
            # enlarged, with `eng`.
            ["חשבונית מס", "מספר מסמך  חארל  לכבוד", "87823  סחר אלפא", 'סה"כ לתשלום 1,180.00'],
            ["14052026 87823"],
            "eng",
            date(2026, 6, 1),
            "2026-05-14",
            "separators lost",
            id="under the header row, without its slashes",
        ),
        pytest.param(
            # A cheque's date line under its number: no word of the page read came from it.
            ["בנק דיסקונט  #7597", "שלמו ל- הדס דהן  ₪ 7,250.00"],
            ["#7597", "תאריך: 05/07/2026"],
            "Hebrew+eng",
            date(2026, 8, 1),
            "2026-07-05",
            "skipped",
            id="in small print the page read skipped",
        ),
        pytest.param(
            # No date label read on a cheque, nor its date in the print the read skipped:
            # its top, where a cheque prints the date, is read again with `eng`.
            ["בנק דיסקונט  #7597", "שלמו ל- הדס דהן  ₪ 7,250.00", "סך של שבעה אלף"],
            ["#7597", "05/07/2026"],
            "eng",
            date(2026, 8, 1),
            "2026-07-05",
            "cheque's top",
            id="at the top of a cheque",
        ),
        pytest.param(
            # A shaded header row skipped, its date read alone with a slash lost.
            ["חשבונית מס / קבלה", "לכבוד", 'סה"כ לתשלום 1,180.00'],
            ["2509/2025"],
            "Hebrew+eng",
            date(2026, 8, 1),
            "2025-09-25",
            "skipped",
            id="alone in skipped print, a separator lost",
        ),
    ],
)
def test_a_date_the_page_read_lost_is_read_again_below_confidence(
    page: list[str], again: list[str], lang: str, today: date, date_read: str, reason: str
) -> None:
    engine = RereadsWith(page, again, lang)
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=today)
    assert reading.value("date") == date_read
    assert reading.fields["date"].confidence < 0.9
    assert reason in reading.fields["date"].reason


def test_a_date_read_again_years_before_today_stays_doubtful() -> None:
    # "14052006" under the header row: a year lost to blur is not shown as sure.
    page = ["חשבונית מס", "מספר מסמך  חארל  לכבוד", "87823  סחר אלפא", 'סה"כ לתשלום 1,180.00']
    engine = RereadsWith(page, ["14052006 87823"], "eng")
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 6, 1))
    assert reading.value("date") == "2006-05-14"
    assert reading.fields["date"].confidence < 0.6
    assert "more than two years old" in reading.fields["date"].reason


def test_the_number_under_the_document_number_label_is_the_one_in_its_column() -> None:
    from core.reading.layout import Segment
    from core.reading.steps import _bare_label, number_under

    # The header row, right to left: number | date | buyer; the values under each, read
    # again from a crop starting at y=100 enlarged twice: the number is last in the line.
    label = Segment("מספר מסמך", 0, left=1400, top=110, right=1480, bottom=125)
    words = [
        OcrWord("Ahn", 2000, 20, 100, 30, 90.0, (1,)),
        OcrWord("26/09/2025", 2400, 70, 200, 30, 90.0, (2,)),
        OcrWord("2026", 2700, 70, 80, 30, 90.0, (2,)),
        OcrWord("48646", 2820, 70, 120, 30, 90.0, (2,)),
    ]
    assert number_under(words, label, top=100, scale=2.0) == "48646"
    # Nothing in the label's column: nothing, not the date's neighbour.
    assert number_under(words[:3], label, top=100, scale=2.0) is None
    assert _bare_label("מספר מסמך:") and not _bare_label("חשבונית מס / קבלה")


def test_a_document_number_label_misread_beyond_matching_is_told_by_its_place() -> None:
    from core.reading.layout import Layout, Segment
    from core.reading.steps import header_row_label

    # The header row as a photo's Hebrew read gave it: "מספר מסמך" as "ספ נוסנון", beside
    # the date's label and the buyer's (both misread within matching).
    row = [
        Segment("ספ נוסנון", 1, left=900, top=100, right=1000, bottom=120),
        Segment("תארץ", 1, left=600, top=100, right=650, bottom=120),
        Segment("לכבו", 1, left=100, top=100, right=150, bottom=120),
    ]
    under = Segment("87821  סחר אלפא", 2, left=100, top=130, right=1000, bottom=150)
    assert header_row_label(Layout([*row, under], has_boxes=True)) is row[0]
    # Two unknown cells beside the date: which one is the number's is not known.
    other = Segment("שעה", 1, left=300, top=100, right=350, bottom=120)
    assert header_row_label(Layout([*row, other, under], has_boxes=True)) is None
    # No date label on the row: nothing told by place.
    assert header_row_label(Layout([row[0], row[2], under], has_boxes=True)) is None


def test_the_document_number_beside_the_date_of_a_re_read_header_row() -> None:
    from core.reading.steps import number_beside_date

    rows = ["1097 ywn non won\nnya NO?N INO 14/05/2026 87823\n178345559 -1.n/ on"]
    assert number_beside_date(rows, "2026-05-14") == "87823"
    # Not the buyer's nine digits, not on another date's line, not two numbers to choose from.
    assert number_beside_date(rows, "2026-05-15") is None
    assert number_beside_date(["14/05/2026 87823 4411"], "2026-05-14") is None
    assert number_beside_date(["14/05/2026 178345559"], "2026-05-14") is None
    # The date with its separators lost is still the date, not the number beside it.
    assert number_beside_date(["76856  0906/2026  אבטחת מידע"], "2026-06-09") == "76856"


def test_a_document_number_whose_header_row_the_page_read_lost_is_read_beside_the_date() -> None:
    # No document-number or date label read, the buyer's label is: its row is re-read with
    # `eng` for the date, and the number beside the date is the document's.
    engine = RereadsWith(
        ["חשבונית מס", "לכבוד", "סחר אלפא", 'סה"כ לתשלום 1,180.00'], ["14/05/2026 87823"], "eng"
    )
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 6, 1))
    assert reading.value("date") == "2026-05-14"
    assert reading.value("doc_number") == "87823"
    assert reading.fields["doc_number"].confidence < 0.9


def test_a_sellers_number_the_page_read_lost_is_read_again_beside_its_label() -> None:
    vendor = factory.check_digit_id("51471328")
    engine = RereadsWith(
        ["חשבונית מס", "עסק מרשה", 'סה"כ לתשלום 1,180.00', "תאריך: 05/03/2026"],
        [f"{vendor} / מורשה pow"],
        "Hebrew+eng",
    )
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 6, 1))
    assert reading.value("vendor_id") == vendor
    assert reading.fields["vendor_id"].confidence < 0.9
    # A number whose check digit fails is not taken as the seller's.
    wrong = vendor[:-1] + str((int(vendor[-1]) + 1) % 10)
    engine = RereadsWith(
        ["חשבונית מס", "עסק מרשה", 'סה"כ לתשלום 1,180.00'], [f"{wrong} מורשה"], "Hebrew+eng"
    )
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 6, 1))
    assert reading.fields["vendor_id"].confidence < 0.3


@pytest.mark.parametrize(
    "buyer_line",
    [
        pytest.param("SBMS in/sn", id="digits read as letters beside the two-id label"),
        pytest.param('סחר אלפא בע"מ', id="only the buyer's label and name read"),
    ],
)
def test_a_buyers_number_the_page_read_lost_is_read_again_beside_its_label(
    buyer_line: str,
) -> None:
    buyer = factory.check_digit_id("33103111")
    page = ["חשבונית מס", "לכבוד", buyer_line, 'סה"כ לתשלום 1,180.00', "תאריך: 05/03/2026"]
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    engine = RereadsWith(page, [f"{buyer} 1.n/ on"], "eng")
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 6, 1))
    assert reading.value("customer_id") == buyer
    assert reading.fields["customer_id"].confidence < 0.9
    # A number whose check digit fails is not taken.
    wrong = buyer[:-1] + str((int(buyer[-1]) + 1) % 10)
    engine = RereadsWith(page, [f"{wrong} 1.n/ on"], "eng")
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 6, 1))
    assert reading.value("customer_id") is None


def test_an_allocation_number_in_a_skipped_box_of_a_photo_takes_its_digits_from_eng() -> None:
    class BoxReads(FakeEngine):
        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            if psm == 6 and lang == "Hebrew":  # the box: label right, the 0 read as 9
                return FakeEngine(["מספר הקצאה: 915492991"])._words(95.0)
            if psm == 6 and lang == "eng":  # the box's digits by the Latin model
                return FakeEngine(["915492091 :AXypn 1ponn"])._words(95.0)
            return super().image_to_text(image, lang=lang, psm=psm)

    engine = BoxReads(
        ['לוגיסטיקה פרו בע"מ  חשבונית מס', "תאריך: 05/03/2026", 'סה"כ לתשלום 27,081.00 ₪']
    )
    photo, _ = factory.on_table(factory.render(factory.hebrew_invoice()), side=1800)
    reading = read_document(
        factory.jpeg_bytes(photo), "image/jpeg", engine=engine, today=date(2026, 3, 20)
    )
    assert "page found" in " ".join(reading.steps)
    assert reading.value("allocation_number") == "915492091"
    assert reading.fields["allocation_number"].confidence < 0.9


def test_a_poorly_read_photo_probes_its_turns_with_the_model_already_loaded() -> None:
    from core.reading.steps import Ocr

    class Counting(FakeEngine):
        def __init__(self, lines: list[str]) -> None:
            super().__init__(lines, conf=40.0)
            self.langs: list[str] = []

        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            self.langs.append(lang)
            return super().image_to_text(image, lang=lang, psm=psm)

    command, in_process = Counting(["שלמו ל"]), Counting(["שלמו ל"])
    ctx = Context(b"", "image/jpeg", command, date(2026, 6, 1), photo_engine=in_process)
    step = Ocr()
    step.photo = True
    page = Image.new("L", (400, 300), 255)
    first = in_process.image_to_text(page, lang="Hebrew")
    in_process.langs.clear()
    step._turned(ctx, page, page, first, command, lang="Hebrew")
    # Four turns probed by the in-process reader with the page's own model; the command
    # (which loads `Hebrew+eng` afresh each run) is not asked to read.
    assert in_process.langs == ["Hebrew"] * 4
    assert command.langs == []


def test_a_photos_amount_rows_read_without_their_amounts_are_read_again_with_eng() -> None:
    from core.reading.crops import GAP

    rows = ["41,100.00 (D\"yn 99'7) oO", '7,398.00 18% n"yn', "48,498.00 pI'7wn? 2\"n0"]

    class LosesTheFigures(FakeEngine):
        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            if psm == 6 and lang == "eng":  # the three label rows stacked, one under another
                height = (image.height - GAP * (len(rows) + 1)) / len(rows)
                return OcrText(
                    [
                        OcrWord(
                            text,
                            30 + 120 * k,
                            round(GAP + i * (height + GAP) + 5),
                            100,
                            20,
                            90.0,
                            (1, 1, 1, i),
                        )
                        for i, row in enumerate(rows)
                        for k, text in enumerate(row.split())
                    ]
                )
            return super().image_to_text(image, lang=lang, psm=psm)

    engine = LosesTheFigures(
        [
            'אחזקות טק בע"מ  קבלה',
            "תאריך: 07/06/2025",
            'סכום ביניים (לפני מע"מ)',
            'מע"מ 18%',
            'סה"כ לתשלום',
        ]
    )
    photo, _ = factory.on_table(factory.render(factory.hebrew_invoice()), side=1800)
    reading = read_document(
        factory.jpeg_bytes(photo), "image/jpeg", engine=engine, today=date(2026, 3, 20)
    )
    assert "page found" in " ".join(reading.steps)
    assert (reading.value("net"), reading.value("vat"), reading.value("total")) == (
        "41100.00",
        "7398.00",
        "48498.00",
    )
    # Sure only because the three add up at the date's rate.
    assert "net + VAT" in reading.fields["total"].reason


def test_a_sellers_number_in_print_the_page_read_skipped_is_found_there() -> None:
    from PIL import ImageDraw

    from core.reading import layout
    from core.reading.pipeline import Page
    from core.reading.result import FieldReading
    from core.reading.steps import VendorNumberInSkippedPrint

    seller, buyer = factory.check_digit_id("51471328"), factory.check_digit_id("90893962")

    class SkippedLine(FakeEngine):
        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            self.langs = [*getattr(self, "langs", []), lang]
            # The skipped lines, read by the model that reads digits: the seller's, and a
            # buyer's number beside its two-id label, which is not the seller's.
            lines = ["514713288 :n.n nwn poly", "606263408 1.n/ on", buyer]
            return FakeEngine(lines)._words(90.0)

    page_read = FakeEngine(["חשבונית מס", "מספר מסמך 4411"])._words(90.0)
    picture = Image.new("L", (1100, 400), 255)
    ImageDraw.Draw(picture).rectangle((300, 250, 800, 280), fill=0)  # ink no word came from
    ctx = Context(b"", "image/jpeg", SkippedLine([]), date(2026, 6, 1))
    ctx.hebrew, ctx.kind = True, DocumentKind.TAX_INVOICE
    ctx.pages = [Page(ocr_image=picture, layout=layout.from_ocr(page_read), photo=True)]
    ctx.fields = {
        "vendor_id": FieldReading(None, 0.0, "not found"),
        "customer_id": FieldReading(buyer, 0.8, "buyer's label"),
        "allocation_number": FieldReading(None, 0.0, "none"),
    }
    step = VendorNumberInSkippedPrint()
    assert step.applies(ctx)
    step.run(ctx)
    assert ctx.fields["vendor_id"].value == seller == "514713288"
    assert ctx.fields["vendor_id"].confidence < 0.9
    assert ctx.engine.langs == ["eng"]  # type: ignore[attr-defined]
    # A cheque prints no seller's number: nothing is read for one.
    ctx.kind, ctx.fields["vendor_id"] = DocumentKind.CHEQUE, FieldReading(None, 0.0, "")
    assert not step.applies(ctx)


def _cheque_ctx(engine: FakeEngine, page_lines: list[str], total: str | None) -> Context:
    from PIL import ImageDraw

    from core.reading import layout
    from core.reading.pipeline import Page
    from core.reading.result import FieldReading

    picture = Image.new("L", (1100, 400), 255)
    ImageDraw.Draw(picture).rectangle((300, 250, 800, 290), outline=0, width=3)  # the frame
    ctx = Context(b"", "image/jpeg", engine, date(2026, 6, 1))
    ctx.hebrew, ctx.kind = True, DocumentKind.CHEQUE
    page_layout = layout.from_ocr(FakeEngine(page_lines)._words(90.0))
    ctx.pages = [Page(ocr_image=picture, layout=page_layout, photo=True)]
    ctx.layout = page_layout
    ctx.fields = {"total": FieldReading(total, 0.7 if total else 0.0, "amount on a cheque")}
    return ctx


def test_a_cheques_amount_in_a_skipped_frame_is_sure_when_its_words_say_the_same() -> None:
    from core.reading.steps import ChequeAmount

    words = ["בנק דיסקונט", "סך של שניים אלף ארבע מאות שקלים חדשים"]
    ctx = _cheque_ctx(FakeEngine(["2,400.00 W"]), words, None)
    step = ChequeAmount()
    assert step.applies(ctx)
    step.run(ctx)
    assert (ctx.fields["total"].value, ctx.fields["total"].confidence) == ("2400.00", 0.9)
    # Words that do not say it: the figures alone, doubtful.
    ctx = _cheque_ctx(FakeEngine(["2,400.00 W"]), ["סך של שלוש מאות שקלים"], None)
    step.run(ctx)
    assert ctx.fields["total"].value == "2400.00"
    assert ctx.fields["total"].confidence < 0.5
    # Words garbled ("שנ"ם"): no amount in words, the figures alone.
    ctx = _cheque_ctx(FakeEngine(["2,400.00 W"]), ['סך של שנ"ם אלף ארבע מאות שקלים'], None)
    step.run(ctx)
    assert ctx.fields["total"].value == "2400.00"
    assert 0.5 <= ctx.fields["total"].confidence < 0.9


def test_a_cheques_amount_read_in_figures_is_confirmed_or_doubted_by_its_words() -> None:
    from core.reading.steps import ChequeAmount

    ctx = _cheque_ctx(FakeEngine([]), ["סך של שמונה מאות חמישים שקלים חדשים"], "850.00")
    ChequeAmount().run(ctx)
    assert ctx.fields["total"].confidence == 0.9
    ctx = _cheque_ctx(FakeEngine([]), ["סך של שמונה מאות חמישים שקלים חדשים"], "650.00")
    ChequeAmount().run(ctx)
    assert ctx.fields["total"].value == "650.00"
    assert ctx.fields["total"].confidence <= 0.4
    # Agorot are not read from the words: their shekels agreeing neither confirm nor doubt.
    line = "סך של שמונה מאות חמישים שקלים ו-50 אגורות"
    ctx = _cheque_ctx(FakeEngine([]), [line], "850.50")
    ChequeAmount().run(ctx)
    assert (ctx.fields["total"].value, ctx.fields["total"].confidence) == ("850.50", 0.7)


def test_eight_digits_in_skipped_print_beside_other_words_are_no_date() -> None:
    engine = RereadsWith(
        ["חשבונית מס / קבלה", "לכבוד", 'סה"כ לתשלום 1,180.00'], ["הזמנה 2509/2025"], "Hebrew+eng"
    )
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 8, 1))
    assert reading.value("date") is None


def test_a_date_in_print_smaller_than_the_page_is_read_again_larger() -> None:
    """A cheque's date under its number, smaller than the rest: the page read ran its digits
    together and read 6 as 8; the first re-read, sized for the page's print, finds nothing."""

    class FoundWhenLarger(FakeEngine):
        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            if psm == 6 and lang == "eng":
                self.rereads = getattr(self, "rereads", 0) + 1
                return FakeEngine(["#9155", "04062026" if self.rereads > 1 else "0 4"])._words(90)
            return super().image_to_text(image, lang=lang, psm=psm)

    page = ["בנק דיסקונט  #9155", "תאריך: 04082026", "שלמו ל- סחר  ₪ 850.00"]
    engine = FoundWhenLarger(page, conf=50.0)  # read poorly: the date is doubtful
    image = factory.png_bytes(factory.render(factory.hebrew_invoice()))
    reading = read_document(image, "image/png", engine=engine, today=date(2026, 11, 30))
    assert reading.value("date") == "2026-06-04", [s for s in reading.steps if "took" not in s]
    assert reading.fields["date"].confidence < 0.9
    assert engine.rereads == 2


def test_a_block_of_print_the_page_read_skipped_is_read_again_and_added() -> None:
    """A photo's whole table of items and totals dropped by the page read: read as a block."""
    from PIL import ImageDraw

    from core.reading.steps import Ocr

    class ReadsTheBlock(FakeEngine):
        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            self.blocks = [*getattr(self, "blocks", []), (image.size, lang, psm)]
            return FakeEngine(['סה"כ לתשלום 42,480.00'])._words(90.0)

    picture = Image.new("L", (1000, 1400), 255)
    draw = ImageDraw.Draw(picture)
    for row in range(6):  # six lines of print no word came from
        draw.rectangle((150, 600 + 26 * row, 850, 620 + 26 * row), fill=0)
    page_read = OcrText([OcrWord("חשבונית", 700, 100, 150, 20, 90.0, (1, 1, 1, 1))])
    engine = ReadsTheBlock([])
    ctx = Context(b"", "image/jpeg", engine, date(2026, 6, 1), photo_engine=engine)
    read = Ocr()._skipped_blocks(ctx, picture, page_read)
    assert [size for size, _, _ in engine.blocks] and engine.blocks[0][1:] == ("Hebrew", 6)
    width, height = engine.blocks[0][0]
    assert 700 <= width < 1000 and 150 <= height < 300
    added = [w for w in read.words if w not in page_read.words]
    assert [w.text for w in added] == ['סה"כ', "לתשלום", "42,480.00"]
    assert all(w.top >= 550 for w in added)  # in the page's pixels, where the block is
    # One line of ink no word came from (a framed box) is no block: not read here.
    engine.blocks = []
    framed = Image.new("L", (1000, 1400), 255)
    ImageDraw.Draw(framed).rectangle((300, 600, 700, 640), outline=0, width=3)
    assert Ocr()._skipped_blocks(ctx, framed, page_read) is page_read
    assert engine.blocks == []
    # A payslip has no document's amounts or date to lose: its blocks are not read.
    payslip = OcrText([OcrWord("תלוש שכר", 600, 100, 250, 20, 90.0, (1, 1, 1, 1))])
    assert Ocr()._skipped_blocks(ctx, picture, payslip) is payslip
    assert engine.blocks == []


def test_a_stray_letter_read_over_a_line_of_small_print_does_not_count_as_read() -> None:
    from core.reading.layout import Segment
    from core.reading.steps import _garbage_over_print

    # "א" read over a cheque's "תאריך: 28/06/2026" (108 px wide, 14 px tall).
    assert _garbage_over_print(Segment("א", 1, left=68, top=128, right=176, bottom=142))
    assert not _garbage_over_print(Segment("#7494", 0, left=68, top=105, right=138, bottom=123))
    assert not _garbage_over_print(
        Segment("₪ 2,400.00", 3, left=93, top=194, right=252, bottom=218)
    )
