"""User-facing texts, loaded from the locale files beside this module."""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "he"
RLM = "\u200f"


@cache
def catalog(language: str) -> dict[str, str]:
    with (LOCALES / f"{language}.toml").open("rb") as handle:
        return tomllib.load(handle)


def languages() -> list[str]:
    return sorted(path.stem for path in LOCALES.glob("*.toml"))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Texts:
    """Texts in one person's language; Hebrew lines get a direction mark where needed."""

    def __init__(self, language: str = DEFAULT) -> None:
        self.language = language if language in languages() else DEFAULT

    def __call__(self, key: str, **params: Any) -> str:
        template = catalog(self.language).get(key) or catalog(DEFAULT)[key]
        text = template.format(**params)
        if self.language == "he":
            # A line starting with a digit or a Latin letter would flip to left-to-right.
            text = "\n".join(
                RLM + line if line and not _starts_hebrew(line) else line
                for line in text.split("\n")
            )
        return text


def _starts_hebrew(line: str) -> bool:
    for char in line:
        if "\u0590" <= char <= "\u05ff":
            return True
        if char.isalnum():
            return False
    return True
