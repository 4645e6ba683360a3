"""Lines split into segments at wide gaps, so a label and its value can be found by position.

OCR pages carry word boxes; text-layer pages do not, and there "below" means "the next line".
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from statistics import median

from core.reading.ports import OcrText, OcrWord
from core.reading.text import normalise

_HEBREW = re.compile(r"[\u0590-\u05FF]")


@dataclass
class Segment:
    text: str
    line: int
    left: int = 0
    top: int = 0
    right: int = 0
    bottom: int = 0
    # (start, end, confidence 0..1) of every word inside `text`
    spans: list[tuple[int, int, float]] = field(default_factory=list)

    def conf(self, start: int = 0, end: int | None = None) -> float:
        """Weakest word confidence over text[start:end]; 1.0 for a text layer."""
        end = len(self.text) if end is None else end
        inside = [c for s, e, c in self.spans if s < end and e > start]
        return min(inside) if inside else 1.0


@dataclass
class Layout:
    segments: list[Segment]
    has_boxes: bool
    line_height: float = 20.0

    @property
    def text(self) -> str:
        lines: list[str] = []
        last = -1
        for seg in self.segments:
            if seg.line != last:
                lines.append(seg.text)
                last = seg.line
            else:
                lines[-1] += "  " + seg.text
        return "\n".join(lines)

    def lines(self) -> list[list[Segment]]:
        grouped: dict[int, list[Segment]] = {}
        for seg in self.segments:
            grouped.setdefault(seg.line, []).append(seg)
        return [grouped[key] for key in sorted(grouped)]

    def below(self, seg: Segment, *, max_lines: float = 2.6) -> list[Segment]:
        """Segments under `seg` (overlapping horizontally), nearest first."""
        if not self.has_boxes:
            # Text layers put a label's value on the next line; further down is a guess.
            lines = 1 if max_lines < 3 else 2
            return [s for s in self.segments if seg.line < s.line <= seg.line + lines]
        reach = seg.bottom + max_lines * self.line_height
        found = [
            s
            for s in self.segments
            if s is not seg
            and s.top >= seg.top + 0.5 * (seg.bottom - seg.top)
            and s.top <= reach
            and min(s.right, seg.right) - max(s.left, seg.left) > 0
        ]
        return sorted(found, key=lambda s: s.top)

    def beside(self, seg: Segment) -> list[Segment]:
        """Segments on the same row after `seg` in reading order, nearest first.

        With boxes the row is found by vertical overlap, because Tesseract often puts a
        label and its amount in different blocks; Hebrew labels read leftwards.
        """
        if not self.has_boxes:
            same = [s for s in self.segments if s.line == seg.line]
            return same[same.index(seg) + 1 :]
        rtl = bool(_HEBREW.search(seg.text))
        height = seg.bottom - seg.top
        row = [
            s
            for s in self.segments
            if s is not seg
            and min(s.bottom, seg.bottom) - max(s.top, seg.top)
            > 0.5 * min(height, s.bottom - s.top)
            and (s.right <= seg.left + 5 if rtl else s.left >= seg.right - 5)
        ]
        return sorted(row, key=lambda s: seg.left - s.right if rtl else s.left - seg.right)


def from_text(text: str) -> Layout:
    segments = [
        Segment(line.strip(), number)
        for number, line in enumerate(normalise(text).split("\n"))
        if line.strip()
    ]
    return Layout(segments, has_boxes=False)


def from_ocr(ocr: OcrText, *, line_offset: int = 0) -> Layout:
    words = [w for w in ocr.words if normalise(w.text).strip()]
    if not words:
        return Layout([], has_boxes=True)
    height = median(w.height for w in words)
    lines: list[list[OcrWord]] = []
    for word in words:
        if lines and lines[-1][0].line_key == word.line_key:
            lines[-1].append(word)
        else:
            lines.append([word])
    segments: list[Segment] = []
    for number, line in enumerate(lines, start=line_offset):
        group: list[OcrWord] = [line[0]]
        for prev, word in itertools.pairwise(line):
            gap = max(word.left - prev.right, prev.left - word.right)
            if gap > 2.2 * height:
                segments.append(_segment(group, number))
                group = []
            group.append(word)
        segments.append(_segment(group, number))
    return Layout(segments, has_boxes=True, line_height=float(height) * 1.6)


_LATIN_WORD = re.compile(r"[A-Za-z]")


def _latin_runs_left_to_right(line: list[OcrWord]) -> list[OcrWord]:
    """In a right-to-left line Tesseract may give a run of Latin words right to left too
    ("Ltd Falafel בע"מ"): put each run of Latin words back in left-to-right order."""
    if not any(_HEBREW.search(w.text) for w in line):
        return line
    out: list[OcrWord] = []
    run: list[OcrWord] = []
    for word in [*line, None]:
        if word is not None and _LATIN_WORD.search(word.text) and not _HEBREW.search(word.text):
            run.append(word)
            continue
        out += sorted(run, key=lambda w: w.left)
        run = []
        if word is not None:
            out.append(word)
    return out


def _segment(words: list[OcrWord], line: int) -> Segment:
    words = _latin_runs_left_to_right(words)
    text = ""
    spans: list[tuple[int, int, float]] = []
    for word in words:
        piece = re.sub(r"\s+", " ", normalise(word.text).strip())
        if text:
            text += " "
        spans.append((len(text), len(text) + len(piece), max(0.0, word.conf) / 100))
        text += piece
    return Segment(
        text,
        line,
        left=min(w.left for w in words),
        top=min(w.top for w in words),
        right=max(w.right for w in words),
        bottom=max(w.bottom for w in words),
        spans=spans,
    )


def merge(layouts: list[Layout]) -> Layout:
    """Pages one after another; line numbers stay increasing across pages."""
    segments: list[Segment] = []
    offset = 0
    for layout in layouts:
        top_shift = offset * 10_000
        for seg in layout.segments:
            segments.append(
                Segment(
                    seg.text,
                    seg.line + offset,
                    seg.left,
                    seg.top + top_shift,
                    seg.right,
                    seg.bottom + top_shift,
                    seg.spans,
                )
            )
        offset += (max((s.line for s in layout.segments), default=0)) + 1
    has_boxes = any(layout.has_boxes for layout in layouts)
    heights = [layout.line_height for layout in layouts if layout.has_boxes]
    return Layout(segments, has_boxes, heights[0] if heights else 20.0)
