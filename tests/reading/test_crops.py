"""Several crops of a page read in one OCR run, each crop's text given back apart."""

from __future__ import annotations

from PIL import Image, ImageDraw

from core.reading.crops import read_crops
from tests.receipt_factory import font


def _line(text: str, width: int) -> Image.Image:
    image = Image.new("L", (width, 60), 255)
    ImageDraw.Draw(image).text((12, 12), text, font=font(30), fill=0)
    return image


def test_each_crop_gets_its_own_text_from_one_run(engine) -> None:  # type: ignore[no-untyped-def]
    calls = []

    class Counting:
        def image_to_text(self, image, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(image.size)
            return engine.image_to_text(image, **kwargs)

    crops = [
        _line("Date 12/03/2026", 420),
        _line("Invoice No 4471", 360),
        _line("Total 118.00", 300),
    ]
    texts = read_crops(Counting(), crops, lang="eng")  # type: ignore[arg-type]
    assert len(calls) == 1
    assert "12/03/2026" in texts[0] and "4471" not in texts[0]
    assert "4471" in texts[1] and "118.00" not in texts[1]
    assert "118.00" in texts[2]
    assert read_crops(Counting(), [], lang="eng") == []
