"""Reading receipts and invoices: file bytes in, fields with confidences out.

`read_document` is synchronous and CPU bound; the worker runs it in a process pool. It is
imported lazily: the bot process handles results but never runs the pipeline, and the
imaging libraries behind it cost about 30 MB of memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.reading.ports import OcrEngine, OcrText, OcrWord
from core.reading.result import FieldReading, Reading

if TYPE_CHECKING:
    from core.reading.reader import read_document

__all__ = ["FieldReading", "OcrEngine", "OcrText", "OcrWord", "Reading", "read_document"]


def __getattr__(name: str) -> Any:
    if name == "read_document":
        from core.reading.reader import read_document

        return read_document
    raise AttributeError(name)
