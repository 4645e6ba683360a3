"""`core.reading.OcrEngine` on RapidOCR: PP-OCR models run by onnxruntime, shipped in the wheel.

It reads Latin print and digits better than Tesseract on shop receipts but no Hebrew at all,
so the pipeline gives it the pages its script probe judged Latin (`Context.latin_engine`),
and on Hebrew photos only the line of a business number Tesseract misread (its digits).
The models load on the first read, so a process that never needs them never pays for them
(350-450 MB more at peak on SROIE's pages; about 100 MB for number lines alone).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from core.reading.ports import DEFAULT_LANG, OcrText, OcrWord

# Measured on SROIE (60 receipts, one thread), against RapidOCR's defaults: text boxes found
# on the page scaled to at most 960 px (not at least 736) and lines recognised from a width
# of 160 px (not 320) took 1.2 s a page instead of 1.9 and 750 MB at peak instead of 1200,
# with the same totals and dates. Boxes come back upright from the pipeline's own turning,
# so the direction classifier is off. Lines are recognised one at a time: in a batch each
# is padded to the widest, which cost 7% on receipts and 10-20% on dense invoices.
# A picture more than 8 times as wide as tall is padded by default to a quarter of its width
# high before its text boxes are found: meant for one cut-out line, it made the pipeline's
# strips (a date's label and the row under it, 1600 x 140 px) cost 0.34 s to find boxes in
# instead of 0.04-0.12, and found fewer ("06/09/2025" under its label missed). Off: held-out
# Hebrew photos one document number more, the rest identical; dev photos identical.
PARAMS: dict[str, Any] = {
    "Global.use_cls": False,
    "Det.limit_type": "max",
    "Det.limit_side_len": 960,
    "Rec.rec_img_shape": [3, 48, 160],
    "Rec.rec_batch_num": 1,
    "Global.width_height_ratio": -1,
}


def available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("rapidocr", "onnxruntime"))


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, *, threads: int = 1, params: dict[str, Any] | None = None) -> None:
        self.threads = threads
        self.params = {**PARAMS, **(params or {})}
        self._ocr: Any = None

    def _load(self) -> Any:
        if self._ocr is None:
            from rapidocr import RapidOCR

            # One thread per process, like Tesseract: the pool parallelises across processes.
            self._ocr = RapidOCR(
                params={
                    "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": self.threads,
                    "Global.log_level": "warning",
                    **self.params,
                }
            )
        return self._ocr

    def load(self) -> None:
        """Load the models now rather than on the first read (the benchmark times reads as
        a long-running worker makes them, with its models loaded)."""
        self._load()

    def image_to_text(
        self, image: Image.Image, *, lang: str = DEFAULT_LANG, psm: int = 3
    ) -> OcrText:
        """Every text box as a line of words; `lang` and `psm` are Tesseract's and ignored."""
        result = self._load()(np.asarray(image.convert("RGB")), return_word_box=True)
        if result is None or not getattr(result, "txts", None):
            return OcrText()
        words = getattr(result, "word_results", None) or ()
        if len(words) != len(result.txts):
            words = [()] * len(result.txts)
        return boxes_to_words(result.boxes, result.txts, result.scores, words)

    def orientation(self, image: Image.Image) -> tuple[int, float] | None:
        return None  # never asked: the pipeline turns pages with Tesseract's detection


Quad = Sequence[Sequence[float]]


def _rect(quad: Quad) -> tuple[int, int, int, int]:
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    return round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))


def _box_words(
    rect: tuple[int, int, int, int], text: str, score: float, found: Sequence[Any]
) -> list[tuple[str, tuple[int, int, int, int], float]]:
    """The words of one box with their own boxes: RapidOCR's word boxes when it gave them for
    every word, else the box's width shared out by characters."""
    left, top, right, bottom = rect
    pieces = [
        (str(t), _rect(q), float(s)) for t, s, q in found if q is not None and str(t).strip()
    ]
    if pieces and " ".join(p[0] for p in pieces).split() == text.split():
        return [(t, (r[0], top, r[2], bottom), min(s, 1.0)) for t, r, s in pieces]
    tokens = text.split()
    if not tokens:
        return []
    per_char = (right - left) / max(1, len(text))
    out = []
    position = 0
    for token in tokens:
        start = text.index(token, position)
        position = start + len(token)
        out.append(
            (
                token,
                (round(left + start * per_char), top, round(left + position * per_char), bottom),
                score,
            )
        )
    return out


def boxes_to_words(
    boxes: Any, texts: Sequence[str], scores: Sequence[float], word_results: Sequence[Any]
) -> OcrText:
    """Text boxes grouped into printed lines by vertical overlap, words left to right.

    Tesseract puts the words of a line under one line key; RapidOCR gives one box per run of
    text, and a label and its amount are often two boxes of the same row.
    """
    items = []
    for quad, text, score, found in zip(boxes, texts, scores, word_results, strict=True):
        text = " ".join(str(text).split())
        if text:
            items.append((_rect(quad), text, float(score), found or ()))
    items.sort(key=lambda item: (item[0][1] + item[0][3]) / 2)
    rows: list[list[tuple[tuple[int, int, int, int], str, float, Any]]] = []
    for item in items:
        top, bottom = item[0][1], item[0][3]
        middle = (top + bottom) / 2
        for row in reversed(rows[-3:]):
            # Against the row's first box, not its growing span: a tall title beside a name
            # must not pull the small print under the name into their row.
            first_top, first_bottom = row[0][0][1], row[0][0][3]
            if (
                first_top <= middle <= first_bottom
                and top <= (first_top + first_bottom) / 2 <= bottom
            ):
                row.append(item)
                break
        else:
            rows.append([item])
    words: list[OcrWord] = []
    rows.sort(key=lambda row: min(r[0][1] for r in row))
    for number, row in enumerate(rows):
        for rect, text, score, found in sorted(row, key=lambda r: r[0][0]):
            for token, (left, top, right, bottom), conf in _box_words(rect, text, score, found):
                words.append(
                    OcrWord(
                        token,
                        left,
                        top,
                        max(1, right - left),
                        max(1, bottom - top),
                        round(conf * 100, 1),
                        (number,),
                    )
                )
    return OcrText(words)
