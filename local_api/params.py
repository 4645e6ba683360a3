"""Bot API request parameters from every body style clients send.

Values from a query string or a form are strings (complex ones JSON-encoded, as aiogram
does); values from a JSON body are native. The getters below accept both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from multidict import CIMultiDictProxy

from .errors import bad_request


@dataclass(slots=True)
class Upload:
    """A file sent as a multipart part."""

    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(slots=True)
class Params:
    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.values or name in self.files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return bool(value)
        return str(value).strip().lower() in ("true", "1", "yes", "on")

    def get_json(self, name: str) -> Any:
        """A complex field: JSON-encoded string in forms, native in JSON bodies."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def input_file(self, name: str) -> Upload | str | None:
        """A file parameter: a direct multipart part, `attach://x`, a file_id or a URL."""
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        if value is None:
            return None
        return self.resolve_attach(str(value))

    def resolve_attach(self, value: str) -> Upload | str:
        if value.startswith("attach://"):
            key = value[len("attach://") :]
            upload = self.files.get(key)
            if upload is None:
                raise bad_request(f"file {key} not found in the request")  # like tdlib
            return upload
        return value

    def loggable(self) -> dict[str, Any]:
        """Parameters for the call log: files replaced by a short description."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            out[key] = value if not isinstance(value, str) or len(value) <= 5000 else "<long>"
        for key, upload in self.files.items():
            out[key] = f"<file {upload.filename or key}, {len(upload.data)} bytes>"
        return out


async def read_multipart(reader: MultipartReader, params: Params) -> None:
    while True:
        part = await reader.next()
        if part is None:
            return
        if not isinstance(part, BodyPartReader):  # nested multipart: not used by Bot API
            continue
        name = part.name or ""
        data = await part.read(decode=True)
        if part.filename is not None:
            params.files[name] = Upload(
                bytes(data), part.filename, part.headers.get("Content-Type")
            )
        else:
            charset = part.get_charset(default="utf-8")
            params.values[name] = bytes(data).decode(charset)


def _merge_json(params: Params, body: bytes) -> None:
    if not body.strip():
        return
    try:
        data = json.loads(body)
    except ValueError:
        raise bad_request("can't parse JSON object") from None
    if not isinstance(data, dict):
        raise bad_request("JSON object expected")
    params.values.update(data)


async def parse_request(request: web.Request) -> Params:
    """Query string first, then the body (which wins on clashes, as in Telegram)."""
    params = Params(values=dict(request.query))
    if not request.can_read_body:
        return params
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        await read_multipart(await request.multipart(), params)
    elif ctype == "application/x-www-form-urlencoded":
        params.values.update((await request.post()).items())
    else:
        # JSON, or no content type at all (curl -d '{...}')
        _merge_json(params, await request.read())
    return params


async def parse_body(
    headers: CIMultiDictProxy[str] | Mapping[str, str], content: Any, body: bytes | None
) -> Params:
    """Parse a webhook *response* body (aiogram may answer with a method call in it)."""
    ctype = headers.get("Content-Type", "")
    params = Params()
    if ctype.startswith("multipart/"):
        await read_multipart(MultipartReader(headers, content), params)
    elif body is not None:
        if ctype.startswith("application/x-www-form-urlencoded"):
            from urllib.parse import parse_qsl

            params.values.update(parse_qsl(body.decode(), keep_blank_values=True))
        else:
            _merge_json(params, body)
    return params
