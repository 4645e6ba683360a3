"""Israeli business and personal numbers: 9 digits with a Luhn-style check digit."""

from __future__ import annotations

import re

from stdnum.il import idnr

NINE_DIGITS = re.compile(r"(?<![\d/.,-])(\d[\d -]{7,10}\d)(?![\d/]|[.,]\d)")
PHONE = re.compile(r"0\d{1,2}-")  # 03-1234567, 052-1234567: nine digits, not an id


def is_valid_business_number(digits: str) -> bool:
    """Company numbers (51..., 58...) and a dealer's id number share the same check digit."""
    return len(digits) == 9 and digits.isdigit() and idnr.is_valid(digits)


def nine_digit_numbers(text: str) -> list[tuple[str, int]]:
    """Every 9-digit run (spaces or dashes inside allowed) with its position."""
    found: list[tuple[str, int]] = []
    for match in NINE_DIGITS.finditer(text):
        digits = re.sub(r"\D", "", match.group(1))
        if len(digits) == 9 and not PHONE.match(match.group(1)):
            found.append((digits, match.start()))
    return found
