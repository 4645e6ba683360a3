"""Dates as printed on receipts: 5/3/2026, 05.03.26, 2026-03-05, 3 March 2026, Mar 3, 2026."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan januar janvier januari janv stycznia styczeń",
        "february feb februar fevrier février februari fév fev lutego luty",
        "march mar märz maerz mars maart marca marzec mrt",
        "april apr avril kwietnia kwiecień avr",
        "may mai mei maja maj",
        "june jun juni juin czerwca czerwiec",
        "july jul juli juillet lipca lipiec juil",
        "august aug augustus août aout sierpnia sierpień",
        "september sep sept septembre września wrzesień",
        "october oct okt oktober octobre października październik",
        "november nov novembre listopada listopad",
        "december dec dez dezember décembre decembre grudnia grudzień",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

_MONTH_ALT = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

NUMERIC_RE = re.compile(
    r"(?<![\d.,/-])(\d{1,2})\s?([./-])\s?(\d{1,2})\s?\2\s?(\d{4}|\d{2})(?![\d]|[.,]\d)"
)
# OCR drops the second separator of receipt print now and then: "09- 06 2018".
SPACED_RE = re.compile(r"(?<![\d.,/-])(\d{1,2})\s?([./-])\s?(\d{1,2})\s(\d{4})(?![\d]|[.,]\d)")
# A date run into the time after it ("16-03-201812:07:10"): RapidOCR reads receipt print
# with the space between them lost. Four-digit years only, so the split is certain.
GLUED_TIME_RE = re.compile(
    r"(?<![\d.,/-])(\d{1,2})\s?([./-])\s?(\d{1,2})\s?\2\s?(\d{4})(?=[0-2]?\d:[0-5]\d)"
)
ISO_RE = re.compile(r"(?<![\d.,/-])(\d{4})([./-])(\d{1,2})\2(\d{1,2})(?![\d])")
DAY_MONTH_RE = re.compile(
    rf"(?<![\w])(\d{{1,2}})\.?\s*(?:de\s+)?({_MONTH_ALT})\.?,?\s*(\d{{4}}|'\d{{2}})(?!\d)",
    re.IGNORECASE,
)
MONTH_DAY_RE = re.compile(
    rf"(?<![\w])({_MONTH_ALT})\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(\d{{4}})(?!\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FoundDate:
    value: date
    start: int
    end: int
    ambiguous: bool  # day and month could be swapped (both <= 12 and different)


def _year(text: str) -> int:
    year = int(text.lstrip("'"))
    return year + 2000 if year < 100 else year


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str, *, month_first: bool = False) -> list[FoundDate]:
    """Every date in `text`; day-first unless `month_first` (US documents) or impossible."""
    found: list[FoundDate] = []
    numeric = list(NUMERIC_RE.finditer(text))
    for pattern in (SPACED_RE, GLUED_TIME_RE):
        numeric += [
            m
            for m in pattern.finditer(text)
            if not any(n.start() <= m.start() < n.end() for n in numeric)
        ]
    for match in numeric:
        a, b, year = int(match.group(1)), int(match.group(3)), _year(match.group(4))
        first, second = (b, a) if month_first else (a, b)
        value = _make(year, second, first) or _make(year, first, second)
        if value:
            ambiguous = a <= 12 and b <= 12 and a != b
            found.append(FoundDate(value, match.start(), match.end(), ambiguous))
    for match in ISO_RE.finditer(text):
        value = _make(int(match.group(1)), int(match.group(3)), int(match.group(4)))
        if value:
            found.append(FoundDate(value, match.start(), match.end(), False))
    for match in DAY_MONTH_RE.finditer(text):
        month = MONTHS[match.group(2).lower()]
        value = _make(_year(match.group(3)), month, int(match.group(1)))
        if value:
            found.append(FoundDate(value, match.start(), match.end(), False))
    for match in MONTH_DAY_RE.finditer(text):
        month = MONTHS[match.group(1).lower()]
        value = _make(int(match.group(3)), month, int(match.group(2)))
        if value:
            found.append(FoundDate(value, match.start(), match.end(), False))
    found.sort(key=lambda d: d.start)
    return found


# The Hebrew model drops a date's slashes on photos: "14052026", "0108/2026", "30/012026".
# Only trusted next to a date label (an 8-digit run elsewhere is a number), 20xx years.
GLUED_RE = re.compile(r"(?<![\d.,/-])(\d{2})([./-]?)(\d{2})([./-]?)(20\d{2})(?![\d]|[.,]\d)")


def find_glued_dates(text: str) -> list[FoundDate]:
    """Day-first dates with one or both separators lost; printed ones are not repeated."""
    found = []
    for match in GLUED_RE.finditer(text):
        if match.group(2) and match.group(4):
            continue  # printed with both: find_dates reads it
        value = _make(int(match.group(5)), int(match.group(3)), int(match.group(1)))
        if value:
            found.append(FoundDate(value, match.start(), match.end(), False))
    return found


def parse_date(text: str, *, month_first: bool = False) -> date | None:
    found = find_dates(text, month_first=month_first)
    return found[0].value if found else None
