"""An ordered list of small steps over one context (after Paperless-ngx's consumer plugins).

Each step says whether it applies, runs, and cleans up; clean-up always runs for every step
that started. A step stops the pipeline by raising `Stop` with a usability problem.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from core.domain import DocumentKind
from core.reading.layout import Layout, Segment
from core.reading.ports import OcrEngine
from core.reading.result import FieldReading

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)


class Stop(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass
class Page:
    image: Image.Image | None = None  # to be OCR'd
    text: str | None = None  # a text layer, exact
    layout: Layout | None = None
    ocr_conf: float | None = None  # mean word confidence 0..100 when OCR'd
    ocr_image: Image.Image | None = None  # the picture the layout's boxes refer to
    ocr_scale: float = 1.0  # how much OCR enlarged the page before reading it
    latin_engine_read: bool = False  # read by `Context.latin_engine`, not Tesseract
    photo: bool = False  # a page found on a background and cropped out of it
    text_px: float = 0.0  # measured letter height before any enlarging, pixels
    source_side: int = 0  # longest side of the picture as received


@dataclass(frozen=True)
class ReadLimits:
    """How much of a file is read, so a hostile file cannot take a reader's memory.

    A 5000x5000 pt PDF page at 200 DPI is 193 Mpx (2.1 GB measured in one process); an A4
    page at 200 DPI is 3.9 Mpx and a 12 MP phone photo 12 Mpx.
    """

    max_pages: int = 10  # a receipt is a page or two; more is a statement or a mistake
    max_page_pixels: int = 12_000_000  # a PDF page is rendered at most this large
    max_document_pixels: int = 40_000_000  # all pages of one file together
    max_image_pixels: int = 40_000_000  # a decoded picture larger than this is refused


@dataclass
class Context:
    data: bytes
    mime_type: str
    engine: OcrEngine
    today: date
    # Reads pages the script probe judged Latin instead of `engine` (RapidOCR), and a Hebrew
    # photo's misread business number line (steps.RereadNumbers); None: `engine` alone.
    latin_engine: OcrEngine | None = None
    # Reads the whole page of a photo (a page found on a background) instead of `engine`;
    # None: `engine`. Crops and re-reads stay with `engine`.
    photo_engine: OcrEngine | None = None
    limits: ReadLimits = field(default_factory=ReadLimits)
    pages: list[Page] = field(default_factory=list)
    pages_skipped: int = 0  # pages of the file beyond `limits.max_pages`
    layout: Layout | None = None
    hebrew: bool = False
    kind: DocumentKind = DocumentKind.UNKNOWN
    kind_confidence: float = 0.0
    kind_reason: str = ""
    fields: dict[str, FieldReading] = field(default_factory=dict)
    amounts: list[Any] = field(default_factory=list)
    number_segments: dict[str, Segment] = field(default_factory=dict)  # where ids were read
    problems: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    resources: list[Any] = field(default_factory=list)  # closed by the steps' clean-up
    picture_hash: str | None = None  # core.reading.fingerprint
    # Text of the header rows RereadDate read again with `eng` when the page read lost the
    # date label: the document number printed beside the date is in it too.
    header_rows: list[str] = field(default_factory=list)
    # Where on the OCR picture RereadDate found the date in print the page's read skipped:
    # the header row the document number is printed on.
    date_box: tuple[int, int, int, int] | None = None

    def problem(self, name: str) -> None:
        if name not in self.problems:
            self.problems.append(name)

    @property
    def text_layer(self) -> bool:
        return bool(self.pages) and all(p.text is not None for p in self.pages)


class Step(Protocol):
    name: str

    def applies(self, ctx: Context) -> bool: ...

    def run(self, ctx: Context) -> None: ...

    def cleanup(self, ctx: Context) -> None: ...


def run_pipeline(steps: Sequence[Step], ctx: Context) -> Context:
    started: list[Step] = []
    try:
        for step in steps:
            if not step.applies(ctx):
                continue
            started.append(step)
            ctx.steps.append(step.name)
            begun = time.perf_counter()
            try:
                step.run(ctx)
            except Stop as stop:
                ctx.problem(stop.problem)
                ctx.steps.append(f"stopped: {stop.problem}")
                break
            finally:
                ctx.steps.append(f"  {step.name} took {time.perf_counter() - begun:.2f}s")
    finally:
        for step in reversed(started):
            try:
                step.cleanup(ctx)
            except Exception:  # a failing clean-up must not hide the reading
                log.exception("clean-up of %s failed", step.name)
    return ctx
