"""Several receipts in one picture: separate columns of text, each a document of its own.

Conservative on purpose: asking a client to photograph again costs more than a missed case,
so the picture must split into a left and a right part that no printed line crosses, both
parts must be long (many lines, side by side over most of their height), and each must
carry its own total label with an amount. A single receipt's labels and amounts also form
columns, but its amounts column has no total label and its heading crosses the gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.reading import labels as L
from core.reading.amounts import find_amounts
from core.reading.layout import Layout, Segment

_ALNUM = re.compile(r"[0-9A-Za-z\u0590-\u05FF]")
_LETTER = re.compile(r"[A-Za-z\u0590-\u05FF]")


@dataclass(frozen=True)
class SeveralLimits:
    min_segments: int = 6  # per part
    min_letters: int = 40  # per part
    min_gap_lines: float = 1.5  # the gutter's width in line heights
    min_side_overlap: float = 0.6  # vertical overlap of the parts over the shorter one
    max_crossing: int = 1  # stray OCR noise (a table edge read as a letter) may cross


def _meaningful(seg: Segment) -> bool:
    return len(_ALNUM.findall(seg.text)) >= 2


def _has_total(part: list[Segment]) -> bool:
    """A total label and an amount on this side of the gutter (the amount may sit on its
    own segment beside the label)."""
    labelled = [s for s in part if L.label_strength(s.text, L.TOTAL_LABELS, L.NOT_TOTAL)[0]]
    if not labelled:
        return False
    for label in labelled:
        height = label.bottom - label.top
        for seg in part:
            same_row = min(seg.bottom, label.bottom) - max(seg.top, label.top) > 0.5 * min(
                height, seg.bottom - seg.top
            )
            if (seg is label or same_row) and find_amounts(seg.text, decimals_only=True):
                return True
    return False


def _long_enough(part: list[Segment], limits: SeveralLimits) -> bool:
    letters = sum(len(_LETTER.findall(s.text)) for s in part)
    return len(part) >= limits.min_segments and letters >= limits.min_letters


def find_split(layout: Layout, limits: SeveralLimits | None = None) -> int | None:
    """The x of a gutter that splits the page into two documents side by side, or None."""
    limits = limits or SeveralLimits()
    if not layout.has_boxes:
        return None
    segments = [s for s in layout.segments if _meaningful(s) and s.top < 10_000]  # page 1
    if len(segments) < 2 * limits.min_segments:
        return None
    min_gap = limits.min_gap_lines * layout.line_height
    # Candidate gutters: the free space right of a segment, up to the next left edge.
    for seg in sorted(segments, key=lambda s: s.right):
        x = seg.right
        left = [s for s in segments if s.right <= x]
        right_edge = min((s.left for s in segments if s.left > x), default=None)
        if right_edge is None or right_edge - x < min_gap:
            continue
        middle = x + (right_edge - x) / 2
        crossing = [s for s in segments if s.left < middle < s.right]
        if len(crossing) > limits.max_crossing:
            continue
        right = [s for s in segments if s.left >= right_edge]
        if not (_long_enough(left, limits) and _long_enough(right, limits)):
            continue
        top_l, bottom_l = min(s.top for s in left), max(s.bottom for s in left)
        top_r, bottom_r = min(s.top for s in right), max(s.bottom for s in right)
        overlap = min(bottom_l, bottom_r) - max(top_l, top_r)
        shorter = min(bottom_l - top_l, bottom_r - top_r)
        if shorter <= 0 or overlap < limits.min_side_overlap * shorter:
            continue
        if _has_total(left) and _has_total(right):
            return int(middle)
    return None
