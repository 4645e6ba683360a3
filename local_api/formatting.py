"""Message text as Telegram stores it: parse_mode markup → plain text + entities.

Follows tdlib's parsers closely enough that markup bugs a real Telegram would refuse
("can't parse entities: ...") fail here too. Offsets and lengths are in UTF-16 code units.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ApiError, bad_request

Entity = dict[str, Any]


def utf16_len(text: str) -> int:
    # Characters outside the BMP (most emoji) take two UTF-16 code units.
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _parse_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _Out:
    """Accumulates plain text while tracking the UTF-16 position."""

    __slots__ = ("parts", "pos")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def text(self) -> str:
        return "".join(self.parts)


# --- HTML --------------------------------------------------------------------------------

_SIMPLE_HTML = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_HTML_TAGS = {*_SIMPLE_HTML, "a", "span", "tg-emoji"}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")
_ATTR_RE = re.compile(
    r"\s*([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?"
)


def _decode_entity(match: re.Match[str]) -> str | None:
    body = match.group(1)
    if body.startswith("#"):
        code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
        return None
    return _NAMED.get(body)  # Telegram knows only these four named entities


def _unescape_attr(value: str) -> str:
    return _ENTITY_RE.sub(lambda m: _decode_entity(m) or m.group(0), value)


def parse_html(text: str) -> tuple[str, list[Entity]]:
    out = _Out()
    entities: list[Entity] = []
    # (tag name, entity or None for an <a> without href, start position)
    stack: list[tuple[str, Entity | None, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            match = _ENTITY_RE.match(text, i)
            decoded = _decode_entity(match) if match else None
            if match and decoded is not None:
                out.add(decoded)
                i = match.end()
            else:
                out.add("&")  # an unknown entity stays as written
                i += 1
            continue
        if ch != "<":
            j = i
            while j < n and text[j] not in "&<":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        begin = i
        if text.startswith("</", i):
            if not stack:
                raise _parse_error(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            j = i + 2
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 2 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise _parse_error(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            tag, entity, start = stack.pop()
            if end_name and end_name != tag:
                raise _parse_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            i = j + 1
            if entity is None or out.pos == start:
                continue
            if tag == "code" and "language" in entity and stack and stack[-1][0] == "pre":
                pre = stack[-1][1]
                if pre is not None:  # <pre><code class="language-x"> → pre with language
                    pre["language"] = entity["language"]
                continue
            if entity["type"] == "code":
                entity.pop("language", None)  # only pre entities carry a language
            entities.append({**entity, "offset": start, "length": out.pos - start})
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        tag = text[i + 1 : j].lower()
        if tag not in _HTML_TAGS:
            raise _parse_error(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs: dict[str, str] = {}
        while j < n and text[j] != ">":
            match = _ATTR_RE.match(text, j)
            if not match or match.end() == j:
                if text[j].isspace():
                    j += 1
                    continue
                raise _parse_error(
                    f"Expected equal sign in declaration of an attribute of the tag at "
                    f"byte offset {_byte_offset(text, begin)}"
                )
            value = match.group(2) or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            attrs[match.group(1).lower()] = _unescape_attr(value)
            j = match.end()
        if j >= n:
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        i = j + 1
        if tag == "a":
            href = attrs.get("href", "")
            entity = {"type": "text_link", "url": href} if href else None
        elif tag == "span":
            if attrs.get("class") != "tg-spoiler":
                raise _parse_error('Tag "span" must have class "tg-spoiler"')
            entity = {"type": "spoiler"}
        elif tag == "tg-emoji":
            if "emoji-id" not in attrs:
                raise _parse_error('Tag "tg-emoji" must have attribute "emoji-id"')
            entity = {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
        elif tag == "blockquote" and "expandable" in attrs:
            entity = {"type": "expandable_blockquote"}
        else:
            entity = {"type": _SIMPLE_HTML[tag]}
            css = attrs.get("class", "")
            if tag == "code" and css.startswith("language-"):
                entity["language"] = css[len("language-") :]
        stack.append((tag, entity, out.pos))
    if stack:
        raise _parse_error(f"Can't find end tag corresponding to start tag {stack[-1][0]}")
    return out.text(), entities


# --- MarkdownV2 ----------------------------------------------------------------------------

_V2_RESERVED = "_*[]()~`>#+-=|{}.!"
_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def _reserved(ch: str) -> ApiError:
    return _parse_error(
        f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
    )


def _pre_language(text: str, i: int) -> tuple[str | None, int]:
    """After an opening ```: an optional language word, then one skipped newline."""
    n = len(text)
    end = i
    while end < n and not text[end].isspace() and text[end] != "`":
        end += 1
    language = None
    if end != i and end < n and text[end] != "`":
        language, i = text[i:end], end
    if i < n and text[i] in "\r\n":
        i += 2 if i + 1 < n and text[i + 1] in "\r\n" and text[i + 1] != text[i] else 1
    return language, i


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    out = _Out()
    entities: list[Entity] = []
    # (type, start position, byte offset of the opening marker, extra fields, out index)
    stack: list[tuple[str, int, int, dict[str, Any], int]] = []
    quote_start: int | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == "\\" and nxt and 0 < ord(nxt) <= 126:
            out.add(nxt)
            i += 2
            continue
        top = stack[-1][0] if stack else None
        in_code = top in ("code", "pre")
        if ch == "\n" and quote_start is not None and not in_code and text[i + 1 : i + 2] != ">":
            if out.pos > quote_start:
                entities.append(
                    {"type": "blockquote", "offset": quote_start, "length": out.pos - quote_start}
                )
            quote_start = None
        if ch == ">" and not in_code and (i == 0 or text[i - 1] == "\n"):
            if quote_start is None:
                quote_start = out.pos
            i += 1
            continue
        reserved = "`" if in_code else _V2_RESERVED
        if ch not in reserved:
            out.add(ch)
            i += 1
            continue
        closing = False
        if top == "bold":
            closing = ch == "*"
        elif top == "italic":
            closing = ch == "_" and nxt != "_"
        elif top == "code":
            closing = ch == "`"
        elif top == "pre":
            closing = text.startswith("```", i)
        elif top in ("text_link", "custom_emoji"):
            closing = ch == "]"
        elif top == "underline":
            closing = ch == "_" and nxt == "_"
        elif top == "strikethrough":
            closing = ch == "~"
        elif top == "spoiler":
            closing = ch == "|" and nxt == "|"
        if not closing:
            begin = i
            extra: dict[str, Any] = {}
            if ch == "_" and nxt == "_":
                kind, i = "underline", i + 2
            elif ch == "_":
                kind, i = "italic", i + 1
            elif ch == "*":
                kind, i = "bold", i + 1
            elif ch == "~":
                kind, i = "strikethrough", i + 1
            elif ch == "|" and nxt == "|":
                kind, i = "spoiler", i + 2
            elif ch == "[":
                kind, i = "text_link", i + 1
            elif ch == "!" and nxt == "[":
                kind, i = "custom_emoji", i + 2
            elif ch == "`" and text.startswith("```", i):
                language, i = _pre_language(text, i + 3)
                kind = "pre"
                if language:
                    extra["language"] = language
            elif ch == "`":
                kind, i = "code", i + 1
            else:
                raise _reserved(ch)
            stack.append((kind, out.pos, _byte_offset(text, begin), extra, len(out.parts)))
            continue
        kind, start, _, extra, part_index = stack.pop()
        i += 1
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind == "pre":
            i += 2
        elif kind in ("text_link", "custom_emoji"):
            if i < n and text[i] == "(":
                i += 1
                url_begin = i
                url: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        url.append(text[i + 1])
                        i += 2
                        continue
                    url.append(text[i])
                    i += 1
                if i >= n:
                    raise _parse_error(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
                    )
                i += 1
                target = "".join(url)
            else:
                target = "".join(out.parts[part_index:])  # [text] alone: the text is the URL
            if kind == "custom_emoji":
                extra["custom_emoji_id"] = target.removeprefix("tg://emoji?id=")
            elif target:
                extra["url"] = target
            else:
                continue
        if out.pos > start:
            entities.append({"type": kind, "offset": start, "length": out.pos - start, **extra})
    if stack:
        kind, _, byte_offset, _, _ = stack[-1]
        raise _parse_error(
            f"Can't find end of {_V2_NAMES[kind]} entity at byte offset {byte_offset}"
        )
    if quote_start is not None and out.pos > quote_start:
        entities.append(
            {"type": "blockquote", "offset": quote_start, "length": out.pos - quote_start}
        )
    return out.text(), entities


# --- legacy Markdown -----------------------------------------------------------------------


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    out = _Out()
    entities: list[Entity] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.add(ch)
            i += 1
            continue
        begin = i
        end_char = "]" if ch == "[" else ch
        is_pre = False
        language = None
        i += 1
        if ch == "`" and text.startswith("``", i):
            is_pre = True
            language, i = _pre_language(text, i + 2)
        start = out.pos
        chunk_start = i
        while i < n and (text[i] != end_char or (is_pre and not text.startswith("``", i + 1))):
            i += 1
        if i >= n:
            raise _parse_error(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        inner = text[chunk_start:i]
        out.add(inner)
        i += 1
        entity: Entity | None = None
        if ch == "_":
            entity = {"type": "italic"}
        elif ch == "*":
            entity = {"type": "bold"}
        elif ch == "`":
            entity = {"type": "pre", "language": language} if is_pre else {"type": "code"}
            if is_pre:
                i += 2
                if not language:
                    entity.pop("language")
        else:
            url = inner
            if i < n and text[i] == "(":
                close = text.find(")", i)
                close = n if close < 0 else close
                url, i = text[i + 1 : close], close + 1
            entity = {"type": "text_link", "url": url} if url else None
        if entity is not None and out.pos > start:
            entities.append({**entity, "offset": start, "length": out.pos - start})
    return out.text(), entities


# --- automatic entities, trimming ------------------------------------------------------

_EMAIL = r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_COMMAND = r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])"
_AUTO_PATTERNS = [
    ("url", re.compile(r"(?<![\w@/])(?:https?://|tg://|www\.)[^\s<>\"]+")),
    ("email", re.compile(_EMAIL)),
    ("bot_command", re.compile(_COMMAND)),
    ("mention", re.compile(r"(?<![\w@.])@[A-Za-z0-9_]{4,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#(?!\d+\b)\w+")),
]
_NO_AUTO_INSIDE = {"code", "pre", "text_link", "text_mention", "custom_emoji", "url", "email"}


def _utf16_index(text: str) -> list[int]:
    """UTF-16 offset of every code point index (plus the end)."""
    offsets = [0] * (len(text) + 1)
    pos = 0
    for index, ch in enumerate(text):
        offsets[index] = pos
        pos += 2 if ord(ch) > 0xFFFF else 1
    offsets[len(text)] = pos
    return offsets


def find_auto_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Telegram detects URLs, e-mails, /commands, @mentions and #hashtags by itself."""
    if not any(c in text for c in "/@#.:"):
        return []
    offsets = _utf16_index(text)
    blocked = [
        (e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _NO_AUTO_INSIDE
    ]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            begin, end = match.start(), match.end()
            if kind == "url":
                while end > begin and text[end - 1] in ".,;:!?)'\"":
                    end -= 1
            start16, end16 = offsets[begin], offsets[end]
            spans = blocked + [(e["offset"], e["offset"] + e["length"]) for e in found]
            if any(start16 < stop and end16 > first for first, stop in spans):
                continue
            found.append({"type": kind, "offset": start16, "length": end16 - start16})
    return found


def _strip(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram trims leading and trailing whitespace; entities follow the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    out: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            out.append({**entity, "offset": start, "length": end - start})
    return stripped, out


def sort_entities(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def format_text(
    text: str, parse_mode: str | None, entities: list[Entity] | None, *, auto: bool = True
) -> tuple[str, list[Entity]]:
    """Apply parse_mode (or explicit entities), trim, and add automatic entities."""
    mode = (parse_mode or "").lower()
    if entities:
        plain, found = text, [dict(e) for e in entities]  # explicit entities win over parse_mode
    elif mode == "html":
        plain, found = parse_html(text)
    elif mode == "markdownv2":
        plain, found = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, found = parse_markdown(text)
    elif mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    else:
        plain, found = text, []
    plain, found = _strip(plain, found)
    if auto:
        found = found + find_auto_entities(plain, found)
    return plain, sort_entities(found)
