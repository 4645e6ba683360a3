"""One Bot API call, transport-free: call log, injected failures, flood limits, checks."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from . import methods, webhook
from .errors import ApiError, not_found
from .params import Params
from .state import BotState
from .validate import ShapeError, check_result

log = logging.getLogger(__name__)


async def call(
    bot: BotState, method: str, params: Params, source: str = "http"
) -> tuple[int, dict[str, Any]]:
    """Run a method; returns (HTTP status, Telegram-shaped body)."""
    name = method.lower()
    chat_id = methods.chat_id_of(params)
    record = bot.log_call(method, chat_id or params.raw("chat_id"), params.loggable(), source)
    status = 200
    try:
        impl = methods.METHODS.get(name)
        if impl is None:
            raise not_found()
        await bot.apply_failures(name, chat_id)
        bot.check_flood(name, chat_id)
        result = impl(bot, params)
        if inspect.isawaitable(result):
            result = await result
        check_result(method, result)
        if name == "setwebhook" and bot.webhook is not None and not bot.webhook.tasks:
            webhook.start(bot, call)
        body: dict[str, Any] = {"ok": True, "result": result}
    except ApiError as exc:
        status, body = exc.code, exc.body()
    except ShapeError as exc:
        # A bug of this server, not of the bot: make it loud in logs, the call log and tests.
        bot.internal_errors.append(f"{method}: {exc}")
        status = 500
        body = {
            "ok": False,
            "error_code": 500,
            "description": f"Internal Server Error: local Bot API bug: {exc}",
        }
    except Exception as exc:
        log.exception("local Bot API crashed in %s", method)
        bot.internal_errors.append(f"{method}: {type(exc).__name__}: {exc}")
        status = 500
        body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc}"}
    bot.finish_call(record, status, body)
    return status, body
