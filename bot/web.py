"""HTTP side: health checks and, in webhook mode only, the Telegram webhook."""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiogram.types import Update
from fastapi import FastAPI, Request, Response
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import log_redaction, metrics
from bot.app import App
from bot.logs import REQUEST_ID, new_request_id
from bot.settings import webhook_secret
from bot.webapp.routes import add_webapp_routes

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


class RequestIdMiddleware:
    """Every request's id in the logs and in its answer's `X-Request-Id`; a proxy's id is
    kept (one id across the proxy's and our logs).

    Plain ASGI: Starlette's `@app.middleware("http")` runs each request in a task of its
    own with streams between the two, several more turns of the event loop per request,
    which a request waits for whenever the loop is busy (bench/web.py under uploads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = value.decode("latin-1")[:64]
                break
        token = REQUEST_ID.set(given or new_request_id())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k != b"x-request-id"]
                headers.append((b"x-request-id", (REQUEST_ID.get() or "").encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


def build_web(app: App, *, webhook: bool = True) -> FastAPI:
    web = FastAPI(title="Tayuk", docs_url=None, redoc_url=None)
    metrics.install_error_counter()

    web.add_middleware(RequestIdMiddleware)

    @web.get("/metrics")
    async def prometheus() -> Response:
        try:
            await metrics.read_database_figures(app.engine, app.clock.now())
        except Exception:
            log.exception("could not read the figures for /metrics")  # counted as an error
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

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
        if app.redis is not None:
            try:
                async with asyncio.timeout(5):  # not wait_for: on 3.11 it can lose a cancel
                    await app.redis.ping()  # type: ignore[misc]  # typed as sync or async
            except Exception:
                log.exception("redis not ready")
                response.status_code = 503
                return {"status": "redis unavailable"}
        try:
            async with asyncio.timeout(10):
                await app.files.ready()
        except Exception:
            log.exception("file store not writable")
            response.status_code = 503
            return {"status": "files not writable"}
        if not app.reading_health.ok:
            response.status_code = 503
            return {"status": "reading unavailable"}
        return {"status": "ok"}

    add_webapp_routes(web, app)  # the upload page and the review screen (issue 15)
    log_redaction.redact_access_log()  # its sign-in links carry a token in the query

    secret = webhook_secret(app.settings.telegram) if webhook else None
    if secret is not None:
        expected = secret.get_secret_value().encode()

        @web.post(WEBHOOK_PATH)
        async def telegram_webhook(request: Request) -> Response:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not secrets.compare_digest(given.encode(), expected):
                return Response(status_code=403)
            if not app.inbox.taking:
                return Response(status_code=503)  # stopping: Telegram delivers it again later
            try:
                update = Update.model_validate(await request.json(), context={"bot": app.bot})
            except Exception:
                # Answer 200 all the same: Telegram would re-send a broken update forever.
                log.exception("unparseable update")
                return Response(status_code=200)
            try:
                await app.inbox.take([update])
            except Exception:
                # Not written down: not confirmed either, so Telegram delivers it again.
                log.exception("could not keep update %s", update.update_id)
                return Response(status_code=500)
            return Response(status_code=200)

    return web
