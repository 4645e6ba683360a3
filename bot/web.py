"""HTTP side: health checks and the Telegram webhook."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from aiogram.types import Update
from fastapi import FastAPI, Request, Response
from sqlalchemy import text

from bot.app import App

log = logging.getLogger(__name__)


def build_web(app: App) -> FastAPI:
    web = FastAPI(title="Tayuk", docs_url=None, redoc_url=None)
    background: set[asyncio.Task[Any]] = set()

    @web.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @web.get("/health/ready")
    async def ready(response: Response) -> dict[str, str]:
        try:
            async with app.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            log.exception("database not ready")
            response.status_code = 503
            return {"status": "database unavailable"}
        try:
            await asyncio.to_thread(app.files.check_writable)
        except OSError:
            log.exception("files folder not writable")
            response.status_code = 503
            return {"status": "files not writable"}
        if not app.reading_health.ok:
            response.status_code = 503
            return {"status": "reading unavailable"}
        return {"status": "ok"}

    @web.post("/telegram/webhook")
    async def webhook(request: Request) -> Response:
        expected = app.settings.telegram.webhook_secret
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if expected is not None and not secrets.compare_digest(
            given.encode(), expected.get_secret_value().encode()
        ):
            return Response(status_code=403)
        try:
            update = Update.model_validate(await request.json(), context={"bot": app.bot})
        except Exception:
            # Answer 200 all the same: Telegram would re-send a broken update forever.
            log.exception("unparseable update")
            return Response(status_code=200)
        task = asyncio.create_task(app.dispatcher.feed_update(app.bot, update))
        background.add(task)
        task.add_done_callback(background.discard)
        return Response(status_code=200)

    return web
