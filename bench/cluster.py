"""Tayuk as a service, for the replica kill test and bench/scale.py --replicas (issue 16):
webhook replicas behind a small round-robin proxy, reading workers, chat leases in Redis,
files in S3 (moto's server over HTTP). Each part its own process (tests/chaos/world.py's
BotProcess); this module only puts them together, so the test and the bench run the same
service."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from storage.object_store import S3FileStore
from tests.chaos.world import BotProcess

if TYPE_CHECKING:
    from local_api.client import Emitted, LocalApiClient
    from local_api.server import LocalApiServer
    from local_api.state import BotState

BUCKET = "tayuk-files"
REGION = "il-central-1"
ACCESS_KEY_ID = "tayuk"
SECRET_ACCESS_KEY = "a-secret-key"
WEBHOOK_SECRET = "replica-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def round_robin_proxy(backends: list[str]) -> AsyncIterator[str]:
    """deploy/Caddyfile's part, small: the webhook's calls go round the replicas, and one
    that cannot be reached (or drops the call) is skipped for the next."""
    turn = itertools.count()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k in ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")
        }
        first = next(turn)
        for n in range(len(backends)):
            backend = backends[(first + n) % len(backends)]
            try:
                async with session.post(backend + request.path, data=body, headers=headers) as r:
                    return web.Response(status=r.status, body=await r.read())
            except (aiohttp.ClientConnectionError, OSError):
                continue
        return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/telegram/webhook", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/telegram/webhook"
    finally:
        await runner.cleanup()
        await session.close()


@contextlib.contextmanager
def moto_s3() -> Iterator[str]:
    """moto's S3 server in this process's threads, emptied; yields its endpoint."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its buckets in the importing process, not in the server: start empty.
    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10
    ).close()
    try:
        yield endpoint
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def moto_s3_process() -> AsyncIterator[tuple[str, int]]:
    """moto's S3 server as its own process (S3 is another machine's work in production: in
    the bench's process it took the CPU and the GIL of the Bot API server and the proxy);
    yields its endpoint and process id."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.post(f"{endpoint}/moto-api/reset") as r:
                        if r.status == 200:
                            break
                await asyncio.sleep(0.1)
        yield endpoint, process.pid
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def s3_store(endpoint: str) -> S3FileStore:
    return S3FileStore(
        BUCKET,
        endpoint_url=endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )


async def make_bucket(store: S3FileStore) -> None:
    await asyncio.to_thread(store.client.make_bucket, store.bucket, REGION)


def shared_env(redis_url: str, s3_endpoint: str, lease_seconds: float) -> dict[str, str]:
    """Settings every replica and worker shares: chat leases in Redis, files in S3."""
    return {
        "TAYUK_REDIS_URL": redis_url,
        "TAYUK_REDIS_CHAT_LEASE_SECONDS": str(lease_seconds),
        "TAYUK_FILES_BACKEND": "s3",
        "TAYUK_FILES_S3_BUCKET": BUCKET,
        "TAYUK_FILES_S3_ENDPOINT_URL": s3_endpoint,
        "TAYUK_FILES_S3_REGION": REGION,
        "TAYUK_FILES_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "TAYUK_FILES_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "TAYUK_LOG_LEVEL": "WARNING",
    }


def replies(state: BotState, sent: list[Emitted]) -> dict[int, list[str]]:
    """Per chat, the texts of what the bot said in reply to the client's photo."""
    said: dict[int, list[str]] = {}
    for emitted in sent:
        assert emitted.message is not None
        chat_id, message_id = emitted.message["chat"]["id"], emitted.message["message_id"]
        chat = state.chats.get(chat_id)
        texts = said.setdefault(chat_id, [])
        for m in chat.messages.values() if chat else ():
            if m.from_bot and (m.data.get("reply_to_message") or {}).get("message_id") == (
                message_id
            ):
                texts.append(m.data.get("text") or "")
    return said


@dataclass
class Cluster:
    replicas: list[BotProcess]
    workers: list[BotProcess]

    @property
    def processes(self) -> list[BotProcess]:
        return [*self.replicas, *self.workers]

    async def start(self, api: LocalApiClient) -> None:
        """Workers first, then the replicas side by side; back once every replica set the
        webhook (it does when ready)."""
        for worker in self.workers:
            await worker.start()
        await asyncio.gather(*(replica.start() for replica in self.replicas))
        for _ in range(1200):
            if len(await api.calls("setWebhook")) >= len(self.replicas):
                return
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for process in self.processes:
            await process.close()


def cluster(
    server: LocalApiServer,
    api: LocalApiClient,
    database_url: str,
    workdir: Path,
    *,
    ports: list[int],
    hook: str,
    shared: dict[str, str],
    workers: int,
    reading: dict[str, str],
) -> Cluster:
    """A webhook replica per port (the proxy at `hook` in front) and `workers` workers,
    not started yet; `reading` adds the workers' own settings."""
    replicas = [
        BotProcess(server, api, database_url, workdir, name=f"bot{n}", env=shared | {
            "TAYUK_TELEGRAM_WEBHOOK_URL": hook,
            "TAYUK_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TAYUK_HTTP_ENABLED": "true",
            "TAYUK_HTTP_PORT": str(port),
        })
        for n, port in enumerate(ports)
    ]  # fmt: skip
    readers = [
        BotProcess(
            server,
            api,
            database_url,
            workdir,
            name=f"worker{n}",
            command="worker",
            env=shared | {"TAYUK_WORKER_PROCESSES": "1"} | reading,
        )
        for n in range(workers)
    ]
    return Cluster(replicas, readers)
