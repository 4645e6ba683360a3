"""In-memory file storage: file ids, photo size sets, lazily rendered thumbnails."""

from __future__ import annotations

import base64
import hashlib
import io
import mimetypes
import secrets
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, bad_request

try:  # Pillow reads real image dimensions and renders thumbnails; optional on purpose
    from PIL import Image
except ImportError:  # pragma: no cover
    Image = None  # type: ignore[assignment]

MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files on the cloud Bot API
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024
THUMB_BOXES = (90, 320, 800)  # Telegram's "s", "m", "x" sizes; the full image comes last
_ID_PREFIX = {"photo": "AgACAgQAAxkBAAI", "document": "BQACAgQAAxkBAAI"}
_UNIQUE_PREFIX = {"photo": "AQAD", "document": "AgAD"}


@dataclass(slots=True)
class FileRecord:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document"
    data: bytes
    size: int  # declared size if any (to simulate huge files), else len(data)
    owner: str  # "user" or "bot": who sent it first
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    # A thumbnail is rendered from its full image on first download (keeps sends O(1)).
    source: FileRecord | None = None
    rendered: bool = True
    file_path: str | None = None
    # All sizes of one photo, smallest first (shared list); None for documents.
    photo_set: list[FileRecord] | None = field(default=None, repr=False)

    def photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width or 1,
            "height": self.height or 1,
            "file_size": self.size,
        }

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            out["file_name"] = self.file_name
        if self.mime_type:
            out["mime_type"] = self.mime_type
        return out


@dataclass(slots=True)
class ImageInfo:
    width: int
    height: int
    mime_type: str | None


def image_info(data: bytes) -> ImageInfo | None:
    """Dimensions from the image header only (cheap: no full decode)."""
    if Image is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            mime = Image.MIME.get(img.format or "")
    except Exception:  # any undecodable bytes: the caller decides what that means
        return None
    return ImageInfo(width, height, mime)


def unique_id(kind: str, data: bytes, variant: str = "") -> str:
    # Stable for the same bytes, like Telegram's file_unique_id.
    digest = hashlib.sha256(f"{kind}:{variant}:".encode() + data).digest()
    return _UNIQUE_PREFIX.get(kind, "AgAD") + base64.urlsafe_b64encode(digest[:12]).decode()


def _thumb_dims(width: int, height: int, box: int) -> tuple[int, int]:
    scale = box / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


class FileStore:
    def __init__(self) -> None:
        self.by_id: dict[str, FileRecord] = {}
        self.by_path: dict[str, FileRecord] = {}
        self._paths = 0

    def _new_id(self, kind: str) -> str:
        return _ID_PREFIX.get(kind, "BQACAgQAAxkBAAI") + secrets.token_urlsafe(30)

    def add_document(
        self,
        data: bytes,
        *,
        owner: str,
        file_name: str | None,
        mime_type: str | None,
        declared_size: int | None = None,
    ) -> FileRecord:
        if not mime_type and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        variant = f"declared={declared_size}" if declared_size else ""
        record = FileRecord(
            file_id=self._new_id("document"),
            file_unique_id=unique_id("document", data, variant),
            kind="document",
            data=data,
            size=declared_size or len(data),
            owner=owner,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.by_id[record.file_id] = record
        return record

    def add_photo(
        self, data: bytes, *, owner: str, width: int, height: int, declared_size: int | None = None
    ) -> list[FileRecord]:
        """A PhotoSize set, smallest first; the last one holds the original bytes."""
        full = FileRecord(
            file_id=self._new_id("photo"),
            file_unique_id=unique_id("photo", data, "full"),
            kind="photo",
            data=data,
            size=declared_size or len(data),
            owner=owner,
            mime_type="image/jpeg",
            width=width,
            height=height,
        )
        sizes: list[FileRecord] = []
        longest = max(width, height)
        area = max(1, width * height)
        for box in THUMB_BOXES:
            if longest <= box:
                break
            w, h = _thumb_dims(width, height, box)
            sizes.append(
                FileRecord(
                    file_id=self._new_id("photo"),
                    file_unique_id=unique_id("photo", data, f"box={box}"),
                    kind="photo",
                    data=b"",
                    # Estimated until rendered: rendering 200 photos up front would stall sends.
                    size=max(1, len(data) * w * h // area),
                    owner=owner,
                    mime_type="image/jpeg",
                    width=w,
                    height=h,
                    source=full,
                    rendered=False,
                )
            )
        sizes.append(full)
        for record in sizes:
            record.photo_set = sizes
            self.by_id[record.file_id] = record
        return sizes

    def get(self, file_id: str) -> FileRecord | None:
        return self.by_id.get(file_id)

    def require(self, file_id: str, kind: str | None = None) -> FileRecord:
        """A file_id the bot sends again; Telegram refuses a photo sent as document etc."""
        if file_id.startswith(("http://", "https://")):
            # Fetching URLs would make tests depend on the network.
            raise bad_request("failed to get HTTP URL content")
        record = self.by_id.get(file_id)
        if record is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if kind is not None and record.kind != kind:
            raise bad_request("type of file mismatch")
        return record

    def content(self, record: FileRecord) -> bytes:
        if not record.rendered:
            record.data = self._render(record)
            record.size = len(record.data)
            record.rendered = True
        return record.data

    def _render(self, record: FileRecord) -> bytes:
        source = record.source
        if source is None or Image is None:
            return source.data if source else record.data
        try:
            with Image.open(io.BytesIO(source.data)) as img:
                box = (record.width or 1, record.height or 1)
                img.draft("RGB", box)  # JPEG: decode at reduced scale, much faster
                thumb = img.convert("RGB").resize(box)  # exactly the advertised size
                out = io.BytesIO()
                thumb.save(out, "JPEG", quality=80)
                return out.getvalue()
        except Exception:  # undecodable: serve the original rather than nothing
            return source.data

    def file_path(self, record: FileRecord) -> str:
        """Assigned on the first getFile, as Telegram does."""
        if record.file_path is None:
            self._paths += 1
            if record.kind == "photo":
                path = f"photos/file_{self._paths}.jpg"
            else:
                ext = ""
                if record.file_name and "." in record.file_name:
                    ext = "." + record.file_name.rsplit(".", 1)[1][:10]
                path = f"documents/file_{self._paths}{ext}"
            record.file_path = path
            self.by_path[path] = record
        return record.file_path

    def get_file_result(self, file_id: str) -> dict[str, Any]:
        record = self.by_id.get(file_id)
        if record is None:
            raise bad_request("invalid file_id")
        if record.size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        if not record.rendered:
            self.content(record)  # real file_size before we promise a path
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
            "file_path": self.file_path(record),
        }


def check_upload(data: bytes, *, photo: bool) -> None:
    if not data:
        raise bad_request("file must be non-empty")
    if len(data) > (MAX_PHOTO_UPLOAD if photo else MAX_UPLOAD):
        raise ApiError(413, "Request Entity Too Large")
