"""Renders the demo's sample receipts (bot/demo/samples) with the project's receipt factory.

Run again after changing the factory: `.venv/bin/python -m tests.browser.make_demo_samples`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from core.domain import DocumentKind
from tests import receipt_factory as rf

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "demo" / "samples"


def main() -> None:
    SAMPLES.mkdir(parents=True, exist_ok=True)
    today = date(2026, 11, 2)
    hebrew = rf.hebrew_invoice(DocumentKind.TAX_INVOICE_RECEIPT, seed=7, issued=today)
    (SAMPLES / "receipt-he.jpg").write_bytes(
        rf.photo(rf.render(hebrew), scale=0.8, rotate=1.5, jpeg_quality=70)
    )
    english = rf.english_receipt(seed=4, issued=today)
    (SAMPLES / "receipt-en.jpg").write_bytes(
        rf.photo(rf.render(english), scale=0.9, jpeg_quality=70)
    )
    slip = rf.card_slip(amount="86.40")
    (SAMPLES / "invoice-he.pdf").write_bytes(
        rf.image_pdf(rf.render(rf.hebrew_invoice(seed=11, issued=today)).convert("L"))
    )
    (SAMPLES / "card-slip-he.jpg").write_bytes(rf.photo(slip, jpeg_quality=70))
    for path in sorted(SAMPLES.iterdir()):
        print(path.name, path.stat().st_size)


if __name__ == "__main__":
    main()
