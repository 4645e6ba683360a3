"""Test helpers: a local Bot API server on a free port, a control client, an aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from .client import LocalApiClient
from .server import LocalApiServer
from .state import DEFAULT_USERNAME

DEFAULT_TOKEN = "123456789:LOCAL-test-token"


@asynccontextmanager
async def local_server(
    *, bot_username: str = DEFAULT_USERNAME, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[LocalApiServer]:
    """The server itself (its .state is inspectable in-process); port 0 = a free port."""
    server = LocalApiServer(host, port, bot_username)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def local_api(
    token: str = DEFAULT_TOKEN,
    *,
    bot_username: str = DEFAULT_USERNAME,
    transport: str = "httpx",
) -> AsyncIterator[tuple[str, LocalApiClient]]:
    """Start a server on 127.0.0.1:<free port>; yields (base_url, control client for token).
    transport="aiohttp" for hundreds of concurrent control calls (see client._Transport)."""
    async with (
        local_server(bot_username=bot_username) as server,
        LocalApiClient(server.base_url, token, transport=transport) as client,
    ):
        yield server.base_url, client


class LocalAiohttpSession(AiohttpSession):
    """aiogram's session minus the 0.25 s pause on close (it waits for TLS shutdown, and
    the local server speaks plain HTTP): keeps a test suite with many bots fast."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(base_url: str, token: str = DEFAULT_TOKEN, **kwargs: Any) -> Bot:
    """An aiogram Bot talking to the local server. Close it: `await bot.session.close()`."""
    session = LocalAiohttpSession(api=TelegramAPIServer.from_base(base_url))
    return Bot(token, session=session, **kwargs)


@asynccontextmanager
async def aiogram_bot(
    base_url: str, token: str = DEFAULT_TOKEN, **kwargs: Any
) -> AsyncIterator[Bot]:
    bot = make_bot(base_url, token, **kwargs)
    try:
        yield bot
    finally:
        await bot.session.close()


__all__ = [
    "DEFAULT_TOKEN",
    "LocalAiohttpSession",
    "aiogram_bot",
    "local_api",
    "local_server",
    "make_bot",
]
