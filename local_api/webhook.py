"""Webhook delivery: POST each update to the bot, retrying a few times like Telegram."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from .params import Params, parse_body

if TYPE_CHECKING:
    from .state import BotState, UpdateRecord, WebhookConfig

# api.call, handed in by the caller: the webhook runs the method a reply carries, and
# importing api here would close the circle api → methods → webhook → api.
MethodCall = Callable[["BotState", str, Params, str], Awaitable[tuple[int, dict[str, Any]]]]

log = logging.getLogger(__name__)


def start(bot: BotState, call: MethodCall) -> None:
    config = bot.webhook
    if config is None:
        return
    loop = asyncio.get_running_loop()
    # Up to max_connections updates in flight at once, as Telegram does.
    for _ in range(config.max_connections):
        config.tasks.append(loop.create_task(_worker(bot, config, call)))


async def _worker(bot: BotState, config: WebhookConfig, call: MethodCall) -> None:
    while bot.webhook is config:
        record = await bot.next_for_webhook()
        if bot.webhook is not config:
            bot.pending.appendleft(record)
            return
        try:
            await _deliver(bot, config, record, call)
        except asyncio.CancelledError:
            if record.delivered_at is None and not record.dropped:
                bot.pending.appendleft(record)  # deleteWebhook mid-flight: keep it for polling
            raise
        except Exception:  # never let one update kill the worker
            log.exception("webhook delivery crashed")


async def _deliver(
    bot: BotState, config: WebhookConfig, record: UpdateRecord, call: MethodCall
) -> None:
    server = bot.server
    if server is None:
        return
    limits = bot.limits
    delay = limits.webhook_retry_delay
    headers = {"Content-Type": "application/json"}
    if config.secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = config.secret_token
    body = json.dumps(record.update, ensure_ascii=False).encode()
    timeout = aiohttp.ClientTimeout(total=limits.webhook_timeout)
    for attempt in range(limits.webhook_retries + 1):
        started = time.time()
        if record.available_at is None:
            record.available_at = started
        error: str
        try:
            async with server.http_session().post(
                config.url, data=body, headers=headers, timeout=timeout
            ) as resp:
                if 200 <= resp.status < 300:
                    record.webhook_attempts.append(
                        {"at": started, "status": resp.status, "ok": True}
                    )
                    bot.mark_delivered([record], started)
                    await _run_reply(bot, resp, call)
                    return
                error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
                status: int | None = resp.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"Connection failed: {type(exc).__name__}: {exc}"
            status = None
        record.webhook_attempts.append(
            {"at": started, "status": status, "ok": False, "error": error}
        )
        config.last_error_date = int(time.time())
        config.last_error_message = error
        if attempt < limits.webhook_retries:
            await asyncio.sleep(delay)
            delay *= 2
    record.dropped = True


async def _run_reply(bot: BotState, resp: aiohttp.ClientResponse, call: MethodCall) -> None:
    """A webhook may answer with a method call in its body; Telegram executes it."""
    try:
        multipart = resp.headers.get("Content-Type", "").startswith("multipart/")
        raw = None if multipart else await resp.read()
        params = await parse_body(resp.headers, resp.content, raw)
    except Exception:  # an unreadable reply is ignored, like Telegram does
        return
    method = params.values.pop("method", None)
    if isinstance(method, str) and method:
        await call(bot, method, params, "webhook-reply")
