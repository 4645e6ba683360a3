"""Small files that cost a reader much: giant pages, decompression bombs, endless pages.

Made on the fly (tests and bench/hostile.py), so nothing large is kept in the repository.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from tests.receipt_factory import _pdf_objects, _stream


def _bars(width: float, height: float) -> bytes:
    """A few black bars as vector paths: ink to render, but no text layer."""
    lines = ["0 0 0 rg"]
    for n in range(8):
        lines.append(
            f"{width * 0.1:.0f} {height * (0.1 + n * 0.1):.0f} {width * 0.6:.0f} "
            f"{max(height * 0.004, 2):.0f} re f"
        )
    return "\n".join(lines).encode()


def giant_page_pdf(side_pt: int = 5000) -> bytes:
    """One page of side_pt x side_pt points: 193 Mpx at 200 DPI for 5000 pt."""
    return _pdf_objects(
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side_pt} {side_pt}] /Contents 4 0 R >>",
            _stream(_bars(side_pt, side_pt)),
        ]
    )


def many_pages_pdf(pages: int) -> bytes:
    """`pages` A4 pages without a text layer, each to be rendered for OCR."""
    kids = " ".join(f"{3 + 2 * n} 0 R" for n in range(pages))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>",
    ]
    for n in range(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * n} 0 R >>"
        )
        objects.append(_stream(_bars(595, 842)))
    return _pdf_objects(objects)


def bomb_png(side: int = 20000) -> bytes:
    """A few kB of PNG that decodes to side x side pixels (1.2 GB as RGB for 20000)."""
    out = io.BytesIO()
    Image.new("1", (side, side), 1).save(out, "PNG", optimize=True)
    return out.getvalue()


def _receipt_page(size: tuple[int, int], label: str, mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, size, "white" if mode == "RGB" else 1)
    draw = ImageDraw.Draw(image)
    font_size = max(12, size[1] // 60)
    try:
        from PIL import ImageFont

        font = ImageFont.load_default(size=font_size)
    except TypeError:  # Pillow < 10.1
        font = None
    for line in range(12):
        draw.text(
            (size[0] // 10, size[1] // 10 + line * font_size * 2),
            f"{label} line {line} TOTAL 118.00",
            fill="black" if mode == "RGB" else 0,
            font=font,
        )
    return image


def big_jpeg(side: int = 5000) -> bytes:
    out = io.BytesIO()
    _receipt_page((side, side), "BIG").save(out, "JPEG", quality=70)
    return out.getvalue()


def multipage_tiff(pages: int = 200, size: tuple[int, int] = (1700, 2200)) -> bytes:
    """A fax-like TIFF of `pages` pages (1 bit, Group 4)."""
    frames = [_receipt_page(size, f"PAGE {n + 1}", mode="1") for n in range(pages)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], compression="group4")
    return out.getvalue()
