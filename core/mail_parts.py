"""One e-mail's documents: its attachments, ZIP members, or its HTML body as a receipt.

Everything here is bounded, because anyone can send mail: the header block, the number of
MIME parts, the number of documents, ZIP members, their sizes, compression ratios and
nesting. Pictures that belong to the mail itself (logos, signatures, tracking pixels) are
not documents.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser

from PIL import Image

from core.files import MAX_FILE_BYTES, sniff

MAX_HEADER_BYTES = 256 * 1024  # the whole header block
MAX_MIME_PARTS = 200  # walked at all; the rest of a longer message is not even parsed
MAX_DOCUMENTS = 50  # from one mail, attachments and ZIP members together
MAX_DEPTH = 3  # a forwarded mail inside a forwarded mail inside ...
ZIP_MAX_MEMBERS = 50
ZIP_MAX_TOTAL = 100 * 1024 * 1024
ZIP_MAX_RATIO = 100  # a member that inflates more than this is a bomb
ZIP_MAX_NESTING = 1  # a ZIP inside a ZIP is opened; one deeper is refused
MIN_PICTURE_SIDE = 200  # pixels; smaller pictures are icons, signatures, pixels
MAX_NAME = 120

DOCUMENT_TYPES = frozenset(
    {"application/pdf", "image/jpeg", "image/png", "image/tiff", "image/heic", "image/webp"}
)
_HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


@dataclass(frozen=True)
class MailPart:
    """A would-be document; `refused` holds the locale key when it cannot be one."""

    name: str | None
    mime_type: str
    data: bytes = b""
    refused: str | None = None


@dataclass
class ParsedMail:
    sender: str | None
    subject: str
    message_id: str | None
    parts: list[MailPart] = field(default_factory=list)
    problem: str | None = None  # a locale key: the mail as a whole could not be read
    html_receipt: bool = False
    # The Message-IDs it answers (In-Reply-To, then References): how a reply finds a return.
    replies_to: list[str] = field(default_factory=list)
    # What the sender wrote above any quoted message: a text answer to a return.
    text: str = ""


def clean_name(raw: str | None) -> str | None:
    """A file name safe to keep and show: no path, no control or direction characters."""
    if not raw:
        return None
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '<>:"|?*')
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (
            (stem[: MAX_NAME - len(ext) - 1] + dot + ext)
            if dot and len(ext) <= 8
            else name[:MAX_NAME]
        )
    return name or None


def kind_of(data: bytes) -> str | None:
    """The content's type from its bytes: what we could file, a ZIP, or None."""
    if data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        return "image/heic"
    if data.startswith(b"PK\x03\x04"):
        return "application/zip"
    return sniff(data)


def _addresses(value: str | None) -> list[str]:
    return [a.lower() for _, a in getaddresses([value or ""]) if "@" in a]


class _Text(HTMLParser):
    """The visible text of an HTML body and the cid: pictures it shows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.cids: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        for name, value in attrs:
            if name in ("src", "background") and value and value.lower().startswith("cid:"):
                self.cids.add(value[4:].strip("<>"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1
        if tag in ("p", "div", "tr", "br", "li", "h1", "h2", "h3", "table"):
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"[ \t]+", " ", "".join(self.chunks)).strip()


def html_text(html: str) -> tuple[str, set[str]]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.text, parser.cids


# Words that make an HTML body a receipt rather than a covering note.
_RECEIPT_WORDS = re.compile(
    r"(קבלה|חשבונית|סה\"?כ|לתשלום|מע\"?מ|receipt|invoice|total|amount paid|order)", re.I
)
_MONEY = re.compile(r"(₪|\bils\b|\bnis\b|\$|€|£|\d[\d,]*\.\d{2})", re.I)


def looks_like_receipt(text: str) -> bool:
    return bool(_RECEIPT_WORDS.search(text) and _MONEY.search(text))


def _is_small_picture(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:
        return False
    return min(width, height) < MIN_PICTURE_SIDE


def _content_id(part: Message) -> str | None:
    value = part.get("Content-ID")
    return str(value).strip().strip("<>") if value else None


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


@dataclass
class _Walk:
    parts: list[MailPart] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    inline: dict[str, bytes] = field(default_factory=dict)  # cid -> bytes
    seen: int = 0
    too_many: int = 0

    def add(self, part: MailPart) -> None:
        if sum(1 for p in self.parts if p.refused is None) >= MAX_DOCUMENTS:
            self.too_many += 1
            return
        self.parts.append(part)


def parse_mail(
    raw: bytes, render: Callable[[str, dict[str, bytes]], bytes] | None = None
) -> ParsedMail:
    """The documents in a raw message; `render` turns an HTML receipt into a PDF."""
    header_end = raw.find(b"\r\n\r\n")
    if header_end < 0:
        header_end = raw.find(b"\n\n")
    if header_end > MAX_HEADER_BYTES or (header_end < 0 and len(raw) > MAX_HEADER_BYTES):
        return ParsedMail(None, "", None, problem="mail.headers_too_big")
    raw, cut = _bounded(raw)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    senders = _addresses(str(message.get("From") or ""))
    parsed = ParsedMail(
        sender=senders[0] if senders else None,
        subject=_one_line(str(message.get("Subject") or "")),
        message_id=str(message.get("Message-ID") or "")[:300] or None,
        replies_to=re.findall(
            r"<[^<>\s]{1,300}>",
            f"{message.get('In-Reply-To') or ''} {message.get('References') or ''}"[:4000],
        )[:20],
    )
    walk = _Walk(too_many=cut)
    _walk(message, walk, depth=0)
    cited: set[str] = set()
    texts: list[str] = []
    for html in walk.html:
        text, cids = html_text(html)
        cited |= cids
        texts.append(text)
    for cid in cited:
        walk.parts = [p for p in walk.parts if p.name != f"cid:{cid}"]
    # Inline pictures the HTML does not show are attachments after all (Apple Mail does this).
    walk.parts = [
        MailPart(
            clean_name(p.name[4:]) if p.name and p.name.startswith("cid:") else p.name,
            p.mime_type,
            p.data,
            p.refused,
        )
        for p in walk.parts
    ]
    if walk.too_many:
        walk.parts.append(MailPart(None, "", refused="mail.too_many_attachments"))
    has_documents = any(p.refused is None for p in walk.parts)
    if not has_documents and walk.html and render is not None:
        html = walk.html[0]
        if looks_like_receipt(texts[0]):
            images = {cid: walk.inline[cid] for cid in cited if cid in walk.inline}
            try:
                pdf = render(html, images)
            except Exception:
                walk.parts.append(
                    MailPart("receipt.pdf", "application/pdf", refused="mail.html_unreadable")
                )
            else:
                name = clean_name(f"{parsed.subject or 'receipt'}.pdf") or "receipt.pdf"
                walk.parts.append(MailPart(name, "application/pdf", pdf))
                parsed.html_receipt = True
    parsed.parts = walk.parts
    parsed.text = reply_text(walk.plain[0] if walk.plain else texts[0] if texts else "")
    return parsed


# Where a reply's own words end: the quoted message, or the line that introduces it
# ("On ... wrote:", Gmail's Hebrew "בתאריך ... מאת ...:", Outlook's header block).
_QUOTE_START = re.compile(
    r"^\s*(>|On .{0,200}wrote:\s*$|בתאריך .{0,200}:\s*$|.{0,200} כתב\S*:\s*$"
    r"|-{2,}\s*(Original Message|Forwarded message|הודעה מקורית)|From:\s|מאת:\s|_{8,})",
    re.I,
)
MAX_ANSWER_CHARS = 2000


def reply_text(body: str) -> str:
    """The sender's own text of a reply: above the quote, without the signature."""
    lines: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        if _QUOTE_START.match(line) or line.rstrip() == "--":
            break
        lines.append(line.rstrip())
    return "\n".join(lines).strip()[:MAX_ANSWER_CHARS]


_PART_HEADER = re.compile(rb"(?im)^content-type:")


def _bounded(raw: bytes) -> tuple[bytes, int]:
    """Cuts a message with thousands of parts before its part number MAX_MIME_PARTS, at a
    boundary line: parsing headers costs about a millisecond a part."""
    starts = [m.start() for m in _PART_HEADER.finditer(raw)]
    if len(starts) <= MAX_MIME_PARTS:
        return raw, 0
    cut_at = raw.rfind(b"\n--", 0, starts[MAX_MIME_PARTS])
    if cut_at < 0:
        return raw, 0
    return raw[: cut_at + 1], len(starts) - MAX_MIME_PARTS


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:300]


def _walk(message: Message, walk: _Walk, depth: int) -> None:
    for part in _leaves(message, walk, depth):
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            if depth + 1 > MAX_DEPTH:
                walk.add(MailPart(None, "", refused="mail.nested_too_deep"))
                continue
            for item in inner if isinstance(inner, list) else [inner]:
                if isinstance(item, Message):
                    _walk(item, walk, depth + 1)
            continue
        disposition = part.get_content_disposition()
        name = clean_name(part.get_filename())
        if content_type == "text/html" and disposition != "attachment":
            body = part.get_content() if isinstance(part, EmailMessage) else ""
            walk.html.append(str(body)[:2_000_000])
            continue
        if content_type.startswith("text/") and disposition != "attachment":
            if content_type == "text/plain" and depth == 0 and isinstance(part, EmailMessage):
                walk.plain.append(str(part.get_content())[:100_000])
            continue
        data = _payload(part)
        if not data:
            continue
        _attachment(part, name, data, walk, zip_depth=0)


def _leaves(message: Message, walk: _Walk, depth: int) -> Iterator[Message]:
    for part in message.walk():
        walk.seen += 1
        if walk.seen > MAX_MIME_PARTS:
            walk.too_many += 1
            return
        if part.is_multipart():
            continue
        yield part
        if part.get_content_type() == "message/rfc822":
            continue


def _attachment(
    part: Message | None, name: str | None, data: bytes, walk: _Walk, zip_depth: int
) -> None:
    kind = kind_of(data)
    if kind == "application/zip":
        _open_zip(name, data, walk, zip_depth)
        return
    if kind is None or kind not in DOCUMENT_TYPES:
        # Calendar invites, vCards and the like say nothing to the office; a named file of
        # another type gets the chat's reason.
        if name and (part is None or part.get_content_disposition() == "attachment"):
            walk.add(MailPart(name, kind or "", refused="file.unsupported"))
        return
    if kind.startswith("image/") and part is not None:
        cid = _content_id(part)
        if cid is not None:
            walk.inline[cid] = data
        if _is_small_picture(data):
            return
        if cid is not None and part.get_content_disposition() != "attachment":
            # Kept aside under its cid: dropped if the HTML shows it (a logo), kept if not.
            walk.add(MailPart(f"cid:{cid}", kind, data))
            return
    walk.add(MailPart(name or _default_name(kind), kind, data))


def _default_name(kind: str) -> str:
    return "attachment." + {"application/pdf": "pdf", "image/jpeg": "jpg"}.get(
        kind, kind.rsplit("/", 1)[-1]
    )


def _open_zip(name: str | None, data: bytes, walk: _Walk, depth: int) -> None:
    if depth >= ZIP_MAX_NESTING + 1:
        walk.add(MailPart(name, "application/zip", refused="mail.zip_nested"))
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        walk.add(MailPart(name, "application/zip", refused="mail.zip_broken"))
        return
    members = [m for m in members if not _junk_member(m.filename)]
    if len(members) > ZIP_MAX_MEMBERS:
        walk.add(MailPart(name, "application/zip", refused="mail.zip_too_many"))
        return
    total = 0
    for info in members:
        member_name = clean_name(info.filename)
        if info.flag_bits & 0x1:
            walk.add(MailPart(member_name, "", refused="mail.zip_encrypted"))
            continue
        if info.file_size > MAX_FILE_BYTES or (
            info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO
        ):
            walk.add(MailPart(member_name, "", refused="mail.zip_bomb"))
            continue
        try:
            with archive.open(info) as handle:
                # The header's sizes can lie; never read more than the limit allows.
                content = handle.read(MAX_FILE_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
            walk.add(MailPart(member_name, "", refused="mail.zip_broken"))
            continue
        total += len(content)
        if len(content) > MAX_FILE_BYTES or total > ZIP_MAX_TOTAL:
            walk.add(MailPart(member_name, "", refused="mail.zip_bomb"))
            break
        _attachment(None, member_name, content, walk, zip_depth=depth + 1)


def _junk_member(path: str) -> bool:
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return path.startswith("__MACOSX/") or base.startswith(".") or base.lower() == "thumbs.db"


def zip_parts(name: str | None, data: bytes) -> list[MailPart]:
    """A ZIP's documents under the same bounds as a mailed one (the upload page's ZIPs)."""
    walk = _Walk()
    _open_zip(name, data, walk, 0)
    if walk.too_many:
        walk.parts.append(MailPart(None, "", refused="mail.too_many_attachments"))
    return walk.parts
