"""parse_mode handling matches Telegram (plain text, UTF-16 entities, parse errors)."""

from __future__ import annotations

import pytest

from local_api.errors import ApiError
from local_api.formatting import format_text


def test_html() -> None:
    text, entities = format_text(
        '<b>סה"כ</b> 😀 <a href="https://x.co/?a=1&amp;b=2">קישור</a> &lt;5&gt;', "HTML", None
    )
    assert text == 'סה"כ 😀 קישור <5>'
    assert entities == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "text_link", "url": "https://x.co/?a=1&b=2", "offset": 8, "length": 5},
    ]  # the emoji counts as two UTF-16 units


def test_html_pre_with_language() -> None:
    _, entities = format_text(
        '<pre><code class="language-python">x = 1</code></pre>', "html", None
    )
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("a <br> b", 'Unsupported start tag "br" at byte offset 2'),
        ("<b>x", "Can't find end tag corresponding to start tag b"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_html_errors(markup: str, error: str) -> None:
    with pytest.raises(ApiError) as caught:
        format_text(markup, "HTML", None)
    assert caught.value.description == f"Bad Request: can't parse entities: {error}"


def test_markdown_v2() -> None:
    text, entities = format_text(
        "*מחיר* 5\\.00 _נטו_ __u__ ||s|| `c` [l](https://a.b/\\)x)", "MarkdownV2", None
    )
    assert text == "מחיר 5.00 נטו u s c l"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "spoiler",
        "code",
        "text_link",
    ]
    assert entities[-1]["url"] == "https://a.b/)x"


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("5.00", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("a - b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
    ],
)
def test_markdown_v2_errors(markup: str, error: str) -> None:
    with pytest.raises(ApiError) as caught:
        format_text(markup, "MarkdownV2", None)
    assert caught.value.description == f"Bad Request: can't parse entities: {error}"


def test_legacy_markdown() -> None:
    text, entities = format_text("*b* _i_ `c` [t](http://u)", "Markdown", None)
    assert text == "b i c t"
    assert [e["type"] for e in entities] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(ApiError, match="Can't find end of the entity starting at byte offset 0"):
        format_text("*open", "Markdown", None)


def test_plain_text_is_trimmed_and_gets_automatic_entities() -> None:
    text, entities = format_text("  /start@tayuk_test_bot ref #קבלה mail a@b.co  ", None, None)
    assert text == "/start@tayuk_test_bot ref #קבלה mail a@b.co"
    assert [e["type"] for e in entities] == ["bot_command", "hashtag", "email"]


def test_explicit_entities_win() -> None:
    entities = [{"type": "bold", "offset": 0, "length": 2}]
    text, found = format_text("<b>", "HTML", entities)
    assert text == "<b>" and found == entities
