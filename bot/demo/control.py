"""A small client of the local Bot API server's control API (aiohttp: a runtime dependency,
unlike httpx which local_api.client uses for tests)."""

from __future__ import annotations

from typing import Any

import aiohttp


class ControlFailed(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Control:
    def __init__(self, base_url: str, token: str) -> None:
        self.base = f"{base_url}/_control/{token}"
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(
        self, verb: str, path: str, body: dict[str, Any] | None = None, **query: Any
    ) -> Any:
        async with self.session().request(
            verb, f"{self.base}/{path}", json=body, params=query or None
        ) as response:
            data = await response.json()
            if response.status != 200:
                raise ControlFailed(response.status, str(data.get("error") or data))
            return data

    async def file(self, file_id: str) -> tuple[bytes, str]:
        async with self.session().get(f"{self.base}/files/{file_id}") as response:
            if response.status != 200:
                raise ControlFailed(response.status, "no such file")
            return await response.read(), response.content_type

    async def send_text(self, user: dict[str, Any], text: str, **extra: Any) -> Any:
        return await self.call("POST", "send_text", {"user": user, "text": text, **extra})

    async def messages(self, chat_id: int) -> list[dict[str, Any]]:
        data = await self.call("GET", f"chats/{chat_id}/messages", include_user="1")
        return list(data["messages"])

    async def wait_for_bot_messages(self, chat_id: int, count: int, wait: float = 20) -> None:
        await self.call(
            "GET", f"chats/{chat_id}/messages", wait_count=str(count), timeout=str(wait)
        )

    async def press(self, user: dict[str, Any], message_id: int, data: str) -> str | None:
        """Presses an inline button; the bot's answer (the toast), if it gave one soon."""
        pressed = await self.call(
            "POST", "press_button", {"user": user, "message_id": message_id, "data": data}
        )
        query_id = pressed["callback_query_id"]
        answer = await self.call("GET", f"callbacks/{query_id}", timeout="5")
        given = answer["callback"].get("answer") or {}
        return given.get("text")
