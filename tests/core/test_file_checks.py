"""A file is what its bytes are: checks of the first bytes, the decoder's verdict, and the
name a kept file is given."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.errors import FileRejected
from core.files import check_file, photo_preview, safe_name, storable
from tests import images


def mpo() -> bytes:
    """The multi-picture JPEG many phone cameras write."""
    out = io.BytesIO()
    first, second = Image.new("RGB", (300, 200), "white"), Image.new("RGB", (300, 200))
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def test_a_phone_cameras_multi_picture_jpeg_is_a_jpeg() -> None:
    assert check_file(mpo()).mime_type == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"MZ\x90\x00" + b"\x00" * 60 + images.pdf(), "file.unsupported"),  # program + PDF
        (b"\n\n" + images.pdf(), "file.unsupported"),  # anything before %PDF-
        (b"\x89PNG\r\n\x1a\n" + images.jpeg()[8:], "file.corrupt"),  # a PNG header on a JPEG
        # A HEIC header with no picture behind it.
        (images.heic()[:200], "file.corrupt"),  # a HEIC cut short
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "file.corrupt"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42", "file.unsupported"),  # a video
    ],
    ids=["program-with-pdf", "junk-before-pdf", "png-header-on-jpeg", "heic-cut", "heic", "mp4"],
)
def test_bytes_that_are_not_what_they_claim_are_refused(data: bytes, key: str) -> None:
    with pytest.raises(FileRejected) as refused:
        check_file(data)
    assert refused.value.key == key


@pytest.mark.parametrize(
    ("name", "mime", "safe"),
    [
        ("invoice\u202efdp.exe", "application/pdf", "invoicefdp.pdf"),
        ("קבלה\u200f מרץ.PDF", "application/pdf", "קבלה מרץ.pdf"),
        ("../../etc/passwd", "image/png", "etcpasswd.png"),
        ("scan\x00\x1b[31m.jpeg", "image/jpeg", "scan[31m.jpg"),
        ("photo.tiff", "image/tiff", "photo.tif"),
        ("\u202e\u2066", "image/png", "document.png"),
        (None, "image/jpeg", None),
    ],
)
def test_names_lose_control_and_direction_characters_and_take_the_bytes_extension(
    name: str | None, mime: str, safe: str | None
) -> None:
    assert safe_name(name, mime) == safe


@pytest.mark.parametrize(
    ("size", "fmt", "kept"),
    [((320, 200), "JPEG", True), ((4500, 7500), "JPEG", False), ((300, 400), "TIFF", False)],
)
def test_a_photo_preview_fits_telegrams_limits(
    size: tuple[int, int], fmt: str, kept: bool
) -> None:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, fmt)
    data = out.getvalue()
    preview = photo_preview(data)
    assert preview is not None and (preview == data) == kept
    with Image.open(io.BytesIO(preview)) as shown:
        assert shown.format in ("JPEG", "PNG") and shown.width + shown.height <= 10_000


def test_a_strip_longer_than_one_to_twenty_goes_as_a_document() -> None:
    assert photo_preview(images.png(4100, 200)) is None


def test_an_iphone_heic_picture_is_accepted_and_kept_as_an_upright_jpeg_that_reads() -> None:
    import pytesseract

    # Taken sideways: the phone stores it rotated and says "turn 90 degrees" in EXIF.
    upright = Image.open(io.BytesIO(images.english_receipt()))
    sideways = io.BytesIO()
    upright.rotate(90, expand=True).save(sideways, "PNG")
    data = images.heic(sideways.getvalue(), orientation=6)
    assert data[4:12] == b"ftypheic"
    assert check_file(data).mime_type == "image/heic"
    kept, checked = storable(data)
    assert kept.startswith(b"\xff\xd8\xff") and checked.mime_type == "image/jpeg"
    assert (checked.width, checked.height) == upright.size
    text = pytesseract.image_to_string(Image.open(io.BytesIO(kept)), lang="eng")
    assert "TOTAL 118.00" in text and "Tax Invoice No. 4711" in text
