"""Fixed-width fields and the Hebrew text encoding of the Israeli ledger formats."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CRLF = b"\r\n"
ENCODING = "iso8859_8"  # logical Hebrew; byte-compatible with windows-1255 for letters

# Characters the encoding lacks but that have a plain equivalent (geresh, gershayim, dashes,
# typographic quotes); bidi marks and the shekel sign carry nothing a ledger needs.
_PLAIN = str.maketrans(
    {
        "׳": "'",
        "״": '"',
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "־": "-",
        "\u00a0": " ",
        "\t": " ",
        "\r": " ",
        "\n": " ",
    }
)
_DROPPED = re.compile("[₪\u200e\u200f\u202a-\u202e\u2066-\u2069\u0591-\u05c7]")


@dataclass
class Encoder:
    """Normalises then encodes text; what it still cannot encode becomes '?' and is counted."""

    encoding: str = ENCODING
    replaced: dict[str, int] = field(default_factory=dict)
    # Names and account keys repeat across thousands of records; bounded, so memory is not.
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)

    def encode(self, text: str) -> bytes:
        found = self._cache.get(text)
        if found is None:
            found = self._encode(text)
            if len(self._cache) < 4096:
                self._cache[text] = found
        return found

    def _encode(self, text: str) -> bytes:
        text = _DROPPED.sub("", text.translate(_PLAIN))
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError:
            pass
        out = bytearray()
        for char in text:
            try:
                out += char.encode(self.encoding)
                continue
            except UnicodeEncodeError:
                pass
            # é -> e: the letter without its accent still says what was written.
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            try:
                out += base.encode(self.encoding) if base else b"?"
                if not base:
                    self.replaced[char] = self.replaced.get(char, 0) + 1
            except UnicodeEncodeError:
                out += b"?"
                self.replaced[char] = self.replaced.get(char, 0) + 1
        return bytes(out)


def text(encoder: Encoder, value: str | None, width: int) -> bytes:
    """Alphanumeric: left-aligned, space-filled, cut to the width (whole characters)."""
    if not value:
        return b" " * width
    return encoder.encode(value)[:width].ljust(width, b" ")


def number(value: int | str | None, width: int) -> bytes:
    """Numeric: right-aligned, zero-filled; digits only."""
    if isinstance(value, int) and value >= 0:  # the common case, without str() and re
        return (b"%d" % value)[-width:].rjust(width, b"0")
    if isinstance(value, int):
        digits = str(abs(value))[-width:]
    else:
        digits = re.sub(r"\D", "", value or "")[-width:]
    return digits.rjust(width, "0").encode("ascii")


def cents(value: Decimal) -> int:
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amount(value: Decimal, digits: int) -> bytes:
    """Sign and `digits` digits with two implied decimals: -12345.65 -> b'-1234565'."""
    whole = cents(value)
    sign = "-" if whole < 0 else "+"
    body = str(abs(whole))
    if len(body) > digits:
        raise ValueError(f"{value} does not fit {digits} digits")
    return (sign + body.rjust(digits, "0")).encode("ascii")


def shekels(value: Decimal, digits: int, *, signed: bool) -> bytes:
    """Whole shekels (PCN874): rounded half up, with a sign if asked."""
    whole = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    body = str(abs(whole))
    if len(body) > digits:
        raise ValueError(f"{value} does not fit {digits} digits")
    body = body.rjust(digits, "0")
    if signed:
        body = ("-" if whole < 0 else "+") + body
    return body.encode("ascii")


def record(*parts: bytes, length: int) -> bytes:
    line = b"".join(parts)
    if len(line) != length:
        raise AssertionError(f"record {line[:4]!r} is {len(line)} long, not {length}")
    return line + CRLF
