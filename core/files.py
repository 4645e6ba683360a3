"""Checks a file before it is accepted as a document: type, size, and that it opens."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pypdfium2
from PIL import Image, UnidentifiedImageError

from core.errors import FileRejected

# The cloud Bot API serves files up to 20 MB; the same bound keeps us honest elsewhere.
MAX_FILE_BYTES = 20 * 1024 * 1024
# A 50-megapixel phone photo passes; a decompression bomb does not.
MAX_IMAGE_PIXELS = 60_000_000
MAX_PDF_PAGES = 50

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"RIFF", "image/webp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"GIF8", "image/gif"),
)
ACCEPTED = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp", "image/tiff"})


@dataclass(frozen=True)
class CheckedFile:
    mime_type: str
    pages: int
    width: int | None = None
    height: int | None = None


def sniff(data: bytes) -> str | None:
    """The type the bytes really are; the name and the sender's claim are not trusted."""
    head = data[:1024]
    for signature, mime in _SIGNATURES:
        if head.startswith(signature):
            if mime == "image/webp" and data[8:12] != b"WEBP":
                return None
            return mime
    # Some PDF writers put junk before the header.
    if b"%PDF-" in head:
        return "application/pdf"
    return None


def check_size(size: int | None) -> None:
    if size is not None and size > MAX_FILE_BYTES:
        raise FileRejected("file.too_big", limit_mb=MAX_FILE_BYTES // (1024 * 1024))


def check_declared_type(mime_type: str | None, file_name: str | None) -> None:
    """A quick refusal from what the platform tells us, before anything is downloaded."""
    if mime_type and (mime_type in ACCEPTED or mime_type.startswith("image/")):
        return
    name = (file_name or "").lower()
    if name.endswith((".pdf", ".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".heic")):
        return
    raise FileRejected("file.unsupported")


def check_file(data: bytes) -> CheckedFile:
    if not data:
        raise FileRejected("file.empty")
    check_size(len(data))
    mime = sniff(data)
    if mime is None or mime not in ACCEPTED:
        raise FileRejected("file.unsupported")
    if mime == "application/pdf":
        return _check_pdf(data)
    return _check_image(data, mime)


def _check_image(data: bytes, mime: str) -> CheckedFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise FileRejected("file.image_too_large")
                # Only decoding the whole picture shows it is not truncated; for a JPEG a
                # 1/8-scale decode reads every byte for a fraction of the work.
                if image.format == "JPEG":
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except FileRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FileRejected("file.image_too_large") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise FileRejected("file.corrupt") from exc
    return CheckedFile(mime_type=mime, pages=1, width=width, height=height)


def _check_pdf(data: bytes) -> CheckedFile:
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise FileRejected("file.pdf_encrypted") from exc
        raise FileRejected("file.pdf_broken") from exc
    try:
        pages = len(pdf)
    finally:
        pdf.close()
    if pages == 0:
        raise FileRejected("file.pdf_broken")
    if pages > MAX_PDF_PAGES:
        raise FileRejected("file.pdf_too_many_pages", limit=MAX_PDF_PAGES)
    return CheckedFile(mime_type="application/pdf", pages=pages)
