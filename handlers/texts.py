"""User-facing texts, loaded from the locale files beside this module."""

from __future__ import annotations

import re
import string
import tomllib
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from core.deadlines.periods import Period

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "he"
RLM = "\u200f"


@cache
def catalog(language: str) -> dict[str, str]:
    with (LOCALES / f"{language}.toml").open("rb") as handle:
        return tomllib.load(handle)


def languages() -> list[str]:
    return list(_languages())


@cache
def _languages() -> tuple[str, ...]:
    # Every Texts asks; the locale files do not change while the process runs.
    return tuple(sorted(path.stem for path in LOCALES.glob("*.toml")))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Texts:
    """Texts in one person's language; Hebrew lines get a direction mark where needed."""

    def __init__(self, language: str = DEFAULT) -> None:
        self.language = language if language in _languages() else DEFAULT

    def __call__(self, key: str, **params: Any) -> str:
        template = catalog(self.language).get(key) or catalog(DEFAULT)[key]
        if self.language == "he":
            template = with_maqaf(template, params)
        text = template.format(**params)
        if self.language == "he":
            # A line starting with a digit or a Latin letter would flip to left-to-right.
            text = "\n".join(
                RLM + line if line and not _starts_hebrew(line) else line
                for line in text.split("\n")
            )
        return text

    def date(self, day: date | datetime | str | None) -> str:
        """The one way a date reaches a user: 26.09.2026 in Hebrew, 26 Sep 2026 in English."""
        return format_date(day, self.language)

    def period(self, period: Period | str) -> str:
        """The one way a reporting period or a month ("2026-10") reaches a user: 10/2026,
        09-10/2026 for a pair of months, 2026 for a year."""
        return format_period(period)

    def amount(
        self, value: Decimal | float | int | str | None, currency: str | None = "ILS"
    ) -> str:
        """The one way an amount reaches a user: ₪ 1,234.50 (the document's own currency)."""
        return format_amount(value, currency)


# A Hebrew prefix (ל, ב, מ, ה, ו, ש, כ, or two of them) glued to a placeholder at a word's start.
_PREFIXED = re.compile(r"(?<![\u0590-\u05ff])([ובכלמהש]{1,2})\{(\w+)\}")


def with_maqaf(template: str, params: dict[str, Any]) -> str:
    """ "ל{org}" becomes "ל-{org}" when the name starts with a non-Hebrew character.

    Hebrew glues prefixes to Hebrew words ("לפלאפל"), but a Latin name or a number takes a
    maqaf: "ל-Falafel Ltd", "ב-2026".
    """

    def fix(match: re.Match[str]) -> str:
        value = str(params.get(match.group(2), ""))
        if value and not _starts_hebrew(value[:1]):
            return f"{match.group(1)}-{{{match.group(2)}}}"
        return match.group(0)

    return _PREFIXED.sub(fix, template)


def number_of(document: Any) -> int:
    """The number a person sees: per organization, the database id only before it has one."""
    return int(getattr(document, "number", None) or document.id or 0)


CURRENCY_SIGNS = {"ILS": "₪", "USD": "$", "EUR": "€", "GBP": "£"}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(day: date | datetime | str | None, language: str = DEFAULT) -> str:
    if day is None or day == "":
        return ""
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    if language == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day:%d.%m.%Y}"


def format_period(period: Period | str) -> str:
    if isinstance(period, str):
        period = Period.parse(period)
    if (period.start.month, period.end.month) == (1, 12):
        return str(period.start.year)
    if period.start.month == period.end.month:
        return f"{period.start.month:02d}/{period.start.year}"
    return f"{period.start.month:02d}-{period.end.month:02d}/{period.start.year}"


def format_amount(value: Decimal | float | int | str | None, currency: str | None = "ILS") -> str:
    if value is None or value == "":
        return ""
    number = Decimal(str(value))
    code = (currency or "").upper()
    sign = CURRENCY_SIGNS.get(code, code)
    text = f"{number:,.2f}"
    return f"{sign} {text}" if sign else text


def _starts_hebrew(line: str) -> bool:
    for char in line:
        if "\u0590" <= char <= "\u05ff":
            return True
        if char.isalnum():
            return False
    return True
