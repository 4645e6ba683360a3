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


# A cheque writes its amount in words too ("שבעה אלף מאתיים חמישים שקלים חדשים"): a second
# reading of the same value, in print the Hebrew model reads well. Masculine, feminine and
# construct forms ("שלושת אלפים").
_UNITS = {
    **dict.fromkeys(("אחד", "אחת"), 1),
    **dict.fromkeys(("שניים", "שנים", "שתיים", "שתים", "שני", "שתי"), 2),
    **dict.fromkeys(("שלושה", "שלוש", "שלושת", "שלשה", "שלש"), 3),
    **dict.fromkeys(("ארבעה", "ארבע", "ארבעת"), 4),
    **dict.fromkeys(("חמישה", "חמש", "חמשה", "חמשת"), 5),
    **dict.fromkeys(("שישה", "שש", "ששה", "ששת"), 6),
    **dict.fromkeys(("שבעה", "שבע", "שבעת"), 7),
    **dict.fromkeys(("שמונה", "שמונת"), 8),
    **dict.fromkeys(("תשעה", "תשע", "תשעת"), 9),
}
_TEN = ("עשרה", "עשר", "עשרת")
_TENS = {
    "עשרים": 20,
    "שלושים": 30,
    "שלשים": 30,
    "ארבעים": 40,
    "חמישים": 50,
    "שישים": 60,
    "ששים": 60,
    "שבעים": 70,
    "שמונים": 80,
    "תשעים": 90,
}
_HUNDREDS = {"מאה": 100, "מאתיים": 200, "מאתים": 200}
_THOUSANDS = {"אלף": 1, "אלפים": 1}
_CURRENCY_WORDS = re.compile(r'^(?:שקלים|שקל|ש"ח|שח|₪)')
_OF = ("של",)  # "סך של": the label the words follow


def _number_word(word: str) -> str:
    """A word without the conjunction "ו" ("ושלוש") or a hyphen, when the rest is a number."""
    word = word.strip("-־,.")
    known = (*_UNITS, *_TEN, *_TENS, *_HUNDREDS, *_THOUSANDS, "אלפיים", "מאות")
    if word not in known and word.startswith("ו") and word[1:] in known:
        return word[1:]
    return word


def _words_value(words: list[str]) -> int | None:
    """Hebrew number words in order of size ("שניים אלף ארבע מאות" -> 2400); None when a
    word is not a number word or the order is not one a number is written in."""
    total, current, last_unit, below = 0, 0, 0, 10**7
    for word in words:
        if word in _THOUSANDS or word == "אלפיים":
            count = 2 if word == "אלפיים" else current or 1
            if total or (word == "אלפיים" and current):
                return None
            total, current, last_unit, below = count * 1000, 0, 0, 1000
        elif word == "מאות":
            if not 3 <= last_unit <= 9 or current != last_unit:
                return None
            current, last_unit, below = last_unit * 100, 0, 100
        elif word in _HUNDREDS:
            if current or below <= 100:
                return None
            current, below = _HUNDREDS[word], 100
        elif word in _TENS:
            if current % 100 or below <= 10:
                return None
            current, below = current + _TENS[word], 10
        elif word in _TEN:
            if last_unit and current % 10 == last_unit and below > 10:  # "שלושה עשר"
                current, last_unit, below = current + 10, 0, 1
            elif current % 100 == 0 and below > 10:
                current, below = current + 10, 1
            else:
                return None
        elif word in _UNITS:
            if current % 10 or below <= 1:
                return None
            current, last_unit = current + _UNITS[word], _UNITS[word]
        else:
            return None
    value = total + current
    return value or None


def amount_in_hebrew_words(text: str) -> Decimal | None:
    """The whole-shekel amount a line writes in words after "של" ("סך של ...") and before
    "שקלים"; None unless every word between the two is a number word."""
    for line in text.splitlines():
        words = line.split()
        for at, word in enumerate(words):
            if not _CURRENCY_WORDS.match(word):
                continue
            start = next((i + 1 for i in range(at - 1, -1, -1) if words[i] in _OF), None)
            if start is None or start == at:
                continue
            value = _words_value([_number_word(w) for w in words[start:at]])
            if value is not None:
                return Decimal(value).quantize(Decimal("0.01"))
    return None
