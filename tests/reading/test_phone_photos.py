"""Phone photos: the page found on the table and cropped before anything reads it, the
script told from the cropped page, and small print on a compressed photo flagged."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.reading import imaging, result
from core.reading.ports import OcrText
from tests import receipt_factory as factory


@pytest.mark.parametrize("table", [(35, 30, 30), (150, 95, 50)], ids=["dark", "wood"])
def test_the_page_is_found_on_a_table_seen_at_an_angle(table: tuple[int, int, int]) -> None:
    page = factory.render(factory.hebrew_invoice(seed=3))
    photo, corners = factory.on_table(page, table=table)
    outline = imaging.find_page(photo)
    assert outline is not None
    assert np.abs(outline.corners - np.array(corners)).max() < 0.03 * photo.height
    cropped = imaging.crop_page(photo, outline)
    ratio = (cropped.width / cropped.height) / (page.width / page.height)
    assert 0.9 < ratio < 1.1


def test_a_scan_or_screenshot_has_no_outline_to_crop() -> None:
    page = factory.render(factory.hebrew_invoice(seed=3))
    assert imaging.find_page(page) is None
    # A page on a table barely darker than paper gives no safe edge: read as it is.
    faint, _ = factory.on_table(page, table=(238, 238, 236), texture=1.0, light=1.0)
    assert imaging.find_page(faint) is None


def test_a_hebrew_invoice_on_a_dark_table_is_read_as_hebrew(read) -> None:  # type: ignore[no-untyped-def]
    spec = factory.hebrew_invoice(seed=5)
    photo, _ = factory.on_table(factory.render(spec), side=1800)
    reading = read(factory.jpeg_bytes(photo), "image/jpeg")
    steps = " | ".join(reading.steps)
    assert "page found" in steps
    # No separate script probe on a photo: the page read itself tells the script.
    assert "script of the page read: hebrew" in steps
    assert "script probe" not in steps
    expected = spec.expected()
    for name in ("total", "vendor_id", "date"):
        assert reading.value(name) == expected[name], (name, steps)


def test_an_english_receipt_on_a_dark_table_is_read_as_latin(read) -> None:  # type: ignore[no-untyped-def]
    spec = factory.english_receipt(seed=4)
    photo, _ = factory.on_table(factory.render(spec), side=1600, table=(20, 20, 25))
    reading = read(factory.jpeg_bytes(photo), "image/jpeg")
    steps = " | ".join(reading.steps)
    assert "script of the page read: latin" in steps
    assert "script probe" not in steps
    assert reading.value("total") == spec.expected()["total"], steps


def test_small_print_on_a_compressed_photo_asks_for_the_file(read) -> None:  # type: ignore[no-untyped-def]
    spec = factory.hebrew_invoice(seed=6)
    photo, _ = factory.on_table(factory.render(spec), side=640)
    reading = read(factory.jpeg_bytes(photo, quality=60), "image/jpeg")
    assert result.SEND_AS_FILE in reading.problems, reading.steps
    # The same page sent as a file, at full size, reads without the request.
    full = read(factory.png_bytes(factory.render(spec)))
    assert result.SEND_AS_FILE not in full.problems


def test_the_request_for_the_file_says_how_in_both_languages() -> None:
    from core.reading_jobs import RETAKE_PROBLEMS
    from handlers.texts import catalog

    assert result.SEND_AS_FILE in RETAKE_PROBLEMS
    hebrew, english = catalog("he")["retake.send_as_file"], catalog("en")["retake.send_as_file"]
    assert "קובץ" in hebrew and "📎" in hebrew and "{id}" in hebrew
    assert "file" in english and "📎" in english and "{id}" in english


def test_only_a_photographed_page_is_read_by_the_photo_engine(engine) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from core.reading import read_document

    pages: list[int] = []

    class Recording:
        def image_to_text(self, image, **kwargs):  # type: ignore[no-untyped-def]
            pages.append(kwargs["psm"])
            return engine.image_to_text(image, **kwargs)

    spec = factory.hebrew_invoice(seed=5)
    photo, _ = factory.on_table(factory.render(spec), side=1800)
    today = date(2026, 3, 20)
    picture = factory.jpeg_bytes(photo)
    reading = read_document(
        picture, "image/jpeg", engine=engine, today=today, photo_engine=Recording()
    )
    assert pages == [3]  # the page's own read; the probe and re-reads stay with `engine`
    assert reading.value("total") == spec.expected()["total"]
    pages.clear()
    scan = factory.png_bytes(factory.render(spec))
    read_document(scan, "image/png", engine=engine, today=today, photo_engine=Recording())
    assert pages == []


def test_a_photo_cut_to_its_prints_box_is_read_as_a_photo(engine) -> None:  # type: ignore[no-untyped-def]
    """No outline (a table barely darker than the paper), but a table around the print: the
    page is read as a photo is, by the photo engine with the Hebrew script model, not as a
    scan by the command with `Hebrew+eng` (0.6 s more a photo, no better read)."""
    from datetime import date

    from core.reading import read_document

    pages: list[tuple[int, str]] = []

    class Recording:
        def image_to_text(self, image, **kwargs):  # type: ignore[no-untyped-def]
            pages.append((kwargs["psm"], kwargs["lang"]))
            return engine.image_to_text(image, **kwargs)

    spec = factory.hebrew_invoice(seed=5)
    middle = ((0.2, 0.15), (0.8, 0.17), (0.81, 0.85), (0.19, 0.83))
    photo, _ = factory.on_table(
        factory.render(spec), table=(238, 238, 236), texture=1.0, light=1.0, corners=middle
    )
    reading = read_document(
        factory.jpeg_bytes(photo),
        "image/jpeg",
        engine=engine,
        today=date(2026, 3, 20),
        photo_engine=Recording(),
    )
    steps = " | ".join(reading.steps)
    assert "cut to the print's box" in steps
    assert pages == [(3, "Hebrew")], steps
    assert "script of the page read: hebrew" in steps
    assert reading.value("total") == spec.expected()["total"], steps


def test_a_photo_whose_read_tells_no_script_is_judged_by_its_binarised_read() -> None:
    """A photo's page read, with the Hebrew script model, gave no word; read binarised it
    gave Latin print: the page goes to the Latin engine, as a scan whose strip told little
    does (SROIE 230-s1: no word, then 108 Latin ones, no field read as Hebrew)."""
    from datetime import date

    from core.reading import read_document
    from tests.reading.test_latin_engine import SpyEngine

    class Faint(SpyEngine):
        """The page read as nothing; its binarised picture (two grey levels) as Latin."""

        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            if len(np.unique(np.asarray(image.convert("L")))) > 2:
                return OcrText([])
            return super().image_to_text(image, lang=lang, psm=psm)

    lines = ["SHOP SDN BHD", "Date: 05/03/2026", "TOTAL RM 9.60"]
    latin = SpyEngine(["SHOP SDN BHD", "Date: 05/03/2026", "TOTAL RM 19.60"])
    photo, _ = factory.on_table(factory.render(factory.english_receipt(seed=4)), side=1600)
    reading = read_document(
        factory.jpeg_bytes(photo),
        "image/jpeg",
        engine=Faint(lines),
        today=date(2026, 3, 20),
        latin_engine=latin,
    )
    steps = " | ".join(reading.steps)
    assert "page found" in steps
    assert "script of the page read: too few letters (0)" in steps
    assert "script of the page read: latin" in steps
    assert latin.calls == 1, steps
    assert reading.value("total") == "19.60"


def test_flattening_evens_out_light_from_one_side_and_keeps_the_ink() -> None:
    # Paper lit from the left (250 -> 120 grey), text strokes 80 grey darker than the paper.
    width, height = 800, 600
    paper = np.tile(np.linspace(250, 120, width, dtype=np.float32), (height, 1))
    page = paper.copy()
    for top in range(50, 550, 40):
        page[top : top + 4, 40:760] -= 80
    flat = np.asarray(imaging.flatten_background(Image.fromarray(page.astype(np.uint8))))
    blank = flat[20:40, 40:760]  # paper between the lines
    assert blank.min() >= 235  # the shaded side is as white as the lit one
    assert flat[50:54, 40:760].mean() < 200  # the strokes stay dark on both sides
    assert flat[50:54, 700:760].mean() < 200


def test_a_small_line_close_under_a_read_one_is_a_region_of_its_own_when_apart() -> None:
    page = np.full((300, 600), 255, np.uint8)
    page[100:124, 100:500:3] = 0  # a line the page read returned words for
    page[130:140, 100:260:2] = 0  # small print 6 px under it that it skipped (a date)
    image = Image.fromarray(page)
    read = [(100, 100, 500, 124)]
    assert imaging.unread_regions(image, read) == []  # merged into the read line's region
    regions = imaging.unread_regions(image, read, apart=True)
    assert len(regions) == 1
    left, top, right, bottom = regions[0]
    assert top <= 130 and bottom >= 140 and left <= 100 and 250 <= right < 500


def test_with_no_outline_the_print_is_boxed_without_the_table() -> None:
    """A page on a table barely darker than paper has no outline: the print's box is read
    instead of the whole picture. Its edge, a shadow or the table are no print."""
    page = factory.render(factory.hebrew_invoice(seed=3))
    middle = ((0.3, 0.25), (0.75, 0.27), (0.76, 0.7), (0.28, 0.68))
    faint, corners = factory.on_table(
        page, table=(238, 238, 236), texture=1.0, light=1.0, corners=middle
    )
    assert imaging.find_page(faint) is None
    box = imaging.ink_box(faint)
    assert box is not None
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    pad = 0.04 * max(faint.size) + 2  # the box's own margin
    assert min(xs) - pad <= box[0] and box[2] <= max(xs) + pad
    assert min(ys) - pad <= box[1] and box[3] <= max(ys) + pad
    # The print itself is in the box: its top lines and its last.
    assert box[1] < min(ys) + 0.15 * (max(ys) - min(ys))
    assert box[3] > max(ys) - 0.6 * (max(ys) - min(ys))
    # The table is around it, so the picture is cut; a scan's blank margins are not.
    assert not imaging.plain_paper_around(faint, box)
    scan_box = imaging.ink_box(page)
    assert scan_box is not None and imaging.plain_paper_around(page, scan_box)


def test_a_blank_sheet_on_a_table_has_no_print_to_box() -> None:
    blank = Image.new("RGB", (800, 1100), "white")
    photo, _ = factory.on_table(blank, table=(90, 80, 70))
    assert imaging.ink_box(photo) is None


def test_the_script_probe_reads_the_picture_as_the_page_read_will() -> None:
    """A photo cut to its print's box keeps the dark table beside the paper. Read as it is,
    one threshold over table and paper turned a clear Latin strip into "| כ |" and the
    receipt went to the Hebrew model; the probe reads the flattened picture the page read
    gets, where the table is as light as the paper, and the picture as it is only when the
    flattened one gives too few letters to tell."""
    from datetime import date

    from core.reading.pipeline import Context
    from core.reading.ports import OcrText, OcrWord
    from core.reading.steps import Ocr

    receipt = factory.render(factory.english_receipt(seed=4)).convert("L")
    photo = Image.new("L", (receipt.width + 240, receipt.height), 30)  # the table either side
    photo.paste(receipt, (120, 0))
    probes: list[Image.Image] = []
    latin = OcrText([OcrWord("Receipt", 0, 0, 80, 20, 95.0, (1, 1, 1, 1))] * 5)
    answers: list[OcrText] = []

    class Spy:
        def image_to_text(self, image: Image.Image, *, lang: str = "", psm: int = 3) -> OcrText:
            probes.append(image)
            return answers.pop(0)

        def orientation(self, image: Image.Image) -> tuple[int, float] | None:
            return None

    ctx = Context(data=b"", mime_type="image/jpeg", engine=Spy(), today=date(2026, 3, 20))
    height = imaging.text_height(photo)
    flat = imaging.flatten_background(photo)
    answers[:] = [latin]
    assert Ocr()._latin(ctx, photo, height, flat)
    assert len(probes) == 1
    band = np.asarray(probes[0])
    # The table's columns (scaled with the band when it was enlarged) read as paper.
    edge = max(1, band.shape[1] * 60 // photo.width)
    assert band[:, :edge].mean() > 200 and band[:, -edge:].mean() > 200
    # The flattened strip read as nothing: the same strip as it is, table and all, decides.
    probes.clear()
    answers[:] = [OcrText([]), latin]
    assert Ocr()._latin(ctx, photo, height, flat)
    assert len(probes) == 2 and np.asarray(probes[1])[:, :edge].mean() < 100
    assert probes[0].size == probes[1].size


def test_component_boxes_are_the_connected_components_boxes() -> None:
    """Outer contours give each 8-connected component's box, as labelling every pixel does:
    a frame with print inside its hole, a diagonal touch, shapes on the picture's edges."""
    import cv2

    binary = np.zeros((120, 200), np.uint8)
    cv2.rectangle(binary, (10, 10), (150, 90), 255, 2)  # a frame ...
    cv2.putText(binary, "7250", (30, 65), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 255, 2)  # ... print in it
    binary[100, 5] = binary[101, 6] = 255  # touching only at a corner: one component
    binary[0:15, 190:200] = 255  # on the top and right edges
    binary[110:120, 0:3] = 255  # on the bottom and left edges
    page = factory.render(factory.hebrew_invoice(seed=3)).convert("L")
    _, letters = cv2.threshold(np.asarray(page), 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    for picture in (binary, letters, cv2.dilate(letters, np.ones((9, 31), np.uint8))):
        _, _, stats, _ = cv2.connectedComponentsWithStats(picture, connectivity=8)
        expected = sorted(tuple(int(v) for v in row[:4]) for row in stats[1:])
        assert sorted(imaging.component_boxes(picture)) == expected
    assert imaging.component_boxes(np.zeros((5, 5), np.uint8)) == []
