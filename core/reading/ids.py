"""Israeli business and personal numbers: 9 digits with a Luhn-style check digit."""

from __future__ import annotations

import re

from stdnum.il import idnr

NINE_DIGITS = re.compile(r"(?<![\d/.,-])(\d[\d -]{7,10}\d)(?![\d/]|[.,]\d)")
# 03-1234567, 052-1234567: nine digits, not an id; also with its 0 misread ("99-9784331"):
# a business number printed with a dash splits as 51-234567-8, never as two and seven.
PHONE = re.compile(r"0\d{1,2}-|\d{2,3}-\d{7}(?!\d)")
# A phone number whose dash was lost, its parts in either order (a right-to-left line puts
# the area code after the number: "4016479 04" for 04-4016479).
_SPLIT_PHONE = re.compile(r"0\d{1,2}\s\d{7}|\d{7}\s0\d{1,2}")


def is_valid_business_number(digits: str) -> bool:
    """Company numbers (51..., 58...) and a dealer's id number share the same check digit."""
    return len(digits) == 9 and digits.isdigit() and idnr.is_valid(digits)


def nine_digit_numbers(text: str) -> list[tuple[str, int]]:
    """Every 9-digit run (spaces or dashes inside allowed) with its position."""
    found: list[tuple[str, int]] = []
    for match in NINE_DIGITS.finditer(text):
        run = match.group(1)
        if PHONE.match(run) or _SPLIT_PHONE.fullmatch(run):
            continue
        digits = re.sub(r"\D", "", run)
        if len(digits) == 9:
            found.append((digits, match.start()))
            continue
        # A stray digit OCR read beside the number joins the run ("331031112 1" from
        # "331031112 ת.ז"): the space-separated parts that make nine digits on their own.
        parts = [(m.group(), m.start()) for m in re.finditer(r"[\d-]+", run)]
        nine = _nine_of_parts(parts)
        if nine is not None:
            found.append((nine[0], match.start() + nine[1]))
    return found


# The buyer's label "ת.ז/ח.פ" glued after the number, its first letter read as a digit: the
# Latin engine read 331031112 ת.ז/ח.פ as "3310311121.0/9.0".
_GLUED_ID_PAIR = re.compile(r"(?<![\d/.,-])(\d{9})\d[.,:]\S{0,2}\s?[/|]")


def nine_digit_numbers_glued(text: str) -> list[str]:
    """`nine_digit_numbers`, and the number of a run glued to an id label read as digits."""
    return [n for n, _ in nine_digit_numbers(text)] + _GLUED_ID_PAIR.findall(text)


def _nine_of_parts(parts: list[tuple[str, int]]) -> tuple[str, int] | None:
    """The first run of consecutive parts holding exactly nine digits, with its offset."""
    for first in range(len(parts)):
        digits = ""
        for part, _ in parts[first:]:
            digits += re.sub(r"\D", "", part)
            if len(digits) >= 9:
                break
        if len(digits) == 9:
            return digits, parts[first][1]
    return None


# Blur fills the hole of a small 0, and both Tesseract models then read it as 6, 8 or 9
# (allocation numbers 065645239 as 965645239 and 865645239, 300327505 as 300327565); the
# other way round was not seen on the benchmark's photos.
_FILLED_ZERO = frozenset("0689")


def zeros_restored(value: str, reads: list[str]) -> str:
    """`value` (nine digits read once) with a 6, 8 or 9 put back to 0 where another read of
    the same print saw a 0. Only reads that differ from `value` in such digits alone count:
    one differing anywhere else is a poorer read, not evidence."""
    like = [
        read
        for read in reads
        if len(read) == len(value)
        and all(a == b or {a, b} <= _FILLED_ZERO for a, b in zip(read, value, strict=True))
    ]
    return "".join(
        "0" if digit in _FILLED_ZERO and any(read[at] == "0" for read in like) else digit
        for at, digit in enumerate(value)
    )
