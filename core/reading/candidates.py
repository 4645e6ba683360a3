"""Finding values next to their labels: in the same segment, beside it, or under it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.reading.layout import Layout, Segment

T = TypeVar("T")

# A reader finds values in a piece of text: [(value, start, end)].
Reader = Callable[[str], list[tuple[T, int, int]]]
LabelFinder = Callable[[str], tuple[float, int]]


@dataclass
class Candidate(Generic[T]):
    value: T
    strength: float  # how strongly a label points at it, 0 when found without one
    ocr_conf: float  # weakest OCR word confidence of the value, 1.0 for a text layer
    where: str  # "same", "beside", "below", "anywhere"
    segment: Segment
    order: int  # position in the document, for "first one wins" rules


def ocr_factor(conf: float) -> float:
    """Tesseract word confidence folded into ours: full above 0.9, linear below."""
    return 1.0 if conf >= 0.9 else max(0.0, conf / 0.9)


def labelled(
    layout: Layout, label: LabelFinder, read: Reader[T], *, below_lines: float = 2.6
) -> Iterator[Candidate[T]]:
    """Values after a label in its segment, else in the segments beside it, else under it."""
    for index, seg in enumerate(layout.segments):
        strength, end = label(seg.text)
        if strength <= 0:
            continue
        found = [(v, s, e) for v, s, e in read(seg.text) if s >= end]
        if found:
            for value, start, stop in found:
                yield Candidate(value, strength, seg.conf(start, stop), "same", seg, index)
            continue
        for where, others, factor in (
            ("beside", layout.beside(seg)[:3], 0.95),
            ("below", layout.below(seg, max_lines=below_lines), 0.9),
        ):
            hits = [(other, v, s, e) for other in others for v, s, e in read(other.text)]
            if hits:
                other, value, start, stop = hits[0]
                order = layout.segments.index(other)
                yield Candidate(
                    value, strength * factor, other.conf(start, stop), where, other, order
                )
                break


def anywhere(layout: Layout, read: Reader[T]) -> Iterator[Candidate[T]]:
    for index, seg in enumerate(layout.segments):
        for value, start, stop in read(seg.text):
            yield Candidate(value, 0.0, seg.conf(start, stop), "anywhere", seg, index)


def regex_reader(pattern: re.Pattern[str], group: int = 0) -> Reader[str]:
    def read(text: str) -> list[tuple[str, int, int]]:
        return [(m.group(group), m.start(group), m.end(group)) for m in pattern.finditer(text)]

    return read
