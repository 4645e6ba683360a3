"""The whole pipeline over one file."""

from __future__ import annotations

import time
from datetime import date

from core.domain import DocumentKind
from core.reading.pipeline import Context, ReadLimits, run_pipeline
from core.reading.ports import OcrEngine
from core.reading.result import FIELD_NAMES, FieldReading, Reading
from core.reading.steps import default_steps


def read_document(
    data: bytes,
    mime_type: str,
    *,
    engine: OcrEngine,
    today: date,
    latin_engine: OcrEngine | None = None,
    limits: ReadLimits | None = None,
    photo_engine: OcrEngine | None = None,
) -> Reading:
    """`latin_engine`, when given, reads the pages that are not Hebrew print instead of
    `engine`, which still tells the script and reads Hebrew pages."""
    started = time.perf_counter()
    ctx = run_pipeline(
        default_steps(),
        Context(
            data,
            mime_type.lower(),
            engine,
            today,
            latin_engine=latin_engine,
            photo_engine=photo_engine,
            limits=limits or ReadLimits(),
        ),
    )
    fields = {
        name: ctx.fields.get(name) or FieldReading(None, 0.0, "not read") for name in FIELD_NAMES
    }
    text = ctx.layout.text if ctx.layout else ""
    return Reading(
        kind=ctx.kind if ctx.fields else DocumentKind.UNKNOWN,
        kind_confidence=ctx.kind_confidence,
        fields=fields,
        problems=ctx.problems,
        text=text,
        pages=len(ctx.pages),
        pages_skipped=ctx.pages_skipped,
        seconds=round(time.perf_counter() - started, 3),
        steps=ctx.steps,
        picture_hash=ctx.picture_hash,
    )
