"""Web pages under load: 50 clients upload 5 files each at once, while an accountant edits,
categorizes and approves documents on the review screen.

Real HTTP (uvicorn on 127.0.0.1) into the bot's own FastAPI app, signed-in with the bot's
links, files through `core.intake.receive`; the reader is off (it runs in its own processes
in production; here it would only add noise). Prints the upload p99 (one file, answer
included), the review action p99 (each of edit, category, approve, the card that follows)
and the process's memory; checks that every upload became a document. Last line one JSON
object.

    .venv/bin/python bench/web.py [--clients 50] [--files 5] [--database URL] [--trace]
        [--generator-nice 10]

The uploaders stand for fifty browsers on other machines; the process that plays them runs
at nice 10, so on this one machine its own processor time does not delay the server's
answers (measured under load 11-18: review action p99 395-450 ms with it at nice 0, 101-105
ms at nice 10). The accountant runs in her own process at the normal priority.

`--trace` adds where the bot's time went (bench/web_trace.py): per kind of request its
time in the bot, its waits for a database connection and how long it held one, the
statements it ran (for the slowest 2 %, which of them took longest), the event loop's lag,
the loop steps that kept it longest and the garbage collector's pauses.
`bot_cpu_ms_per_upload` is the bot's CPU time over the run per upload, the figure that
least depends on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import sys
import tempfile
import time
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from PIL import Image, ImageDraw
from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import build_app, prepare, settle_memory  # noqa: E402
from bot.settings import (  # noqa: E402
    DatabaseSettings,
    HttpSettings,
    Settings,
    TelegramSettings,
    WebSettings,
    WorkerSettings,
)
from bot.web import build_web  # noqa: E402
from bot.webapp.config import master_key  # noqa: E402
from core.categories import CATEGORIES  # noqa: E402
from core.domain import (  # noqa: E402
    AccessLevel,
    Identity,
    OfficeMember,
    OfficeRole,
    OrganizationMember,
    Person,
)
from core.organizations import create_office, create_organization  # noqa: E402
from core.web_access import sign_link  # noqa: E402
from local_api.testing import DEFAULT_TOKEN, local_api  # noqa: E402
from storage import tables  # noqa: E402
from tests.support.scratch import empty_postgres  # noqa: E402

REVIEWED = 60  # documents waiting for the accountant before the uploads start


def picture(label: str) -> bytes:
    """A small receipt-like JPEG, different for each label (so no two are duplicates)."""
    image = Image.new("RGB", (640, 400), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 20), label, fill="black")
    draw.rectangle((20, 60, 20 + random.randint(50, 600), 80), fill="gray")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def p50(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[len(ordered) // 2] * 1000, 1) if ordered else 0.0


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 1) if ordered else 0.0


async def seed(app: Any, clients: int) -> tuple[list[int], int, int]:
    now = datetime.now(UTC)
    async with app.uow_factory() as uow:
        office, _ = await create_office(uow, "Bench CPA", now)
    async with app.uow_factory() as uow:
        org = await create_organization(uow, office_id=office.id, name="Bench Ltd", now=now)
    people = []
    async with app.uow_factory() as uow:
        for n in range(clients + 1):
            person = await uow.people.add(
                Person(display_name=f"p{n}", language="he"),
                Identity(
                    person_id=0,
                    platform="telegram",
                    external_id=9_000_000 + n,
                    chat_id=9_000_000 + n,
                ),
            )
            people.append(person.id)
        accountant = people.pop()
        for pid in people:
            await uow.organizations.add_member(
                OrganizationMember(
                    organization_id=org.id, person_id=pid, access=AccessLevel.UPLOADER
                )
            )
        await uow.offices.add_member(
            OfficeMember(office_id=office.id, person_id=accountant, role=OfficeRole.STAFF)
        )
        await uow.commit()
    return people, accountant, org.id


async def signed_in(
    base: str, master: bytes, person_id: int, purpose: str
) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=base, timeout=120)
    token = sign_link(master, person_id, purpose, datetime.now(UTC))
    opened = await client.get(f"/app/login?t={token}")
    assert opened.status_code == 303, opened.text
    csrf = (await client.get("/app/api/me")).json()["csrf"]
    return client, csrf


async def uploader(
    base: str,
    master: bytes,
    person_id: int,
    files: list[bytes],
    times: list[float],
    first: int = 1,
) -> list[str]:
    client, csrf = await signed_in(base, master, person_id, "upload")
    outcomes = []
    async with aclosing(client):
        for index, data in enumerate(files):
            started = time.perf_counter()
            answer = await client.post(
                f"/app/api/upload?name=r{index}.jpg&upload_id={person_id * 1000 + first + index}",
                content=data,
                headers={"X-CSRF-Token": csrf, "Content-Type": "image/jpeg"},
            )
            times.append(time.perf_counter() - started)
            outcomes += [r["outcome"] for r in answer.json()["results"]]
    return outcomes


async def accountant_work(
    base: str,
    master: bytes,
    person_id: int,
    stop: asyncio.Event,
    times: list[float],
    ready: asyncio.Event | None = None,
) -> int:
    client, csrf = await signed_in(base, master, person_id, "review")
    done = 0
    post = {"headers": {"X-CSRF-Token": csrf}}
    async with aclosing(client):
        queue = (await client.get("/app/api/review/queue")).json()["documents"]
        if ready is not None:  # in a process of her own: says she is ready, waits to start
            print(json.dumps({"queue": len(queue)}), flush=True)
            await ready.wait()
        for item in queue:
            if stop.is_set() and done >= 20:
                break
            url = f"/app/api/review/documents/{item['id']}"
            started = time.perf_counter()
            card = (await client.get(url)).json()
            times.append(time.perf_counter() - started)
            for action, body in (
                ("field", {"field": "vendor_id", "value": "515303055"}),
                ("category", {"category": CATEGORIES[0]}),
                ("approve", {}),
            ):
                started = time.perf_counter()
                answer = await client.post(
                    f"{url}/{action}", json={"version": card["version"], **body}, **post
                )
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
                card = answer.json()
            done += 1
    return done


def settings_for(data_dir: Path, url: str, api_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        telegram=TelegramSettings(_env_file=None, token=DEFAULT_TOKEN, api_url=api_url),  # type: ignore[call-arg]
        database=DatabaseSettings(_env_file=None, url=url),  # type: ignore[call-arg]
        http=HttpSettings(_env_file=None, enabled=False),  # type: ignore[call-arg]
        worker=WorkerSettings(_env_file=None, enabled=False),  # type: ignore[call-arg]
        web=WebSettings(_env_file=None, allow_http_loopback=True),  # type: ignore[call-arg]
    )


async def review(args: argparse.Namespace) -> None:
    """The accountant's process: signs in, reads the queue, says so; starts on "start",
    files until "stop" (and at least 20 documents); prints her times as one JSON line."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram=TelegramSettings(_env_file=None, token=DEFAULT_TOKEN),  # type: ignore[call-arg]
    )
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    ready, stop = asyncio.Event(), asyncio.Event()
    times: list[float] = []

    async def listen() -> None:
        while line := await reader.readline():
            (ready if line.strip() == b"start" else stop).set()
        stop.set()

    listening = asyncio.create_task(listen())
    working = asyncio.create_task(
        accountant_work(args.api_url, master_key(settings), int(args.person), stop, times, ready)
    )
    done = await working
    listening.cancel()
    print(json.dumps({"times": times, "done": done}), flush=True)


async def serve(args: argparse.Namespace) -> None:
    """The bot's HTTP side in a process of its own, as in production: its latency and its
    memory are not the load generator's."""
    settings = settings_for(Path(args.data_dir), args.database, args.api_url)
    app = build_app(settings)
    await prepare(app)
    people, accountant, _ = await seed(app, args.clients)
    web = build_web(app)
    trace = None
    if args.trace:
        from bench.web_trace import Trace

        trace = Trace()
        trace.install(web, [app.engine])

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            await super().shutdown(sockets)
            if trace is not None:  # uvicorn ends the process with the signal right after
                (Path(args.data_dir) / "trace.json").write_text(json.dumps(trace.summary()))

    server = Server(
        uvicorn.Config(
            web,
            host="127.0.0.1",
            port=int(args.port),
            log_level="warning",
            lifespan="off",
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn has no event to wait on)
        await asyncio.sleep(0.05)
    settle_memory()
    if trace is not None:
        trace.start_lag_monitor()
        trace.watch_callbacks()
        trace.watch_gc()
    print(json.dumps({"people": people, "accountant": accountant}), flush=True)
    await serving
    await app.close()


HEAVY = ("sklearn", "scipy", "numpy", "cv2", "onnxruntime", "rapidocr", "weasyprint", "openpyxl")


def heavy_libraries(pid: int) -> list[str]:
    """The heavy libraries a process has loaded (their shared objects in its memory map)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name in HEAVY if f"/{name}/" in maps or f"/{name}." in maps]


def cpu_of(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_of(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        url = args.database or f"sqlite+aiosqlite:///{data_dir / 'tayuk.db'}"
        if url.startswith("postgresql"):
            await empty_postgres(url)
        async with local_api(DEFAULT_TOKEN, bot_username="bench_bot") as (api_url, _):
            settings = settings_for(data_dir, url, api_url)
            server = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--serve",
                "--data-dir",
                str(data_dir),
                "--database",
                url,
                "--api-url",
                api_url,
                "--port",
                str(args.port),
                "--clients",
                str(args.clients),
                *(["--trace"] if args.trace else []),
                stdout=asyncio.subprocess.PIPE,
            )
            assert server.stdout is not None
            ready = json.loads(await asyncio.wait_for(server.stdout.readline(), 120))
            people, accountant = ready["people"], ready["accountant"]
            base = f"http://127.0.0.1:{args.port}"
            master = master_key(settings)
            # Work waiting for the accountant: uploaded the same way, then made "read".
            await uploader(
                base,
                master,
                people[0],
                [picture(f"pre {n}") for n in range(REVIEWED)],
                [],
                first=500,
            )
            app = build_app(settings)  # only its database, to look
            async with app.uow_factory() as uow:
                assert uow.session is not None
                await uow.session.execute(
                    update(tables.documents).values(
                        state="to_file",
                        kind="receipt",
                        fields={
                            "total": {"value": "117.00", "confidence": 0.9, "reason": ""},
                            "vendor_id": {"value": "5153", "confidence": 0.3, "reason": "blur"},
                        },
                    )
                )
                await uow.commit()
            files = {pid: [picture(f"{pid}-{n}") for n in range(args.files)] for pid in people}
            rss_before, _ = rss_of(server.pid)
            cpu_before = cpu_of(server.pid)
            upload_times: list[float] = []
            review_times: list[float] = []
            # The accountant in a process of her own: her times are the bot's answers, not
            # this process's loop, busy with fifty uploaders.
            reviewer = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--review",
                "--api-url",
                base,
                "--person",
                str(accountant),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert reviewer.stdin is not None and reviewer.stdout is not None
            await asyncio.wait_for(reviewer.stdout.readline(), 60)  # signed in, queue read
            # The fifty uploaders stand for browsers on fifty other machines: this process,
            # which plays them, yields the processors to the bot, the database and the
            # accountant (started before, at the normal priority), so its own work does not
            # count against the server's answers. `--generator-nice 0`: as before.
            os.nice(args.generator_nice)
            started = time.perf_counter()
            reviewer.stdin.write(b"start\n")
            await reviewer.stdin.drain()
            outcomes = await asyncio.gather(
                *(uploader(base, master, pid, files[pid], upload_times) for pid in people)
            )
            upload_wall = time.perf_counter() - started
            # She may have filed her whole queue already and gone: then there is no one to stop.
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                reviewer.stdin.write(b"stop\n")
                await reviewer.stdin.drain()
            reviewed_report = json.loads(await asyncio.wait_for(reviewer.stdout.readline(), 300))
            await reviewer.wait()
            review_times, reviewed = reviewed_report["times"], reviewed_report["done"]
            rss, peak = rss_of(server.pid)
            heavy = heavy_libraries(server.pid)
            cpu = cpu_of(server.pid) - cpu_before
            async with app.uow_factory() as uow:
                assert uow.session is not None
                stored = await uow.session.scalar(
                    select(func.count())
                    .select_from(tables.documents)
                    .where(tables.documents.c.source_platform == "web")
                )
            server.terminate()
            await server.wait()
            await app.close()
            traced = data_dir / "trace.json"
            trace = json.loads(traced.read_text()) if traced.exists() else None
    sent = args.clients * args.files
    flat = [o for group in outcomes for o in group]
    return {
        "database": url.split(":", 1)[0],
        "uploads": sent,
        "stored": flat.count("stored"),
        "lost": sent + REVIEWED - int(stored or 0),
        "upload_p50_ms": p50(upload_times),
        "upload_p99_ms": p99(upload_times),
        "upload_wall_s": round(upload_wall, 2),
        "review_actions": len(review_times),
        "reviewed_documents": reviewed,
        "review_action_p50_ms": p50(review_times),
        "review_action_p99_ms": p99(review_times),
        # The slowest few, to tell one stall (a training, a collection) from a busy loop.
        "review_action_slowest_ms": [round(t * 1000, 1) for t in sorted(review_times)[-4:]],
        # The bot's CPU time per upload, the accountant's work included: unlike the
        # latencies, it hardly depends on what else the machine is doing.
        "bot_cpu_ms_per_upload": round(cpu * 1000 / sent, 1),
        "bot_rss_mb_before": rss_before,
        "bot_rss_mb": rss,
        "bot_peak_rss_mb": peak,
        "bot_heavy_libraries": heavy,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "generator_nice": args.generator_nice,
        **({"trace": trace} if trace else {}),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--database", default=None, help="e.g. postgresql+asyncpg://...")
    parser.add_argument("--port", default=8791)
    parser.add_argument(
        "--generator-nice",
        type=int,
        default=10,
        help="the uploaders' priority (they stand for other machines' browsers)",
    )
    parser.add_argument(
        "--trace", action="store_true", help="where the bot's time goes (bench/web_trace.py)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--review", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--person", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        asyncio.run(serve(arguments))
        sys.exit(0)
    if arguments.review:
        asyncio.run(review(arguments))
        sys.exit(0)
    result = asyncio.run(main(arguments))
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))
