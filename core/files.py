"""Checks a file before it is accepted as a document: type, size, and that it opens."""

from __future__ import annotations

import io
import unicodedata
import warnings
from dataclasses import dataclass

import pillow_heif
import pypdfium2
from PIL import Image, ImageOps, UnidentifiedImageError

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
# The extension a kept file is named with: the one its bytes prove, never the sender's.
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/tiff": ".tif",
}
# What Pillow must find inside, for each type the first bytes claim.
# (MPO: the multi-picture JPEG many phone cameras write.)
_PILLOW_FORMATS = {
    "image/heic": ("HEIF",),
    "image/jpeg": ("JPEG", "MPO"),
    "image/png": ("PNG",),
    "image/webp": ("WEBP",),
    "image/tiff": ("TIFF",),
}
# HEIF brands (ISO base media "ftyp" box): iPhone pictures sent as files. pillow-heif
# (libheif) opens them; they are kept as JPEG, so everything after intake sees a JPEG.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
pillow_heif.register_heif_opener()
HEIC_JPEG_QUALITY = 92
# Telegram's sendPhoto: width + height at most 10000, sides at most 1:20, at most 10 MB.
PHOTO_MAX_SIDES = 10_000
PHOTO_MAX_RATIO = 20
PHOTO_MAX_BYTES = 10 * 1024 * 1024
# A preview's longest side: Telegram shows photos no larger than this anyway.
PREVIEW_SIDE = 2560
_NAME_FORBIDDEN = set('/\\:*?"<>|')


@dataclass(frozen=True)
class CheckedFile:
    mime_type: str
    pages: int
    width: int | None = None
    height: int | None = None


def sniff(data: bytes) -> str | None:
    """The type the bytes really are, from their first bytes only; the name and the
    sender's claim are not trusted. A PDF must start with its header: bytes before it
    are how a program passes for a document."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            if mime == "image/webp" and data[8:12] != b"WEBP":
                return None
            return mime
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def safe_name(name: str | None, mime: str) -> str | None:
    """A file name fit to show and to send on: no control or direction characters (a
    right-to-left override makes "fdp.exe" read "exe.pdf"), no path, and the extension of
    the type the bytes are."""
    if name is None:
        return None
    text = unicodedata.normalize("NFC", name)
    text = "".join(
        c for c in text if not unicodedata.category(c).startswith("C") and c not in _NAME_FORBIDDEN
    )
    text = text.strip(" .")  # no hidden file, no "..": a path's dots are not an extension
    stem = text.rsplit(".", 1)[0] if "." in text else text
    stem = " ".join(stem.split()).strip(" .")[:100] or "document"
    return stem + EXTENSIONS.get(mime, "")


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
    if mime is None or (mime not in ACCEPTED and mime != "image/heic"):
        raise FileRejected("file.unsupported")
    if mime == "application/pdf":
        return _check_pdf(data)
    return _check_image(data, mime)


def storable(data: bytes) -> tuple[bytes, CheckedFile]:
    """The bytes to keep and what they are: checked, and a HEIC picture turned into a
    JPEG (upright, as the phone showed it) that every later step (reading, previews, the
    export) opens like any photo. FileRejected when unusable."""
    checked = check_file(data)
    if checked.mime_type != "image/heic":
        return data, checked
    try:
        with Image.open(io.BytesIO(data)) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, SyntaxError) as exc:
        raise FileRejected("file.corrupt") from exc
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=HEIC_JPEG_QUALITY)
    jpeg = out.getvalue()
    return jpeg, check_file(jpeg)


def _check_image(data: bytes, mime: str) -> CheckedFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in _PILLOW_FORMATS[mime]:
                    raise FileRejected("file.corrupt")
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


def photo_preview(data: bytes) -> bytes | None:
    """The picture as Telegram's sendPhoto takes it: the bytes themselves when they fit, else
    a smaller JPEG; None when no photo can show it (a strip longer than 1:20), to be sent
    as a document instead."""
    try:
        return _preview(data)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None  # a picture kept long ago that no longer opens: sent as a document


def _preview(data: bytes) -> bytes | None:
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if max(width, height) > PHOTO_MAX_RATIO * max(1, min(width, height)):
            return None
        fits = width + height <= PHOTO_MAX_SIDES and len(data) <= PHOTO_MAX_BYTES
        if fits and image.format in ("JPEG", "MPO", "PNG"):
            return data
        scale = min(1.0, PREVIEW_SIDE / max(width, height))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if image.format == "JPEG":
            image.draft("RGB", size)  # decodes at a fraction of the size: far less work
        preview = image.convert("RGB")
        preview.thumbnail(size)
        out = io.BytesIO()
        preview.save(out, format="JPEG", quality=85)
        return out.getvalue()
