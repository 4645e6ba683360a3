"""Tesseract read in the reading process (tesserocr) gives what the command gives."""

from __future__ import annotations

import io
import shutil

import pytest
from PIL import Image, ImageDraw

from bot.ocr.tesseract import TesseractEngine, in_process_available
from tests.receipt_factory import font

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="no tesseract")


def _page() -> Image.Image:
    image = Image.new("L", (900, 260), 255)
    draw = ImageDraw.Draw(image)
    draw.text((30, 30), "Invoice No 4471", font=font(34), fill=0)
    draw.text((30, 140), "Total due 118.00", font=font(34), fill=0)
    return image


def test_the_in_process_api_is_there_where_the_project_is_installed() -> None:
    # tesserocr is a dependency and the system's language files are installed: a missing
    # one would silently put every read back on the slower command.
    assert in_process_available()
    assert TesseractEngine().in_process


def test_in_process_and_command_read_the_same_words_and_boxes() -> None:
    api = TesseractEngine(in_process=True, pages_in_process=True)
    command = TesseractEngine(in_process=False)
    for psm in (3, 6):
        ours = api.image_to_text(_page(), lang="eng", psm=psm)
        theirs = command.image_to_text(_page(), lang="eng", psm=psm)
        assert ours.text == theirs.text == "Invoice No 4471\nTotal due 118.00"
        for a, b in zip(ours.words, theirs.words, strict=True):
            assert abs(a.left - b.left) <= 2 and abs(a.top - b.top) <= 2
            assert a.line_key == b.line_key
    # A second language loads beside the first; both stay usable.
    assert "4471" in api.image_to_text(_page(), lang="Hebrew+eng", psm=6).text
    assert "4471" in api.image_to_text(_page(), lang="eng", psm=6).text
    api.close()
    assert "4471" in api.image_to_text(_page(), lang="eng", psm=6).text  # loads again


def test_the_switch_turns_the_in_process_api_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAYUK_TESSERACT_IN_PROCESS", "0")
    assert not in_process_available()
    assert not TesseractEngine().in_process


def test_whole_pages_go_to_the_command_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = TesseractEngine(in_process=True)
    used: list[str] = []
    monkeypatch.setattr(engine, "_read_in_process", lambda *a: used.append("api") or "")
    engine.image_to_text(_page(), lang="eng", psm=3)
    assert used == []
    engine.image_to_text(_page(), lang="eng", psm=6)
    assert used == ["api"]


def test_the_photo_page_engine_shares_the_loaded_models() -> None:
    engine = TesseractEngine(in_process=True)
    assert "4471" in engine.image_to_text(_page(), lang="eng", psm=6).text
    twin = engine.for_photo_pages()
    assert twin is not None and twin.pages_in_process and twin._apis is engine._apis
    assert "4471" in twin.image_to_text(_page(), lang="eng", psm=3).text
    assert list(engine._apis) == ["eng"]  # no second load
    assert TesseractEngine(in_process=False).for_photo_pages() is None


def test_the_command_is_given_a_pnm_file_not_a_png(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same pixels, without PNG's compression (0.26 s for a photo's enlarged page before
    its orientation check); the words read are the same."""
    import pytesseract

    formats: list[str | None] = []
    original = pytesseract.pytesseract.prepare

    def prepare(image: Image.Image) -> tuple[Image.Image, str]:
        formats.append(image.format)
        return original(image)  # type: ignore[no-any-return]

    monkeypatch.setattr(pytesseract.pytesseract, "prepare", prepare)
    command, page = TesseractEngine(in_process=False), _page()
    assert command.image_to_text(page, lang="eng", psm=3).text == (
        "Invoice No 4471\nTotal due 118.00"
    )
    assert formats == ["PPM"] and page.format is None  # a copy was given, not the page
    turned = Image.new("RGB", (900, 900), "white")
    turned.paste(page.convert("RGB").rotate(90, expand=True))
    command.orientation(turned)
    assert formats == ["PPM", "PPM"]
    # A file's own encoding stays (a JPEG as received, its resolution with it).
    received = Image.open(_jpeg(page))
    command.image_to_text(received, lang="eng", psm=3)
    assert formats[-1] == "JPEG"


def _jpeg(image: Image.Image) -> io.BytesIO:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    out.seek(0)
    return out
