"""The demo page and its small API on the bot's FastAPI app.

Everything the page shows comes from the local Bot API server's own records (the Message
objects the bot sent and the users sent); everything the visitor does is sent as that user
through the control API, so the bot receives ordinary updates.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from . import BOT_USERNAME, LANGUAGES
from .control import ControlFailed

if TYPE_CHECKING:
    from .runner import Demo  # the runner imports this module when it serves

HERE = Path(__file__).parent
STATIC = HERE / "static"
SAMPLES = HERE / "samples"
MAX_UPLOAD = 20 * 1024 * 1024
Who = Literal["client", "accountant"]


class TextIn(BaseModel):
    who: Who
    text: str = Field(min_length=1, max_length=4096)
    reply_to: int | None = None


class FileIn(BaseModel):
    who: Who
    name: str = Field(min_length=1, max_length=200)
    data_b64: str
    as_photo: bool = True
    caption: str | None = Field(default=None, max_length=1024)


class SampleIn(BaseModel):
    who: Who = "client"
    name: str


class PressIn(BaseModel):
    who: Who
    message_id: int
    data: str = Field(min_length=1, max_length=64)


class ResetIn(BaseModel):
    language: str | None = None


def samples() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".jpg", ".png", ".pdf"))


def add_demo_routes(web: FastAPI, demo: Demo) -> None:
    def user(who: str) -> dict[str, Any]:
        assert demo.seeded is not None
        return {**demo.seeded.people()[who], "language_code": demo.language}

    def control() -> Any:
        assert demo.control is not None
        return demo.control

    async def guarded(work: Any) -> Any:
        try:
            return await work
        except ControlFailed as error:
            # The local server's refusal (e.g. a file Telegram would refuse) goes to the page.
            raise HTTPException(400, str(error)) from None

    async def send_file(
        who: str, name: str, data: bytes, as_photo: bool, caption: str | None
    ) -> Any:
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        body: dict[str, Any] = {
            "user": user(who),
            "data_b64": base64.b64encode(data).decode(),
        }
        if caption:
            body["caption"] = caption
        if as_photo and mime in ("image/jpeg", "image/png"):
            return await guarded(control().call("POST", "send_photo", body))
        body.update(file_name=name, mime_type=mime)
        return await guarded(control().call("POST", "send_document", body))

    @web.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/demo/")

    @web.get("/demo/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    web.mount("/demo/static", StaticFiles(directory=STATIC), name="demo-static")
    web.mount("/demo/samples", StaticFiles(directory=SAMPLES), name="demo-samples")

    @web.get("/demo/api/texts")
    async def texts() -> dict[str, Any]:
        return dict(json.loads((STATIC / "texts.json").read_text(encoding="utf-8")))

    @web.get("/demo/api/state")
    async def state() -> dict[str, Any]:
        seeded = demo.seeded
        if seeded is None or demo.lock.locked():
            return {"ready": False, "generation": demo.generation, "language": demo.language}
        chats = {}
        for who, person in seeded.people().items():
            chats[who] = {
                "user": person,
                "messages": [
                    m["message"] | _extra(m) for m in await control().messages(person["id"])
                ],
            }
        return {
            "ready": True,
            "generation": demo.generation,
            "language": demo.language,
            "bot": {"username": BOT_USERNAME},
            "office": seeded.cast.office,
            "organizations": [name for name, _ in seeded.cast.organizations],
            "second_invite": f"/start {seeded.second_org_token}",
            "samples": samples(),
            "chats": chats,
        }

    @web.post("/demo/api/text")
    async def text(body: TextIn) -> dict[str, Any]:
        extra = {"reply_to_message_id": body.reply_to} if body.reply_to else {}
        await guarded(control().send_text(user(body.who), body.text, **extra))
        return {"ok": True}

    @web.post("/demo/api/file")
    async def file(body: FileIn) -> dict[str, Any]:
        try:
            data = base64.b64decode(body.data_b64, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(400, "not base64") from None
        if len(data) > MAX_UPLOAD:
            raise HTTPException(413, "file too big for the demo")
        await send_file(body.who, Path(body.name).name, data, body.as_photo, body.caption)
        return {"ok": True}

    @web.post("/demo/api/sample")
    async def sample(body: SampleIn) -> dict[str, Any]:
        if body.name not in samples():
            raise HTTPException(404, "no such sample")
        data = (SAMPLES / body.name).read_bytes()
        await send_file(body.who, body.name, data, True, None)
        return {"ok": True}

    @web.post("/demo/api/press")
    async def press(body: PressIn) -> dict[str, Any]:
        answer = await guarded(control().press(user(body.who), body.message_id, body.data))
        return {"ok": True, "answer": answer}

    @web.post("/demo/api/reset")
    async def reset(body: ResetIn) -> dict[str, Any]:
        language = body.language if body.language in LANGUAGES else None
        await demo.reset(language)
        return {"ok": True, "generation": demo.generation, "language": demo.language}

    @web.get("/demo/api/file/{file_id}")
    async def file_bytes(file_id: str) -> Response:
        try:
            data, content_type = await control().file(file_id)
        except ControlFailed:
            raise HTTPException(404, "no such file") from None
        return Response(data, media_type=content_type, headers={"Cache-Control": "max-age=3600"})


def _extra(view: dict[str, Any]) -> dict[str, Any]:
    """What the server knows beyond the Message object: deleted, and who sent it."""
    return {
        "_deleted": view["deleted"],
        "_from_bot": view["from_bot"],
        "_edits": len(view["edits"]),
    }
