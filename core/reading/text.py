"""Text clean-up shared by the text layer and OCR paths."""

from __future__ import annotations

import re

# Invisible direction marks that PDF text layers and Tesseract put around RTL runs.
_BIDI_MARKS = dict.fromkeys(
    [0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
_QUOTES = str.maketrans({"״": '"', "“": '"', "”": '"', "„": '"', "׳": "'", "’": "'", "‘": "'"})


def strip_bidi(text: str) -> str:
    return text.translate(_BIDI_MARKS)


def normalise(text: str) -> str:
    """Direction marks out, Hebrew quotes (״ '') as ASCII, CRLF as LF, tabs as spaces."""
    text = strip_bidi(text).translate(_QUOTES)
    text = text.replace("''", '"').replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\t", " ").replace("\xa0", " ").replace("\u202f", " ")
    return re.sub(r"[ ]{2,}", "  ", text)


_HEBREW = re.compile(r"[\u0590-\u05FF]")
_LATIN = re.compile(r"[A-Za-z]")


def hebrew_share(text: str) -> float:
    """Share of letters that are Hebrew: tells a Hebrew document from a foreign one."""
    hebrew = len(_HEBREW.findall(text))
    latin = len(_LATIN.findall(text))
    return hebrew / (hebrew + latin) if hebrew + latin else 0.0


_FINAL_LETTERS = "ךםןףץ"
_LTR_RUN = re.compile(r"[0-9A-Za-z.,:/%@_+\-]*[0-9A-Za-z][0-9A-Za-z.,:/%@_+\-]*")
_MIRROR = str.maketrans("()[]{}<>", ")(][}{><")


def fix_visual_order(text: str) -> str:
    """Some PDF producers store Hebrew in visual order (reversed); put it back in logical order.

    A final letter (ך ם ן ף ץ) can only end a word, so finals at word starts give it away.
    """
    words = re.findall(r"[\u05D0-\u05EA]{2,}", text)
    starts = sum(1 for w in words if w[0] in _FINAL_LETTERS)
    ends = sum(1 for w in words if w[-1] in _FINAL_LETTERS)
    if starts <= ends or starts < 3:
        return text
    lines = []
    for line in text.split("\n"):
        flipped = line[::-1].translate(_MIRROR)
        lines.append(_LTR_RUN.sub(lambda m: m.group(0)[::-1], flipped))
    return "\n".join(lines)
