"""The OCR engine the reading pipeline needs; `bot/ocr` implements it with Tesseract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_LANG = "Hebrew+eng"


@dataclass(frozen=True)
class OcrWord:
    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float  # 0..100 as Tesseract reports it
    line_key: tuple[int, ...]  # words of one printed line share it

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass
class OcrText:
    words: list[OcrWord] = field(default_factory=list)

    @property
    def text(self) -> str:
        lines: list[str] = []
        last: tuple[int, ...] | None = None
        for word in self.words:
            if word.line_key != last:
                lines.append(word.text)
                last = word.line_key
            else:
                lines[-1] += " " + word.text
        return "\n".join(lines)

    @property
    def mean_conf(self) -> float:
        """Mean word confidence weighted by length; upside-down or noise reads score low."""
        total = sum(len(w.text) for w in self.words)
        if not total:
            return 0.0
        return sum(w.conf * len(w.text) for w in self.words) / total


class OcrEngine(Protocol):
    def image_to_text(
        self, image: Image.Image, *, lang: str = DEFAULT_LANG, psm: int = 3
    ) -> OcrText: ...

    def orientation(self, image: Image.Image) -> tuple[int, float] | None:
        """(degrees to rotate counter-clockwise so text is upright, confidence), or None."""
        ...
