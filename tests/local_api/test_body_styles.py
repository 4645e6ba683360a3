"""Every body style clients send: query string, form, JSON, multipart, attach://."""

from __future__ import annotations

import json

import httpx

from local_api.client import LocalApiClient, TgUser
from local_api.testing import DEFAULT_TOKEN

from .conftest import make_jpeg

KEYBOARD = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}


async def test_body_styles(api: tuple[str, LocalApiClient], dana: TgUser) -> None:
    base_url, client = api
    await client.send_text(dana, "/start")
    url = f"{base_url}/bot{DEFAULT_TOKEN}"
    async with httpx.AsyncClient() as http:
        query = await http.get(f"{url}/sendMessage", params={"chat_id": dana.id, "text": "q"})
        form = await http.post(
            f"{url}/sendMessage",
            data={"chat_id": str(dana.id), "text": "f", "reply_markup": json.dumps(KEYBOARD)},
        )
        as_json = await http.post(
            f"{url}/sendMessage", json={"chat_id": dana.id, "text": "j", "reply_markup": KEYBOARD}
        )
        direct = await http.post(
            f"{url}/sendPhoto",
            data={"chat_id": str(dana.id), "caption": "d"},
            files={"photo": ("p.jpg", make_jpeg(), "image/jpeg")},
        )
        attached = await http.post(
            f"{url}/sendDocument",
            data={"chat_id": str(dana.id), "document": "attach://f1", "caption": "a"},
            files={"f1": ("r.pdf", b"%PDF-1.4", "application/pdf")},
        )
        media = [
            {"type": "photo", "media": "attach://x", "caption": "m"},
            {"type": "photo", "media": "attach://y"},
        ]
        group = await http.post(
            f"{url}/sendMediaGroup",
            data={"chat_id": str(dana.id), "media": json.dumps(media)},
            files={"x": ("x.jpg", make_jpeg(color="red")), "y": ("y.jpg", make_jpeg())},
        )
        # Query string and body together: the body wins, the rest is merged.
        mixed = await http.post(f"{url}/sendMessage?chat_id={dana.id}", json={"text": "m"})
    for response in (query, form, as_json, direct, attached, group, mixed):
        assert response.status_code == 200, response.text
        assert response.json()["ok"] is True
    logged = await client.messages(dana.id)
    assert [m.content for m in logged] == ["q", "f", "j", "d", "a", "m", None, "m"]
    assert logged[1].inline_keyboard == logged[2].inline_keyboard == KEYBOARD["inline_keyboard"]
    assert logged[4].mime_type == "application/pdf"
    calls = await client.calls()
    assert calls[3].params["photo"].startswith("<file p.jpg")  # the log keeps no file bytes


async def test_bad_bodies(api: tuple[str, LocalApiClient], dana: TgUser) -> None:
    base_url, client = api
    await client.send_text(dana, "/start")
    url = f"{base_url}/bot{DEFAULT_TOKEN}"
    async with httpx.AsyncClient() as http:
        broken_json = await http.post(
            f"{url}/sendMessage", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        broken_markup = await http.post(
            f"{url}/sendMessage", data={"chat_id": str(dana.id), "text": "x", "reply_markup": "{"}
        )
        missing_attach = await http.post(
            f"{url}/sendDocument",
            data={"chat_id": str(dana.id), "document": "attach://nothing"},
            files={"other": ("o.txt", b"o")},
        )
    for response in (broken_json, broken_markup, missing_attach):
        assert response.status_code == 400
        assert response.json()["description"].startswith("Bad Request: ")
