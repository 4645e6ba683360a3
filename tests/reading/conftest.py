from __future__ import annotations

import shutil
from datetime import date

import pytest

from core.reading import Reading, read_document
from tests import receipt_factory as factory

TODAY = date(2026, 3, 20)


@pytest.fixture(scope="session")
def engine():  # type: ignore[no-untyped-def]
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed")
    from bot.ocr.tesseract import TesseractEngine

    return TesseractEngine()


@pytest.fixture(scope="session")
def read(engine):  # type: ignore[no-untyped-def]
    def read(data: bytes, mime: str = "image/png", today: date = TODAY) -> Reading:
        return read_document(data, mime, engine=engine, today=today)

    return read


@pytest.fixture(scope="session")
def hebrew_invoice() -> factory.ReceiptSpec:
    return factory.hebrew_invoice(seed=7)


@pytest.fixture(scope="session")
def hebrew_invoice_png(hebrew_invoice: factory.ReceiptSpec) -> bytes:
    return factory.png_bytes(factory.render(hebrew_invoice))
