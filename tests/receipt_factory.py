"""Receipts and invoices with known fields, rendered for the reading tests.

Hebrew is drawn with Pillow's raqm layout when available (it applies the bidi algorithm);
otherwise `visual_order` reverses Hebrew runs and keeps numbers and Latin left to right.
"""

from __future__ import annotations

import io
import random
import re
import zlib
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

from core.domain import DocumentKind

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/culmus"))
RAQM = features.check("raqm")
WIDTH = 1240  # A4 at 150 dpi
CENT = Decimal("0.01")

HEBREW_TITLES = {
    DocumentKind.TAX_INVOICE: "חשבונית מס",
    DocumentKind.TAX_INVOICE_RECEIPT: "חשבונית מס / קבלה",
    DocumentKind.RECEIPT: "קבלה",
    DocumentKind.PROFORMA: "חשבון עסקה",
    DocumentKind.CREDIT_NOTE: "חשבונית זיכוי",
}


def font(size: int, *, bold: bool = False, name: str = "DejaVuSans") -> ImageFont.FreeTypeFont:
    file = f"{name}-Bold.ttf" if bold else f"{name}.ttf"
    for folder in FONT_DIRS:
        if (folder / file).exists():
            engine = ImageFont.Layout.RAQM if RAQM else ImageFont.Layout.BASIC
            return ImageFont.truetype(str(folder / file), size, layout_engine=engine)
    raise FileNotFoundError(file)


def check_digit_id(prefix: str) -> str:
    """Complete 8 digits into a 9-digit Israeli id/business number with a valid check digit."""
    assert len(prefix) == 8 and prefix.isdigit()
    total = 0
    for index, char in enumerate(prefix):
        product = int(char) * (1 if index % 2 == 0 else 2)
        total += product - 9 if product > 9 else product
    return prefix + str((10 - total % 10) % 10)


def money(value: Decimal) -> str:
    """1234.5 -> '1,234.50'; negatives print with a trailing minus as Israeli software does."""
    text = f"{abs(value):,.2f}"
    return text + "-" if value < 0 else text


@dataclass
class Line:
    description: str
    quantity: int
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.price * self.quantity).quantize(CENT)


@dataclass
class ReceiptSpec:
    """A document and the fields a perfect reader would return."""

    kind: DocumentKind
    language: str  # "he" or "en"
    vendor_name: str
    vendor_id: str | None
    customer_name: str
    customer_id: str | None
    doc_number: str
    issued: date
    lines: list[Line]
    vat_rate: Decimal
    currency: str = "ILS"
    allocation_number: str | None = None
    extra_lines: list[str] = field(default_factory=list)

    @property
    def sign(self) -> int:
        return -1 if self.kind == DocumentKind.CREDIT_NOTE else 1

    @property
    def net(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0)) * self.sign

    @property
    def vat(self) -> Decimal:
        return (self.net * self.vat_rate).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def total(self) -> Decimal:
        return self.net + self.vat

    def expected(self) -> dict[str, str | None]:
        return {
            "vendor_name": self.vendor_name,
            "vendor_id": self.vendor_id,
            "customer_id": self.customer_id,
            "doc_number": self.doc_number,
            "date": self.issued.isoformat(),
            "total": f"{self.total:.2f}",
            "vat": f"{self.vat:.2f}",
            "net": f"{self.net:.2f}",
            "currency": self.currency,
            "allocation_number": self.allocation_number,
        }


def hebrew_invoice(
    kind: DocumentKind = DocumentKind.TAX_INVOICE,
    *,
    seed: int = 1,
    issued: date = date(2026, 3, 5),
    vat_rate: Decimal = Decimal("0.18"),
    allocation: bool = True,
) -> ReceiptSpec:
    rng = random.Random(seed)
    lines = [
        Line("ייעוץ מקצועי", rng.randint(1, 9), Decimal(rng.choice([120, 250, 480, 600]))),
        Line("רישיון תוכנה", rng.randint(1, 5), Decimal(rng.choice([99, 350, 1200]))),
        Line("תחזוקה חודשית", 1, Decimal(rng.choice([800, 1500, 2300]))),
    ]
    return ReceiptSpec(
        kind=kind,
        language="he",
        vendor_name=rng.choice(['אלפא מערכות בע"מ', 'גמא שירותים בע"מ', 'דלתא סחר בע"מ']),
        vendor_id=check_digit_id(f"51{rng.randint(0, 999999):06d}"),
        customer_name="משרד רואי חשבון כהן",
        customer_id=check_digit_id(f"{rng.randint(10_000_000, 39_999_999)}"),
        doc_number=str(rng.randint(10000, 99999)),
        issued=issued,
        lines=lines,
        vat_rate=vat_rate,
        allocation_number=f"{rng.randint(100_000_000, 999_999_999)}" if allocation else None,
    )


def english_receipt(*, seed: int = 2, issued: date = date(2026, 3, 5)) -> ReceiptSpec:
    rng = random.Random(seed)
    lines = [
        Line("Coffee beans 1kg", rng.randint(1, 3), Decimal("54.90")),
        Line("Paper cups x100", rng.randint(1, 4), Decimal("12.50")),
        Line("Delivery", 1, Decimal("25.00")),
    ]
    return ReceiptSpec(
        kind=DocumentKind.RECEIPT,
        language="en",
        vendor_name="HARBOUR TRADING LTD",
        vendor_id=None,
        customer_name="",
        customer_id=None,
        doc_number=f"R-{rng.randint(1000, 9999)}",
        issued=issued,
        lines=lines,
        vat_rate=Decimal("0.10"),
        currency="USD",
    )


_HEBREW_RUN = re.compile(r"[\u0590-\u05FF][\u0590-\u05FF\s\"'.,:/()\-]*")


def visual_order(text: str) -> str:
    """Logical -> visual for a right-to-left line without raqm: reverse the whole line, then
    turn numbers and Latin runs back so they read left to right."""
    flipped = text[::-1].translate(str.maketrans("()", ")("))
    return re.sub(
        r"[0-9A-Za-z₪$%.,:/\-]*[0-9A-Za-z][0-9A-Za-z₪$%.,:/\-]*",
        lambda m: m.group(0)[::-1],
        flipped,
    )


class Canvas:
    def __init__(self, height: int = 1754, width: int = WIDTH) -> None:
        self.image = Image.new("RGB", (width, height), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.y = 70
        self.margin = 80

    def text(
        self,
        text: str,
        *,
        size: int = 30,
        bold: bool = False,
        align: str = "right",
        x: int | None = None,
        rtl: bool = True,
        advance: bool = True,
        color: str = "black",
    ) -> None:
        face = font(size, bold=bold)
        kwargs: dict[str, object] = {}
        if RAQM and rtl:
            kwargs = {"direction": "rtl", "language": "he"}
        elif rtl:
            text = visual_order(text)
        width = self.draw.textlength(text, font=face, **kwargs)  # type: ignore[arg-type]
        if x is None:
            x = int(self.image.width - self.margin - width) if align == "right" else self.margin
        elif align == "right":
            x = int(x - width)
        self.draw.text((x, self.y), text, font=face, fill=color, **kwargs)  # type: ignore[arg-type]
        if advance:
            self.y += int(size * 1.6)

    def rule(self) -> None:
        self.draw.line(
            (self.margin, self.y, self.image.width - self.margin, self.y), fill="black", width=2
        )
        self.y += 20


def render(spec: ReceiptSpec) -> Image.Image:
    return render_hebrew(spec) if spec.language == "he" else render_english(spec)


def render_hebrew(spec: ReceiptSpec) -> Image.Image:
    canvas = Canvas()
    right = canvas.image.width - canvas.margin
    canvas.text(spec.vendor_name, size=44, bold=True)
    canvas.text(f"עוסק מורשה: {spec.vendor_id}")
    canvas.text("רחוב הרצל 12, תל אביב   טל' 03-5551234")
    canvas.y += 20
    canvas.text(f"{HEBREW_TITLES[spec.kind]} מס' {spec.doc_number}", size=40, bold=True)
    canvas.text(f"תאריך: {spec.issued:%d/%m/%Y}")
    canvas.text(f"לכבוד: {spec.customer_name}")
    canvas.text(f"ח.פ: {spec.customer_id}")
    canvas.y += 20
    canvas.rule()
    columns = ((right, "תיאור"), (620, "כמות"), (470, "מחיר"), (260, "סכום"))
    for x, header in columns:
        canvas.text(header, x=x, bold=True, advance=False)
    canvas.y += 50
    for line in spec.lines:
        amount = line.amount * spec.sign
        cells = (line.description, str(line.quantity), money(line.price), money(amount))
        for (x, _), cell in zip(columns, cells, strict=True):
            canvas.text(cell, x=x, advance=False)
        canvas.y += 50
    canvas.rule()
    rate = f"{spec.vat_rate * 100:.0f}%"
    for label, value in (
        ('סה"כ לפני מע"מ', spec.net),
        (f'מע"מ {rate}', spec.vat),
        ('סה"כ לתשלום', spec.total),
    ):
        canvas.text(label, x=right, advance=False, bold=label.startswith('סה"כ ל'))
        canvas.text(f"{money(value)} ₪", x=420, advance=True, bold=label.startswith('סה"כ ל'))
    if spec.allocation_number:
        canvas.y += 20
        canvas.text(f"מספר הקצאה: {spec.allocation_number}")
    for extra in spec.extra_lines:
        canvas.text(extra)
    return canvas.image


def render_english(spec: ReceiptSpec) -> Image.Image:
    canvas = Canvas(height=1500, width=900)
    put = canvas.text
    put(spec.vendor_name, size=42, bold=True, align="left", rtl=False)
    put("12 Harbour Road, Haifa", align="left", rtl=False)
    put("Tel 04-8551234", align="left", rtl=False)
    canvas.y += 20
    put("RECEIPT", size=40, bold=True, align="left", rtl=False)
    put(f"Receipt No: {spec.doc_number}", align="left", rtl=False)
    put(f"Date: {spec.issued:%d/%m/%Y}", align="left", rtl=False)
    canvas.rule()
    for line in spec.lines:
        put(f"{line.quantity} x {line.description}", align="left", rtl=False, advance=False)
        put(f"{money(line.amount)}", x=820, align="right", rtl=False)
    canvas.rule()
    put("Subtotal", align="left", rtl=False, advance=False)
    put(f"${money(spec.net)}", x=820, align="right", rtl=False)
    put(f"Tax {spec.vat_rate * 100:.0f}%", align="left", rtl=False, advance=False)
    put(f"${money(spec.vat)}", x=820, align="right", rtl=False)
    put("TOTAL", size=36, bold=True, align="left", rtl=False, advance=False)
    put(f"${money(spec.total)}", size=36, bold=True, x=820, align="right", rtl=False)
    canvas.y += 20
    put("Thank you for your business!", align="left", rtl=False)
    return canvas.image


def card_slip(*, amount: str = "154.90", seed: int = 3) -> Image.Image:
    rng = random.Random(seed)
    canvas = Canvas(height=1100, width=700)
    for text in (
        "סופר השכונה",
        "מסוף: 0012345",
        "כרטיס אשראי ויזה",
        f"**** {rng.randint(1000, 9999)}",
        "עסקה רגילה",
        f"סכום: {amount} ₪",
        "עסקה אושרה",
        f"מספר שובר: {rng.randint(100, 999)}",
        "05/03/2026 12:41",
        "העתק ללקוח",
    ):
        canvas.text(text, size=34)
    return canvas.image


def blank_page(*, width: int = 1240, height: int = 1754, shade: int = 250) -> Image.Image:
    rng = np.random.default_rng(0)
    noise = rng.normal(shade, 1.5, (height, width)).clip(0, 255).astype(np.uint8)
    return Image.fromarray(noise).convert("RGB")


def photo(
    image: Image.Image,
    *,
    rotate: float = 0.0,
    blur: float = 0.0,
    scale: float = 1.0,
    jpeg_quality: int | None = 85,
    uneven_light: bool = False,
    dark: float = 1.0,
    noise: float = 0.0,
    perspective: float = 0.0,
) -> bytes:
    """A phone-like picture of `image`: turned, tilted, blurred, shaded, JPEG-compressed."""
    out = image.convert("RGB")
    if scale != 1.0:
        out = out.resize(
            (int(out.width * scale), int(out.height * scale)), Image.Resampling.LANCZOS
        )
    if perspective:
        w, h = out.size
        shift = perspective * w
        coeffs = _perspective_coeffs(
            [(0, 0), (w, 0), (w, h), (0, h)],
            [(shift, 0), (w - shift, 0), (w, h), (0, h)],
        )
        out = out.transform(
            out.size,
            Image.Transform.PERSPECTIVE,
            coeffs,
            Image.Resampling.BICUBIC,
            fillcolor=(255, 255, 255),
        )
    if rotate:
        out = out.rotate(
            rotate, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=(235, 235, 235)
        )
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    pixels = np.asarray(out).astype(np.float32)
    if uneven_light:
        h, w = pixels.shape[:2]
        across, down = np.linspace(1.0, 0.55, w), np.linspace(1.0, 0.8, h)
        gradient = across[None, :, None] * down[:, None, None]
        pixels = pixels * gradient
    if dark != 1.0:
        pixels = pixels * dark
    if noise:
        pixels = pixels + np.random.default_rng(1).normal(0, noise, pixels.shape)
    out = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    if jpeg_quality:
        out.save(buffer, "JPEG", quality=jpeg_quality)
    else:
        out.save(buffer, "PNG")
    return buffer.getvalue()


def _perspective_coeffs(
    source: list[tuple[float, float]], target: list[tuple[float, float]]
) -> list[float]:
    rows = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    matrix = np.array(rows, dtype=np.float64)
    vector = np.array([c for point in source for c in point], dtype=np.float64)
    return list(np.linalg.solve(matrix, vector))


def side_by_side(
    *images: Image.Image,
    gap: int = 80,
    margin: int = 40,
    table: tuple[int, int, int] = (200, 200, 200),
    stagger: int = 0,
) -> Image.Image:
    """Several documents lying next to each other on a table, as one photo would hold them;
    `stagger` shifts every second one down."""
    width = sum(i.width for i in images) + gap * (len(images) - 1) + 2 * margin
    height = max(i.height for i in images) + 2 * margin + stagger
    out = Image.new("RGB", (width, height), table)
    x = margin
    for number, image in enumerate(images):
        out.paste(image.convert("RGB"), (x, margin + (stagger if number % 2 else 0)))
        x += image.width + gap
    return out


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def image_pdf(image: Image.Image) -> bytes:
    """A scanned-style PDF: the page is a picture, no text layer."""
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=150)
    return buffer.getvalue()


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a real text layer (Helvetica, so Latin text only)."""
    stream_lines = ["BT", "/F1 14 Tf", "16 TL", "60 780 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream_lines.append(f"({escaped}) Tj T*")
    stream_lines.append("ET")
    return _pdf_objects(
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            _stream("\n".join(stream_lines).encode("latin-1")),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ]
    )


def encrypted_pdf() -> bytes:
    """A PDF locked with a user password nobody gave us."""
    garbage = "".join(f"{b:02x}" for b in random.Random(5).randbytes(32))
    return _pdf_objects(
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            f"<< /Filter /Standard /V 1 /R 2 /O <{garbage}> /U <{garbage}> /P -44 >>",
        ],
        trailer_extra=f"/Encrypt 4 0 R /ID [<{garbage[:32]}> <{garbage[:32]}>]",
    )


def broken_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\n%% truncated in transit"


def _stream(data: bytes) -> str:
    packed = zlib.compress(data)
    return (
        f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n"
        + packed.decode("latin-1")
        + "\nendstream"
    )


def _pdf_objects(objects: list[str], trailer_extra: str = "") -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer_extra} >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode("latin-1")
    return bytes(out)


def on_table(
    image: Image.Image,
    *,
    table: tuple[int, int, int] = (35, 30, 30),
    corners: tuple[tuple[float, float], ...] = (
        (0.12, 0.08),
        (0.86, 0.12),
        (0.9, 0.93),
        (0.08, 0.88),
    ),
    side: int = 1280,
    texture: float = 12.0,
    light: float = 0.75,
    seed: int = 4,
) -> tuple[Image.Image, list[tuple[float, float]]]:
    """A phone photo of `image` lying on a table: the page's corners go to `corners` (shares
    of a 3:4 frame `side` pixels tall, clockwise from top-left), on a noisy `table` colour,
    lit unevenly. Returns the photo and the page's corners in its pixels."""
    import cv2

    height, width = side, side * 3 // 4
    rng = np.random.default_rng(seed)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 2)
    surface = np.array(table, np.float32)[None, None, :] + (grain * texture)[..., None]
    target = np.array([(x * width, y * height) for x, y in corners], np.float32)
    page = np.asarray(image.convert("RGB")).astype(np.float32)
    source = np.array(
        [[0, 0], [page.shape[1], 0], [page.shape[1], page.shape[0]], [0, page.shape[0]]],
        np.float32,
    )
    matrix = cv2.getPerspectiveTransform(source, target)
    warped = cv2.warpPerspective(page, matrix, (width, height), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones(page.shape[:2], np.float32), matrix, (width, height))
    photo = warped * mask[..., None] + surface * (1 - mask[..., None])
    photo = photo * np.linspace(1.0, light, width, dtype=np.float32)[None, :, None]
    out = Image.fromarray(photo.clip(0, 255).astype(np.uint8))
    return out, [tuple(map(float, p)) for p in target]


def jpeg_bytes(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
