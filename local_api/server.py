"""The aiohttp application: Bot API routes, file downloads, control API; start/stop helpers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import resource
import sys
from typing import Any

from aiohttp import web

from . import api, control
from .errors import ApiError, bad_request, not_found
from .params import parse_request
from .state import DEFAULT_USERNAME, ServerState

log = logging.getLogger(__name__)

# 1,000 clients connecting at once: aiohttp's default listen backlog (128) overflows and
# the kernel drops or resets the rest (the kernel caps it at net.core.somaxconn).
BACKLOG = 4096
MAX_REQUEST = 60 * 1024 * 1024  # above the 50 MB upload limit, so we can answer 413 ourselves
_BOT_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?$")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


async def bot_api(request: web.Request) -> web.StreamResponse:
    server = request.app[control.SERVER_KEY]
    bot = server.bot(request.match_info["token"])
    try:
        params = await parse_request(request)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.code, dumps=_dumps)
    except web.HTTPRequestEntityTooLarge:
        error = ApiError(413, "Request Entity Too Large")
        return web.json_response(error.body(), status=413, dumps=_dumps)
    except (ValueError, AssertionError, UnicodeDecodeError):  # a broken multipart stream
        error = bad_request("can't parse request body")
        return web.json_response(error.body(), status=400, dumps=_dumps)
    status, payload = await api.call(bot, request.match_info["method"], params)
    return web.json_response(payload, status=status, dumps=_dumps)


async def download(request: web.Request) -> web.StreamResponse:
    server = request.app[control.SERVER_KEY]
    bot = server.bot(request.match_info["token"])
    if any(rule.method == "download" for rule in bot.failures):
        # fail_next("download", ...): a file download that breaks, as Telegram's sometimes do.
        try:
            await bot.apply_failures("download", None)
        except ApiError as exc:
            return web.json_response(exc.body(), status=exc.code, dumps=_dumps)
    record = bot.files.by_path.get(request.match_info["path"])
    if record is None:
        return web.json_response(not_found().body(), status=404)
    return web.Response(body=bot.files.content(record), content_type="application/octet-stream")


async def not_found_route(request: web.Request) -> web.StreamResponse:
    return web.json_response(not_found().body(), status=404)


async def _on_shutdown(app: web.Application) -> None:
    # Wake long polls and waiters so shutdown is instant rather than waiting their timeouts.
    await app[control.SERVER_KEY].aclose()


def create_app(state: ServerState | None = None) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST)
    app[control.SERVER_KEY] = state or ServerState()
    app.router.add_route("*", "/bot{token}/{method}", bot_api)
    app.router.add_get("/file/bot{token}/{path:.+}", download)
    control.add_routes(app)
    app.router.add_route("*", "/{tail:.*}", not_found_route)
    app.on_shutdown.append(_on_shutdown)
    return app


def raise_open_files_limit() -> int:
    """Lifts this process's soft limit of open files to the hard one (often 1,024 soft):
    each client is a socket, and past the limit accept() fails and clients are reset."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class LocalApiServer:
    """Runs the app on host:port (0 = a free port) inside the current event loop."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, bot_username: str = DEFAULT_USERNAME
    ) -> None:
        self.host = host
        self.port = port
        self.state = ServerState(bot_username)
        self.app = create_app(self.state)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_control"

    async def start(self) -> None:
        # handler_cancellation: a client that gives up on a long poll frees its handler.
        self._runner = web.AppRunner(
            self.app, shutdown_timeout=1.0, handler_cancellation=True, access_log=None
        )
        raise_open_files_limit()
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=BACKLOG)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve(host: str, port: int, bot_username: str = DEFAULT_USERNAME) -> None:
    """Run until cancelled."""
    server = LocalApiServer(host, port, bot_username)
    await server.start()
    print(f"Local Telegram Bot API: {server.base_url}  (bot username @{bot_username})")
    print(f"  point aiogram at it: TelegramAPIServer.from_base({server.base_url!r})")
    print(f"  control API: {server.control_url}/  (GET it for the endpoint list)")
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tayuk-local-api", description="Local Telegram Bot API server for tests and trials"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default=DEFAULT_USERNAME)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.bot_username))
    return 0
