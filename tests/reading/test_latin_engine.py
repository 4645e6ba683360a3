"""The second OCR engine for Latin-script pages (RapidOCR), its routing and its fallback."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.ocr import pool, rapid
from core.reading import read_document
from core.reading.layout import from_ocr
from core.reading.ports import OcrText, OcrWord
from tests import receipt_factory as factory

TODAY = date(2026, 3, 20)


class SpyEngine:
    """A Latin engine that records what it was asked and answers with fixed lines."""

    name = "spy"

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.calls = 0

    def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
        self.calls += 1
        return OcrText(
            [
                OcrWord(w, 100 + 80 * i, 100 + 40 * n, 70, 30, 96.0, (n,))
                for n, line in enumerate(self.lines)
                for i, w in enumerate(line.split())
            ]
        )

    def orientation(self, image: Image.Image) -> tuple[int, float] | None:
        return None


class ProbeEngine(SpyEngine):
    """Stands in for Tesseract: its `heb` probe of a strip answers with a chosen confidence."""

    def __init__(self, lines: list[str], probe_conf: float) -> None:
        super().__init__(lines)
        self.probe_conf = probe_conf
        self.langs: list[str] = []

    def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
        self.langs.append(lang)
        text = super().image_to_text(image, lang=lang, psm=psm)
        if lang == "heb":
            return OcrText(
                [
                    OcrWord(w.text, w.left, w.top, w.width, w.height, self.probe_conf, w.line_key)
                    for w in text.words
                ]
            )
        return text


def _page() -> bytes:
    # Ink in lines so the quality check passes and the script probe has a strip to read.
    image = Image.new("L", (900, 1200), 255)
    pixels = np.asarray(image).copy()
    for top in range(100, 1000, 60):
        pixels[top : top + 22, 80:700:3] = 0
    return factory.png_bytes(Image.fromarray(pixels))


def test_a_page_the_probe_finds_latin_is_read_by_the_latin_engine() -> None:
    tesseract = ProbeEngine(["SHOP SDN BHD", "Date: 05/03/2026", "TOTAL 9.60"], probe_conf=30)
    latin = SpyEngine(["SHOP SDN BHD", "Date: 05/03/2026", "TOTAL RM 19.60"])
    reading = read_document(
        _page(), "image/png", engine=tesseract, today=TODAY, latin_engine=latin
    )
    assert latin.calls == 1
    assert "read with spy" in reading.steps
    assert tesseract.langs.count("eng") <= 1  # no full-page Tesseract read besides the probe
    assert reading.value("total") == "19.60"


def test_a_hebrew_page_stays_with_tesseract() -> None:
    lines = ["חשבונית מס 4411", "תאריך: 05/03/2026", 'סה"כ לתשלום 1,180.00']
    tesseract = ProbeEngine(lines, probe_conf=85)
    latin = SpyEngine(["WRONG 1.00"])
    reading = read_document(
        _page(), "image/png", engine=tesseract, today=TODAY, latin_engine=latin
    )
    assert latin.calls == 0
    assert "Hebrew+eng" in tesseract.langs
    assert reading.value("total") == "1180.00"


class StripEngine(SpyEngine):
    """Stands in for Tesseract: the script probe's strip reads as `strip`, the page as its
    lines (a Latin receipt whose strip, a logo or a stamp, came back as a few Hebrew words)."""

    def __init__(self, lines: list[str], strip: str) -> None:
        super().__init__(lines)
        self.strip = strip

    def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
        if lang == "heb+eng":
            words = self.strip.split()
            return OcrText(
                [OcrWord(w, 100 + 80 * i, 100, 70, 30, 90.0, (0,)) for i, w in enumerate(words)]
            )
        return super().image_to_text(image, lang=lang, psm=psm)


@pytest.mark.parametrize(
    ("strip", "latin_reads"), [("שלום חבר abc", 1), ("שלום חבר טוב מאוד מאוד abc", 0)]
)
def test_a_hebrew_verdict_on_few_letters_gives_way_to_the_pages_own_latin_read(
    strip: str, latin_reads: int
) -> None:
    page = ["SHOP SDN BHD", "Date: 05/03/2026", "TOTAL 9.60"]
    latin = SpyEngine(["SHOP SDN BHD", "Date: 05/03/2026", "TOTAL RM 19.60"])
    reading = read_document(
        _page(), "image/png", engine=StripEngine(page, strip), today=TODAY, latin_engine=latin
    )
    # 10 letters tell the page is Hebrew only until its read says otherwise; 21 do.
    assert latin.calls == latin_reads
    assert reading.value("total") == ("19.60" if latin_reads else "9.60")
    assert any(s.startswith("script of the page read: latin") for s in reading.steps) == bool(
        latin_reads
    )


def test_boxes_of_one_row_become_one_line_read_left_to_right() -> None:
    def quad(left: int, top: int, right: int, bottom: int) -> list[list[int]]:
        return [[left, top], [right, top], [right, bottom], [left, bottom]]

    boxes = [
        quad(600, 402, 700, 430),
        quad(40, 100, 400, 130),
        quad(40, 400, 160, 428),
        quad(40, 448, 300, 476),
    ]
    texts = ["19.60", "TAN WOON YANN SDN BHD", "TOTAL", "Thank you"]
    ocr = rapid.boxes_to_words(boxes, texts, [0.99, 0.95, 0.98, 0.9], [(), (), (), ()])
    assert ocr.text == "TAN WOON YANN SDN BHD\nTOTAL 19.60\nThank you"
    words = {w.text: w for w in ocr.words}
    assert words["TOTAL"].line_key == words["19.60"].line_key
    assert words["WOON"].left > words["TAN"].right - 5  # the box's width shared by the words
    assert words["YANN"].right <= 400
    assert words["19.60"].conf == pytest.approx(99.0)
    page = from_ocr(ocr)
    total = next(s for s in page.segments if s.text == "TOTAL")
    assert [s.text for s in page.beside(total)] == ["19.60"]


def test_a_tall_title_does_not_pull_the_small_print_under_the_name_into_its_row() -> None:
    boxes = [
        [[40, 30], [300, 30], [300, 70], [40, 70]],  # Sammy Maystone
        [[700, 28], [950, 28], [950, 100], [700, 100]],  # INVOICE, twice as tall
        [[40, 76], [260, 76], [260, 96], [40, 96]],
    ]  # the e-mail under the name
    texts = ["Sammy Maystone", "INVOICE", "sammy@example.com"]
    ocr = rapid.boxes_to_words(boxes, texts, [0.99] * 3, [()] * 3)
    assert ocr.text.split("\n") == ["Sammy Maystone INVOICE", "sammy@example.com"]


def test_latin_engine_falls_back_to_tesseract_when_rapidocr_is_missing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rapid, "available", lambda: False)
    with caplog.at_level(logging.WARNING, logger="bot.ocr.pool"):
        assert pool.latin_engine("rapidocr") is None
    assert "read with Tesseract" in caplog.text


def test_latin_engine_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setattr(rapid, "available", lambda: True)
    monkeypatch.setenv("TAYUK_OCR_LATIN_ENGINE", "tesseract")
    assert pool.latin_engine() is None
    monkeypatch.setenv("TAYUK_OCR_LATIN_ENGINE", "rapidocr")
    engine = pool.latin_engine()
    assert isinstance(engine, rapid.RapidOcrEngine)
    assert engine._ocr is None  # the models load on the first Latin page, not before
    monkeypatch.delenv("TAYUK_OCR_LATIN_ENGINE")
    assert isinstance(pool.latin_engine(), rapid.RapidOcrEngine)  # the default


def test_without_a_latin_engine_an_english_receipt_is_read_by_tesseract(read) -> None:  # type: ignore[no-untyped-def]
    spec = factory.english_receipt(seed=5, issued=date(2026, 2, 17))
    reading = read(factory.png_bytes(factory.render(spec)))
    assert not any(step.startswith("read with") for step in reading.steps)
    assert reading.value("total") == str(spec.total)
    assert reading.value("date") == "2026-02-17"


@pytest.fixture(scope="module")
def rapidocr_engine() -> rapid.RapidOcrEngine:
    if not rapid.available():
        pytest.skip("rapidocr is not installed")
    return rapid.RapidOcrEngine()


def test_rapidocr_reads_an_english_receipt(engine, rapidocr_engine) -> None:  # type: ignore[no-untyped-def]
    spec = factory.english_receipt(seed=5, issued=date(2026, 2, 17))
    photo = factory.photo(factory.render(spec), rotate=1.5, blur=0.8, scale=0.7)
    reading = read_document(
        photo, "image/jpeg", engine=engine, today=TODAY, latin_engine=rapidocr_engine
    )
    assert "read with rapidocr" in reading.steps
    assert reading.value("total") == str(spec.total)
    assert reading.value("date") == "2026-02-17"
    assert reading.value("vendor_name") == spec.vendor_name


def test_rapidocr_is_not_asked_to_read_hebrew(
    engine,
    rapidocr_engine,  # type: ignore[no-untyped-def]
    hebrew_invoice,
    hebrew_invoice_png,
) -> None:
    reading = read_document(
        hebrew_invoice_png, "image/png", engine=engine, today=TODAY, latin_engine=rapidocr_engine
    )
    assert not any(step.startswith("read with") for step in reading.steps)
    assert reading.value("total") == str(hebrew_invoice.total)
    assert reading.value("vendor_id") == hebrew_invoice.vendor_id
