"""Small files made on the fly for intake tests."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def png(width: int = 320, height: int = 200, label: str = "receipt") -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((10, 10), label, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 320, height: int = 200, label: str = "receipt") -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((10, 10), label, fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def pdf(pages: int = 1, label: str = "invoice") -> bytes:
    images = [Image.new("RGB", (300, 400), "white") for _ in range(pages)]
    for number, image in enumerate(images):
        ImageDraw.Draw(image).text((10, 10), f"{label} {number}", fill="black")
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:])
    return out.getvalue()


def encrypted_pdf() -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf())))
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_bomb() -> bytes:
    """A tiny PNG that claims to be 20000 x 20000 pixels."""
    image = Image.new("1", (20000, 20000), 0)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = jpeg(640, 480)
    return data[: len(data) // 2]


def english_receipt(total: str = "118.00", vat: str = "18.00") -> bytes:
    """A plain, large-type receipt Tesseract reads without trouble."""
    from PIL import ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)
    lines = [
        "ACME Office Supplies",
        "Tax Invoice No. 4711",
        "Date: 05/03/2026",
        "Subtotal 100.00",
        f"VAT 18% {vat}",
        f"TOTAL {total}",
    ]
    image = Image.new("RGB", (700, 60 * len(lines) + 60), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((40, 30 + 60 * number), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def heic(source: bytes | None = None, orientation: int | None = None) -> bytes:
    """An iPhone-style HEIC picture, written by pillow-heif (libheif) from `source`."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = Image.open(io.BytesIO(source if source is not None else jpeg(640, 480)))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.convert("RGB").save(out, "HEIF", quality=90, exif=exif.tobytes())
    return out.getvalue()
