from __future__ import annotations

import pytest

from handlers.texts import RLM, Texts, catalog, languages, placeholders


def test_hebrew_and_english_are_shipped() -> None:
    assert languages() == ["en", "he"]


@pytest.mark.parametrize("language", ["en"])
def test_every_locale_has_the_same_keys_and_placeholders_as_hebrew(language: str) -> None:
    hebrew, other = catalog("he"), catalog(language)
    assert set(other) == set(hebrew)
    for key, template in hebrew.items():
        assert placeholders(other[key]) == placeholders(template), key


def test_hebrew_lines_that_start_with_a_digit_get_a_direction_mark() -> None:
    text = Texts("he")("status.line", state="x", count=3)
    assert text.startswith(RLM)
    assert not Texts("he")("intake.received", id=1, org="א").startswith(RLM)


def test_unknown_language_falls_back_to_hebrew() -> None:
    assert Texts("fr").language == "he"
