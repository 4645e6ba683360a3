"""PDF pages: the text layer when there is one, else a picture of the page for OCR."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image

from core.reading.pipeline import ReadLimits
from core.reading.text import fix_visual_order, normalise

RENDER_DPI = 200
_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


class PdfProblem(Exception):
    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem


@dataclass
class PdfPage:
    text: str | None  # the text layer, None when the page must be OCR'd
    image: Image.Image | None


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == _PASSWORD_ERROR or "password" in str(error).lower():
            raise PdfProblem("encrypted_pdf", str(error)) from error
        raise PdfProblem("unreadable_pdf", str(error)) from error


def _has_text(text: str) -> bool:
    return len(re.findall(r"[0-9A-Za-z\u0590-\u05FF]", text)) >= 20


def render_scale(width_pt: float, height_pt: float, max_pixels: int) -> float:
    """RENDER_DPI, or less when the page would come out larger than `max_pixels`."""
    width_pt, height_pt = max(width_pt, 1.0), max(height_pt, 1.0)
    scale = RENDER_DPI / 72
    if width_pt * height_pt * scale * scale > max_pixels:
        scale = (max_pixels / (width_pt * height_pt)) ** 0.5
        # pdfium rounds the bitmap's sides up: step down until the rounded size fits.
        while math.ceil(width_pt * scale) * math.ceil(height_pt * scale) > max_pixels:
            scale *= 0.999
    return scale


def read_pages(
    document: pdfium.PdfDocument, limits: ReadLimits | None = None
) -> tuple[list[PdfPage], int]:
    """The first `limits.max_pages` pages and how many the file has. Pages are rendered one
    at a time, each bitmap freed before the next, none above the pixel limits."""
    limits = limits or ReadLimits()
    pages: list[PdfPage] = []
    try:
        total = len(document)
        count = min(total, limits.max_pages)
        per_page = min(limits.max_page_pixels, limits.max_document_pixels // max(count, 1))
        for index in range(count):
            page = document[index]
            textpage = page.get_textpage()
            text = normalise(textpage.get_text_range())
            textpage.close()
            if _has_text(text):
                pages.append(PdfPage(fix_visual_order(text), None))
            else:
                width, height = page.get_size()
                bitmap = page.render(scale=render_scale(width, height, per_page))
                pages.append(PdfPage(None, bitmap.to_pil().convert("RGB")))
                bitmap.close()
            page.close()
    except pdfium.PdfiumError as error:
        raise PdfProblem("unreadable_pdf", str(error)) from error
    if not pages:
        raise PdfProblem("unreadable_pdf", "no pages")
    return pages, total
