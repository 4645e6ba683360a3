"""Webhook delivery to a small aiohttp receiver; reply-in-response; 409 for getUpdates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramConflictError
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from local_api.client import LocalApiClient, TgUser


class Receiver:
    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[dict[str, str], dict[str, Any]]] = asyncio.Queue()
        self.fail_first = 0

    async def handle(self, request: web.Request) -> web.Response:
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500)
        await self.received.put((dict(request.headers), await request.json()))
        return web.json_response({})


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hook"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    runner, url = await start_app(app)
    yield target, url
    await runner.cleanup()


async def test_webhook_delivery(
    bot: Bot, client: LocalApiClient, dana: TgUser, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    await client.configure(webhook_retry_delay=0.01)
    target.fail_first = 1  # the first attempt fails and is retried
    assert await bot.set_webhook(url, secret_token="s3cret-token")
    info = await bot.get_webhook_info()
    assert info.url == url
    sent = await client.send_text(dana, "שלום")
    headers, update = await asyncio.wait_for(target.received.get(), 5)
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret-token"
    assert update == sent.update
    with pytest.raises(TelegramConflictError):
        await bot.get_updates(timeout=0)
    [record] = await client.updates()
    assert [a["ok"] for a in record["webhook_attempts"]] == [False, True]
    assert record["available_at"] is not None and record["delivered_at"] is not None
    info = await bot.get_webhook_info()
    assert info.last_error_message and "500" in info.last_error_message
    assert await bot.delete_webhook()
    await client.send_text(dana, "back to polling")
    assert len(await bot.get_updates(timeout=0)) == 1


async def test_webhook_with_aiogram_dispatcher_reply_in_response(
    bot: Bot, client: LocalApiClient, dana: TgUser
) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> SendMessage:
        # Returned methods go back in the webhook response; Telegram executes them.
        return SendMessage(chat_id=message.chat.id, text=f"קיבלתי: {message.text}")

    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="abc").register(
        app, path="/hook"
    )
    runner, url = await start_app(app)
    try:
        await bot.set_webhook(url, secret_token="abc")
        await client.send_text(dana, "קבלה")
        [reply] = await client.wait_for_messages(dana.id, 1, timeout=5)
        assert reply.text == "קיבלתי: קבלה"
        [call] = await client.calls("sendMessage")
        assert call.source == "webhook-reply"
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
