"""Smart filing (issue 17): what a reading leaves for the duplicate finder and the category
model (which documents are "ready" to file in one tap: `core.ready`)."""

from __future__ import annotations

import re
from typing import Any

from core.duplicates import PICTURE_HASH
from core.reading.result import Reading

WORDS = "_words"  # in Document.fields: the document's distinct words, for the category model
MAX_WORDS = 80
_WORD = re.compile(r"[^\W\d_]{2,}")


def words_of(text: str) -> str:
    """Distinct words (letters only, Hebrew or Latin), in order of first appearance."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.casefold()):
        seen.setdefault(word[:30], None)
        if len(seen) >= MAX_WORDS:
            break
    return " ".join(seen)


def reading_marks(reading: Reading) -> dict[str, Any]:
    marks: dict[str, Any] = {WORDS: words_of(reading.text)}
    if reading.picture_hash:
        marks[PICTURE_HASH] = reading.picture_hash
    return marks
