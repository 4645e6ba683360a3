"""PDF pages: the text layer when there is one, else a picture of the page for OCR."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image

from core.reading.text import fix_visual_order, normalise

RENDER_DPI = 200
MAX_PAGES = 10  # a receipt is a page or two; more is a statement or a mistake
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


def read_pages(document: pdfium.PdfDocument) -> list[PdfPage]:
    pages: list[PdfPage] = []
    try:
        for index in range(min(len(document), MAX_PAGES)):
            page = document[index]
            textpage = page.get_textpage()
            text = normalise(textpage.get_text_range())
            textpage.close()
            if _has_text(text):
                pages.append(PdfPage(fix_visual_order(text), None))
            else:
                bitmap = page.render(scale=RENDER_DPI / 72)
                pages.append(PdfPage(None, bitmap.to_pil().convert("RGB")))
            page.close()
    except pdfium.PdfiumError as error:
        raise PdfProblem("unreadable_pdf", str(error)) from error
    if not pages:
        raise PdfProblem("unreadable_pdf", "no pages")
    return pages
