"""Every web endpoint's permissions, over HTTP against the FastAPI app, on each database:
nobody, a forged or old sign-in, a client, another office's accountant, the accountant."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
from collections.abc import AsyncIterator, Awaitable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from sqlalchemy import event, func, select
from uvicorn.logging import AccessFormatter

from bot.app import build_app
from bot.uploads import UploadGate
from bot.web import build_web
from bot.webapp.config import master_key
from core.web_access import sign_link
from handlers.texts import Texts
from storage import tables
from storage.used_links import UsedLinks
from tests import images
from tests.e2e.harness import Harness
from tests.web.world import ALICE, DANA, EVE, init_data, make_read, people, zipped

BASE = "https://tayuk.test"
MB = b"0" * (1024 * 1024)
GETS = (
    "/app/api/me",
    "/app/api/documents?ids=1",
    "/app/api/review/queue",
    "/app/api/review/stamp",
    "/app/api/review/documents/1",
    "/app/api/review/documents/1/pages/0",
)
POSTS = (
    "/app/api/upload?upload_id=5&name=a.jpg",
    "/app/api/review/documents/1/approve",
    "/app/api/review/documents/1/field",
    "/app/api/review/documents/1/category",
    "/app/api/review/documents/1/return",
)


async def stored_count(harness: Harness) -> tuple[int, int]:
    """Documents, and files in the store: a refused upload adds to neither."""
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        documents = await uow.session.scalar(select(func.count()).select_from(tables.documents))
    files = [p for p in harness.app.files.root.rglob("*") if p.is_file()]
    return int(documents or 0), len(files)


def client(harness: Harness) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_web(harness.app))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def signed_in(
    harness: Harness, person_id: int, purpose: str
) -> tuple[httpx.AsyncClient, str]:
    """A browser that opened the bot's link: its session cookie and its CSRF token."""
    browser = client(harness)
    token = sign_link(master_key(harness.app.settings), person_id, purpose, datetime.now(UTC))
    opened = await browser.get(f"/app/login?t={token}")
    assert opened.status_code == 303 and opened.headers["location"] == f"/app/{purpose}"
    cookie = opened.headers["set-cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=strict"):
        assert flag.lower() in cookie.lower(), cookie
    me = await browser.get("/app/api/me")
    assert me.status_code == 200, me.text
    return browser, me.json()["csrf"]


async def test_every_endpoint_asks_who_is_calling_and_what_they_may(harness: Harness) -> None:
    ids = await people(harness, BASE)
    master = master_key(harness.app.settings)
    now = datetime.now(UTC)
    async with client(harness) as nobody:
        for path in GETS:
            assert (await nobody.get(path)).status_code == 401, path
        for path in POSTS:
            assert (await nobody.post(path, json={"version": 1})).status_code == 401, path
        # Links: forged, expired, for another person (signature broken), used twice.
        good = sign_link(master, ids["dana"], "upload", now)
        body, _, mac = good.rpartition(".")
        for bad in (
            sign_link(b"not-the-key", ids["dana"], "upload", now),
            sign_link(master, ids["dana"], "upload", now - timedelta(hours=1)),
            body[:-2] + "xx." + mac,
            "",
        ):
            refused = await nobody.get(f"/app/login?t={bad}")
            assert refused.status_code == 403, bad
            assert "set-cookie" not in refused.headers
        assert (await nobody.get(f"/app/login?t={good}")).status_code == 303
        stolen = await nobody.get(f"/app/login?t={good}")
        assert stolen.status_code == 403 and Texts("he")("web.link_used") in stolen.text
        # Telegram's init data: checked with the token, and for its age.
        for header, status in (
            (init_data(DANA), 200),
            (init_data(DANA, token="123:forged"), 401),
            (init_data(DANA, age=2 * 3600), 401),
            (init_data(DANA).replace("Dana", "Eve"), 401),
        ):
            me = await nobody.get("/app/api/me", headers={"Authorization": f"tma {header}"})
            assert me.status_code == status, (header, me.text)
        # The pages themselves are a shell with the person's texts to come; assets cached.
        page = await nobody.get("/app/upload")
        assert page.status_code == 200 and 'dir="rtl"' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        script = page.text.split('<script src="')[1].split('"')[0]
        asset = await nobody.get(script)
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
        assert (await nobody.get(script.replace("/common.js", "/nope.js"))).status_code == 404

    # The bot offers the pages: /upload and /status to the client, /review to the office;
    # at an https address as a Mini App (the browser test covers the signed link).
    for user, command, page in (
        (DANA, "/upload", "upload"),
        (DANA, "/status", "upload"),
        (ALICE, "/review", "review"),
    ):
        offer = await harness.say(user, command)
        assert offer.inline_keyboard, (command, offer)
        assert offer.inline_keyboard[-1][0]["web_app"]["url"] == f"{BASE}/app/{page}"
    assert not (await harness.say(DANA, "/review")).inline_keyboard
    dana, dana_csrf = await signed_in(harness, ids["dana"], "upload")
    async with aclosing(dana):
        headers = {"X-CSRF-Token": dana_csrf, "Content-Type": "image/jpeg"}
        jpeg = images.jpeg(label="api receipt")
        url = "/app/api/upload?name=r.jpg&upload_id={}"
        no_csrf = await dana.post(url.format(1), content=jpeg)
        assert no_csrf.status_code == 403 and no_csrf.json()["error"] == "web.csrf"
        stored = (await dana.post(url.format(2), content=jpeg, headers=headers)).json()
        assert [r["outcome"] for r in stored["results"]] == ["stored"], stored
        document_id = stored["results"][0]["document"]
        again = (await dana.post(url.format(2), content=jpeg, headers=headers)).json()
        assert again["results"][0]["document"] == document_id  # the same upload, resent
        duplicate = (await dana.post(url.format(3), content=jpeg, headers=headers)).json()
        assert duplicate["results"][0]["outcome"] == "duplicate"
        kept = await stored_count(harness)
        bad = (await dana.post(url.format(4), content=b"MZ\x90 not a doc", headers=headers)).json()
        assert bad["results"][0]["outcome"] == "refused" and bad["results"][0]["reason"]
        archive = zipped(**{"a.pdf": images.pdf(label="zip pdf"), "b.exe": b"MZ\x90"})
        from_zip = (await dana.post(url.format(5), content=archive, headers=headers)).json()
        assert sorted(r["outcome"] for r in from_zip["results"]) == ["refused", "stored"]
        # Over the limit, sent as it comes (no length said): refused while it is read.
        sent = []

        async def flood() -> AsyncIterator[bytes]:
            for _ in range(40):
                sent.append(MB)
                yield b"%PDF-" + MB[5:] if len(sent) == 1 else MB

        huge = await dana.post(url.format(6), content=flood(), headers=headers)
        assert huge.status_code == 413, huge.text
        assert huge.json()["message"] == Texts("he")("file.too_big", limit_mb=20)
        assert huge.json()["results"][0]["outcome"] == "refused"
        assert len(sent) <= 22  # read no further than its limit
        assert await stored_count(harness) == (kept[0] + 1, kept[1] + 1)  # the ZIP's PDF only
        pdf_id = next(r["document"] for r in from_zip["results"] if r["outcome"] == "stored")
        foreign = await dana.post(url.format(7) + "&org=999", content=jpeg, headers=headers)
        assert foreign.status_code == 403
        polled = (await dana.get(f"/app/api/documents?ids={document_id},1,2,3")).json()
        assert document_id in [d["id"] for d in polled["documents"]]
        # A client does not review, not even their own document.
        assert (await dana.get("/app/api/review/queue")).json()["documents"] == []
        for path in (f"/app/api/review/queue?org={ids['org']}", *GETS[-2:]):
            path = path.replace("/1", f"/{document_id}")
            assert (await dana.get(path)).status_code == 403, path
        for action, body in (("approve", {}), ("category", {"category": "fuel"})):
            refused = await dana.post(
                f"/app/api/review/documents/{document_id}/{action}",
                json={"version": 1, **body},
                headers={"X-CSRF-Token": dana_csrf},
            )
            assert refused.status_code == 403, action

    await make_read(harness, document_id)
    await make_read(harness, pdf_id)
    async with client(harness) as eve:  # another office, inside Telegram
        tma = {"Authorization": f"tma {init_data(EVE)}"}
        for path in ("", "/pages/0"):
            seen = await eve.get(f"/app/api/review/documents/{document_id}{path}", headers=tma)
            assert seen.status_code == 403, path
        for action, body in (("approve", {}), ("category", {"category": "fuel"})):
            refused = await eve.post(
                f"/app/api/review/documents/{document_id}/{action}",
                json={"version": 1, **body},
                headers=tma,
            )
            assert refused.status_code == 403, action
        assert (await eve.get("/app/api/review/queue", headers=tma)).json()["documents"] == []

    alice, csrf = await signed_in(harness, ids["alice"], "review")
    async with aclosing(alice):
        queue = (await alice.get("/app/api/review/queue")).json()
        assert [d["id"] for d in queue["documents"]] == [document_id, pdf_id]
        card = (await alice.get(f"/app/api/review/documents/{document_id}")).json()
        assert [f["name"] for f in card["fields"] if f["doubtful"]] == ["vendor_id"]
        picture = await alice.get(f"/app/api/review/documents/{document_id}/pages/0")
        assert picture.headers["content-type"] == "image/jpeg"
        assert picture.content[:2] == b"\xff\xd8"
        page = await alice.get(f"/app/api/review/documents/{pdf_id}/pages/0")  # drawn here
        assert page.status_code == 200 and page.content[:2] == b"\xff\xd8"
        assert (await alice.get(f"/app/api/review/documents/{pdf_id}/pages/1")).status_code == 404
        post = {"headers": {"X-CSRF-Token": csrf}}
        base = f"/app/api/review/documents/{document_id}"
        edited = await alice.post(
            base + "/field",
            json={"version": card["version"], "field": "vendor_id", "value": "515303055"},
            **post,
        )
        assert edited.status_code == 200, edited.text
        stale = await alice.post(base + "/approve", json={"version": card["version"]}, **post)
        assert stale.status_code == 409
        bad_value = await alice.post(
            base + "/field",
            json={"version": edited.json()["version"], "field": "date", "value": "soon"},
            **post,
        )
        assert bad_value.status_code == 422
        version = edited.json()["version"]
        chosen = await alice.post(
            base + "/category", json={"version": version, "category": "fuel"}, **post
        )
        assert chosen.status_code == 200 and chosen.json()["category"] == "fuel", chosen.text
        late = await alice.post(
            base + "/category", json={"version": version, "category": "rent"}, **post
        )
        assert late.status_code == 409  # the card shown was older than the document
        chat_before = len(await harness.api.messages(DANA.id))
        returned = await alice.post(
            base + "/return",
            json={"version": chosen.json()["version"], "reason": "unreadable", "note": "blurry"},
            **post,
        )
        assert returned.status_code == 200 and returned.json()["state"] == "returned"
        told = await harness.api.wait_for_messages(DANA.id, chat_before + 1, timeout=10)
        assert "blurry" in (told[-1].caption or told[-1].text or "")
        # The screen polls a stamp: the client's answer in the chat puts the document back
        # in the queue, and the stamp says so without reloading the queue itself.
        shown = (await alice.get("/app/api/review/queue")).json()
        assert [d["id"] for d in shown["documents"]] == [pdf_id]
        assert (await alice.get("/app/api/review/stamp")).json()["stamp"] == shown["stamp"]
        await make_read(harness, document_id)  # as when the client's answer is read again
        assert (await alice.get("/app/api/review/stamp")).json()["stamp"] != shown["stamp"]


async def test_a_link_opens_once_on_any_replica_and_stays_out_of_the_log(harness: Harness) -> None:
    """Two bot processes over one database (replicas, or one restarted): the link used on
    the first opens nothing on the second, and a used link's row goes once it expired."""
    ids = await people(harness, BASE)
    replica = build_app(harness.app.settings)
    try:
        master = master_key(harness.app.settings)
        link = sign_link(master, ids["dana"], "upload", datetime.now(UTC))
        async with client(harness) as first:
            assert (await first.get(f"/app/login?t={link}")).status_code == 303
        transport = httpx.ASGITransport(app=build_web(replica))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as second:
            stolen = await second.get(f"/app/login?t={link}")
            assert stolen.status_code == 403 and Texts("he")("web.link_used") in stolen.text
            assert "set-cookie" not in stolen.headers
        used = UsedLinks(harness.app.engine)
        later = datetime.now(UTC) + timedelta(hours=1)
        assert await used.take("another", later + timedelta(minutes=15), later)
        async with harness.app.uow_factory() as uow:
            assert uow.session is not None
            kept = await uow.session.scalars(select(tables.used_web_links.c.nonce))
            assert list(kept) == ["another"]  # the first link's row pruned
        # A server's access log keeps each request's address: not the link's token.
        await logged_login(harness, sign_link(master, ids["dana"], "upload", datetime.now(UTC)))
    finally:
        await replica.close()


async def logged_login(harness: Harness, link: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        build_web(harness.app), host="127.0.0.1", port=port, log_level="info", lifespan="off"
    )
    access = logging.getLogger("uvicorn.access")
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(AccessFormatter('%(client_addr)s "%(request_line)s" %(status_code)s'))
    access.addHandler(handler)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn has no event to wait on)
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as browser:
            assert (await browser.get(f"/app/login?t={link}")).status_code == 303
    finally:
        server.should_exit = True
        await task
        access.removeHandler(handler)
        access.setLevel(logging.WARNING)
    line = lines.getvalue()
    assert "GET /app/login?t=<redacted> HTTP/1.1" in line and link not in line, line


class Statements:
    """Statements and transactions each request runs (the CPU of a web request is mostly
    building and running them: bench/web.py --trace)."""

    def __init__(self, harness: Harness) -> None:
        self.engine = harness.app.engine.sync_engine
        self.statements = self.transactions = 0
        self.answer: dict[str, Any] = {}

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            self.statements += 1
            self.seen.append(statement[:90])

    def _begin(self, _conn: Any) -> None:
        self.transactions += 1

    async def of(self, request: Awaitable[httpx.Response]) -> tuple[int, int]:
        self.statements = self.transactions = 0
        self.seen: list[str] = []
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "begin", self._begin)
        try:
            answer = await request
        finally:
            event.remove(self.engine, "before_cursor_execute", self._statement)
            event.remove(self.engine, "begin", self._begin)
        assert answer.status_code == 200, answer.text
        self.answer = answer.json()
        return self.statements, self.transactions


async def test_an_upload_and_a_review_action_run_few_statements(harness: Harness) -> None:
    """The budgets are what the requests take now: a change that adds a statement or a
    transaction to the busiest requests must say so here."""
    ids = await people(harness, BASE)
    counted = Statements(harness)
    dana, csrf = await signed_in(harness, ids["dana"], "upload")
    async with aclosing(dana):
        for n in range(2):
            upload = dana.post(
                f"/app/api/upload?upload_id={40 + n}&name=r.jpg",
                content=images.jpeg(label=f"counted {n}"),
                headers={"X-CSRF-Token": csrf, "Content-Type": "image/jpeg"},
            )
            # Who, where to; then the document found new and stored, in one transaction.
            assert await counted.of(upload) == (11, 2)
    alice, csrf = await signed_in(harness, ids["alice"], "review")
    post = {"headers": {"X-CSRF-Token": csrf}}
    async with aclosing(alice):
        for document_id in (1, 2):  # the first teaches the vendor's category
            await make_read(harness, document_id)
            base = f"/app/api/review/documents/{document_id}"
            card = (await alice.get(base)).json()
            if document_id == 2:
                # Who, the document with its organization, may she; for the suggestion
                # (this vendor has none remembered) the vendor's category, the office, its
                # decisions; the pages.
                assert await counted.of(alice.get(base)) == (7, 1), counted.seen
                card = counted.answer
            for action, body, budget in (
                # Who, the document with its organization, may she, is its period open; the
                # audit entry and the document written. After an edit, the vendor's
                # category is read again for the card.
                ("field", {"field": "vendor_id", "value": "515303055"}, (7, 2)),
                ("category", {"category": "fuel"}, (7, 1)),  # and the vendor's category
                ("approve", {}, (6, 1)),
            ):
                answer = alice.post(
                    f"{base}/{action}", json={"version": card["version"], **body}, **post
                )
                spent = await counted.of(answer)
                assert document_id == 1 or spent == budget, (action, spent, counted.seen)
                card = counted.answer


async def test_a_burst_of_uploads_leaves_connections_for_the_accountant(harness: Harness) -> None:
    """Fifty uploads at once are admitted a few at a time: they never hold more than twice
    the intake's downloads of the pool's connections, and one client over their pace waits
    without holding a place (all fifty are stored, none twice)."""
    ids = await people(harness, BASE)
    # One client's flood over its pace: each file past the first waits a few milliseconds.
    harness.app.dispatcher.workflow_data["uploads"] = UploadGate(
        downloads=harness.app.settings.intake.downloads, burst=1, per_minute=20_000
    )
    dana, csrf = await signed_in(harness, ids["dana"], "upload")
    engine = harness.app.engine.sync_engine
    held = peak = 0

    def checkout(*_args: Any) -> None:
        nonlocal held, peak
        held += 1
        peak = max(peak, held)

    def checkin(*_args: Any) -> None:
        nonlocal held
        held -= 1

    before = await stored_count(harness)
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        async with aclosing(dana):
            answers = await asyncio.gather(
                *(
                    dana.post(
                        f"/app/api/upload?upload_id={100 + n}&name=r{n}.jpg",
                        content=images.jpeg(label=f"burst {n}"),
                        headers={"X-CSRF-Token": csrf, "Content-Type": "image/jpeg"},
                    )
                    for n in range(50)
                )
            )
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
    assert [a.status_code for a in answers] == [200] * 50
    assert {a.json()["results"][0]["outcome"] for a in answers} == {"stored"}
    assert (await stored_count(harness))[0] == before[0] + 50
    # SQLite has one connection whatever comes; PostgreSQL's pool would give all twenty.
    assert peak <= 2 * harness.app.settings.intake.downloads, peak
