"""Money amounts as printed: 1,234.50 / 1.234,50 / 1 234,50 / -12.00 / (12.00)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Grouped thousands or plain digits, then a 2-digit decimal part; a sign may precede or follow.
AMOUNT_RE = re.compile(
    r"(?<![\d.,/:])(?P<sign>-\s?)?"
    r"(?P<num>\d{1,3}[.,]\d{5}|\d{1,3}(?:[,.']\d{3})+(?:[.,]\d{2})?|\d+[.,]\d{2}|\d+)"
    r"(?P<trail>-)?(?![\d/:]|[.,]\d)"
)


@dataclass(frozen=True)
class Amount:
    value: Decimal
    start: int
    end: int
    has_decimals: bool


def parse_amount(text: str) -> Decimal | None:
    """'1,234.50' -> 1234.50; '1.234,50' -> 1234.50; '-12' -> -12.00; None if not one amount."""
    text = text.strip().replace("₪", "").replace("$", "").replace("€", "").strip()
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text.startswith("-") or text.endswith("-"):
        negative, text = True, text.strip("-").strip()
    match = AMOUNT_RE.fullmatch(text)
    if not match:
        return None
    value = _to_decimal(match.group("num"))
    if value is None:
        return None
    return -value if negative else value


# Photos: "6,480.00" read as "6.48000", the comma taken for the point and the point lost.
# Money has two decimals, never five: the last two digits are the cents.
_POINT_LOST = re.compile(r"\d{1,3}[.,]\d{5}")


def _has_decimals(num: str) -> bool:
    return (len(num) > 3 and num[-3] in ".,") or bool(_POINT_LOST.fullmatch(num))


def _to_decimal(num: str) -> Decimal | None:
    if _POINT_LOST.fullmatch(num):
        return Decimal(f"{num[:-6]}{num[-5:-2]}.{num[-2:]}")
    decimals = ""
    if len(num) > 3 and num[-3] in ".,":
        # The last separator before two digits is the decimal point, whatever the locale.
        num, decimals = num[:-3], num[-2:]
    digits = re.sub(r"[,.']", "", num)
    if not digits.isdigit():
        return None
    try:
        return Decimal(f"{digits}.{decimals or '00'}")
    except InvalidOperation:
        return None


# A minus before the currency: "Rounding: -RM0.02", "-$5.00".
_SIGN_BEFORE_CURRENCY = re.compile(r"(?<![\w.,])-\s?(?:RM|\$|€|£|₪|USD|EUR|NIS)\s?$", re.I)
# Receipt print OCR'd with the decimal point lost, spaced or read as a hyphen: "RM8 60",
# "6 00", "20. 40", "110-00". Never "10-15-20" nor a date's "28-02-2016": nothing joins on.
_DECIMAL_GAP = re.compile(r"(?<![\d.,-])(\d{1,5})(?:\s?([.,])\s|\s|-)(\d{2})(?![\d.,%]|-\d)")


def close_decimal_gaps(text: str) -> str:
    """'Total RM8 60' -> 'Total RM8.60 ', keeping every other character where it was."""

    def closed(match: re.Match[str]) -> str:
        joined = f"{match.group(1)}{match.group(2) or '.'}{match.group(3)}"
        return joined.ljust(len(match.group(0)))

    return _DECIMAL_GAP.sub(closed, text)


def find_amounts(text: str, *, decimals_only: bool = False) -> list[Amount]:
    found: list[Amount] = []
    for match in AMOUNT_RE.finditer(text):
        num = match.group("num")
        has_decimals = _has_decimals(num)
        if decimals_only and not has_decimals:
            continue
        value = _to_decimal(num)
        if value is None:
            continue
        signed = match.group("sign") or match.group("trail")
        if signed or _SIGN_BEFORE_CURRENCY.search(text[max(0, match.start() - 6) : match.start()]):
            value = -value
        found.append(Amount(value, match.start(), match.end(), has_decimals))
    return found


def format_amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"
