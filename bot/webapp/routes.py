"""The upload page, the review screen and their JSON API, on the bot's FastAPI app.

Thin like the handlers: who may do what, versions, checks and audit are the core's
(`core.intake.receive`, `core.review`); this module turns requests into those calls.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import html
import io
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdfium2
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from PIL import Image, ImageOps

from bot.app import App
from bot.uploads import UploadGate
from bot.webapp.auth import COOKIE, Caller, Unauthenticated, WebAuth
from bot.webapp.config import master_key
from core import intake, review, web_access
from core.categories import CATEGORIES
from core.domain import Document, DocumentState, Person, ReportRow
from core.errors import Conflict, FileRejected, NotAllowed, NotFound, TayukError
from core.files import MAX_FILE_BYTES
from core.mail_parts import MailPart, kind_of, zip_parts
from core.permissions import Action, may, may_on_document, upload_destinations
from core.ports import UnitOfWork
from handlers.reading_notice import UNSURE_BELOW
from handlers.review_client import notify_client
from handlers.review_render import field_value
from handlers.texts import Texts, catalog, number_of
from storage.used_links import UsedLinks

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
PLATFORM = "web"
PAGES = ("upload", "review")
QUEUE_LIMIT = 200
PDF_PAGES_SHOWN = 10
PAGE_WIDTH = 1400  # pixels of a rendered page: sharp on a desktop, light enough to send
ZIP_MAX_BYTES = 100 * 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org"
    ),
    "Referrer-Policy": "no-referrer",  # a link's token never leaks to another site
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class Asset:
    name: str
    digest: str
    body: bytes
    media_type: str


def load_assets() -> dict[str, Asset]:
    types = {".js": "text/javascript", ".css": "text/css"}
    found = {}
    for path in sorted(STATIC.iterdir()):
        if path.suffix in types:
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:12]
            found[path.name] = Asset(path.name, digest, body, types[path.suffix])
    return found


# The texts the pages' scripts show (static/*.js), sent to them in the person's language.
PAGE_TEXTS = (
    "web.title_upload",
    "web.title_review",
    "web.accepts",
    "web.approve",
    "web.cancel",
    "web.category",
    "web.done_approved",
    "web.done_returned",
    "web.done_saved",
    "web.doubtful",
    "web.drop_here",
    "web.edit",
    "web.empty",
    "web.failed",
    "web.next",
    "web.no_organization",
    "web.note",
    "web.organization",
    "web.outcome_refused",
    "web.page",
    "web.pick_files",
    "web.queue",
    "web.reading",
    "web.reason",
    "web.return",
    "web.rotate",
    "web.save",
    "web.send",
    "web.shortcuts",
    "web.suggested",
    "web.uploading",
    "web.zoom",
)


def page_texts(language: str) -> dict[str, str]:
    # Raw templates: the page fills in {id}, {percent} and the like itself.
    texts = catalog(Texts(language).language)
    return {key: texts[key] for key in PAGE_TEXTS}


def render_page(kind: str, assets: dict[str, Asset], language: str) -> str:
    def url(name: str) -> str:
        return f"/app/static/{assets[name].digest}/{name}"

    texts = page_texts(language)
    direction = "rtl" if language == "he" else "ltr"
    data = html.escape(json.dumps(texts, ensure_ascii=False), quote=False)
    return f"""<!doctype html>
<html lang="{language}" dir="{direction}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(texts[f"web.title_{kind}"])}</title>
<link rel="stylesheet" href="{url("app.css")}">
</head>
<body data-page="{kind}">
<script id="texts" type="application/json">{data}</script>
<header><h1 id="title">{html.escape(texts[f"web.title_{kind}"])}</h1>
<span id="who"></span></header>
<main id="main"><p id="notice" role="status"></p></main>
<script src="{url("common.js")}"></script>
<script src="{url(f"{kind}.js")}"></script>
</body>
</html>"""


def error_response(error: TayukError, t: Texts) -> JSONResponse:
    status = 403
    if isinstance(error, Unauthenticated):
        status = 401
    elif isinstance(error, NotFound):
        status = 404
    elif isinstance(error, Conflict):
        status = 409
    elif isinstance(error, review.InvalidValue | FileRejected):
        status = 422
    try:
        message = t(error.key, **error.params)
    except (KeyError, IndexError):
        message = t("error.generic")
    return JSONResponse({"error": error.key, "message": message}, status_code=status)


def add_webapp_routes(web: FastAPI, app: App) -> None:
    settings = app.settings
    token = settings.telegram.token.get_secret_value() if settings.telegram.token else ""
    auth = WebAuth(
        bot_token=token,
        master=master_key(settings),
        init_data_max_age=timedelta(minutes=settings.web.init_data_max_age_minutes),
        session_ttl=timedelta(hours=settings.web.session_hours),
        allow_http_loopback=settings.web.allow_http_loopback,
    )
    # Links opened once, in the database: every replica and every restart sees them.
    used_links = UsedLinks(app.engine)
    assets = load_assets()
    # The chat's gate: files in hand at once (shared with chat downloads, so memory stays
    # bounded across both) and each client's pace (a flood waits its turn, none refused).
    gate = app.dispatcher.workflow_data.get("uploads")
    if not isinstance(gate, UploadGate):
        gate = UploadGate(
            downloads=settings.intake.downloads,
            burst=settings.intake.burst,
            per_minute=settings.intake.per_minute,
        )

    @asynccontextmanager
    async def called(request: Request) -> AsyncIterator[tuple[UnitOfWork, Caller, Texts]]:
        async with app.uow_factory() as uow:
            caller = await auth.caller(request, uow, app.clock.now())
            yield uow, caller, Texts(caller.person.language)

    async def answer(
        request: Request, work: Callable[[UnitOfWork, Caller, Texts], Awaitable[Any]]
    ) -> Response:
        t = Texts(settings.default_language)
        try:
            async with called(request) as (uow, caller, t):
                result = await work(uow, caller, t)
        except TayukError as error:
            return error_response(error, t)
        if isinstance(result, Response):
            return result
        return JSONResponse(result, headers={"Cache-Control": "no-store"})

    # --- pages and assets ---------------------------------------------------------------

    def page_response(kind: str, request: Request) -> Response:
        language = settings.default_language
        cookie = request.cookies.get(COOKIE)
        if cookie:
            # The person's language at once, when a session says who it is (no flash).
            language = request.cookies.get("tayuk_lang", language)
        if language not in ("he", "en"):
            language = settings.default_language
        return Response(
            render_page(kind, assets, language),
            media_type="text/html; charset=utf-8",
            headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
        )

    @web.get("/app/upload")
    async def upload_page(request: Request) -> Response:
        return page_response("upload", request)

    @web.get("/app/review")
    async def review_page(request: Request) -> Response:
        return page_response("review", request)

    @web.get("/app/static/{digest}/{name}")
    async def static(digest: str, name: str) -> Response:
        asset = assets.get(name)
        if asset is None or asset.digest != digest:
            return Response(status_code=404)
        return Response(
            asset.body,
            media_type=asset.media_type,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @web.get("/app/login")
    async def login(request: Request, t: str = "") -> Response:
        now = app.clock.now()
        texts = Texts(settings.default_language)
        try:
            claim = web_access.read_link(auth.master, t, now)
            async with app.uow_factory() as uow:
                person = await uow.people.get(claim.person_id)
            if person is None:
                raise NotAllowed("web.link_invalid")
            expires = datetime.fromtimestamp(claim.expires, UTC)
            if not await used_links.take(claim.nonce, expires, now):
                raise NotAllowed("web.link_used")
        except NotAllowed as error:
            reason = html.escape(texts(error.key))
            page = f"<!doctype html><meta charset=utf-8><p id=refused>{reason}</p>"
            return Response(
                page,
                status_code=403,
                media_type="text/html; charset=utf-8",
                headers=SECURITY_HEADERS,
            )
        session = web_access.sign_session(auth.master, person.id or 0, now, auth.session_ttl)
        response = RedirectResponse(f"/app/{claim.purpose}", status_code=303)
        secure = auth.secure_cookie(request)
        max_age = int(auth.session_ttl.total_seconds())
        response.set_cookie(
            COOKIE,
            session,
            max_age=max_age,
            path="/app",
            httponly=True,
            secure=secure,
            samesite="strict",
        )
        # Only which language to draw the page in before the API answers; not a secret.
        response.set_cookie(
            "tayuk_lang",
            person.language,
            max_age=max_age,
            path="/app",
            httponly=True,
            secure=secure,
            samesite="strict",
        )
        response.headers.update(SECURITY_HEADERS)
        return response

    # --- who am I -----------------------------------------------------------------------

    @web.get("/app/api/me")
    async def me(request: Request) -> Response:
        async def work(uow: UnitOfWork, caller: Caller, t: Texts) -> dict[str, Any]:
            person = caller.person
            destinations = await upload_destinations(uow, person.id or 0)
            names = []
            for org_id in destinations:
                org = await uow.organizations.get(org_id)
                names.append({"id": org_id, "name": org.name if org else "?"})
            return {
                "name": person.display_name,
                "language": t.language,
                "dir": "rtl" if t.language == "he" else "ltr",
                "texts": page_texts(t.language),
                "csrf": (
                    web_access.csrf_token(auth.master, caller.session)
                    if caller.session is not None
                    else None
                ),
                "organizations": names,
                "office": bool(await uow.offices.memberships(person.id or 0)),
            }

        return await answer(request, work)

    # --- upload -------------------------------------------------------------------------

    def too_big(limit: int) -> FileRejected:
        return FileRejected("file.too_big", limit_mb=limit // (1024 * 1024))

    async def body_of(request: Request) -> bytes:
        """The body, read as it comes and refused the moment it is over its limit: a ZIP's
        (it holds many files) or one file's, told by its first bytes."""
        chunks = bytearray()
        async for chunk in request.stream():
            chunks += chunk
            if len(chunks) > MAX_FILE_BYTES:
                limit = ZIP_MAX_BYTES if chunks.startswith(ZIP_MAGIC) else MAX_FILE_BYTES
                if len(chunks) > limit:
                    # Not read further, nothing written: the file is refused whole.
                    raise too_big(limit)
        return bytes(chunks)

    def over_limit(t: Texts, name: str, error: FileRejected) -> JSONResponse:
        """413, with the reason as the page shows it for any refused file."""
        result = refused(t, name, error.key, error.params)
        return JSONResponse(
            {"error": error.key, "message": result["reason"], "results": [result]},
            status_code=413,
        )

    # Uploads come fifty at a time near a deadline; each needs a database connection to
    # check who sends and to store. Admitted a few at a time, they leave the rest of the
    # pool, and the database's processors, to the clicks of an accountant filing meanwhile
    # (bench/web.py: behind fifty uploads a review action waited for a connection, then
    # ran among fifty busy statements).
    places = asyncio.Semaphore(max(1, 2 * settings.intake.downloads))

    @asynccontextmanager
    async def upload_place() -> AsyncIterator[Callable[[float], Awaitable[None]]]:
        """A place among the uploads admitted at once, and a way to wait without it."""
        await places.acquire()
        held = True

        async def wait_outside(seconds: float) -> None:
            nonlocal held
            places.release()
            held = False
            await asyncio.sleep(seconds)
            await places.acquire()  # cancelled here, it holds nothing: none released twice
            held = True

        try:
            yield wait_outside
        finally:
            if held:
                places.release()

    @web.post("/app/api/upload")
    async def upload(
        request: Request, name: str = "", upload_id: int = 0, org: int = 0
    ) -> Response:
        async with upload_place() as wait_outside:
            return await admitted_upload(request, name, upload_id, org, wait_outside)

    async def admitted_upload(
        request: Request,
        name: str,
        upload_id: int,
        org: int,
        wait_outside: Callable[[float], Awaitable[None]],
    ) -> Response:
        async def work(uow: UnitOfWork, caller: Caller, t: Texts) -> dict[str, Any] | Response:
            person = caller.person
            assert person.id is not None
            if org:
                if not await may(uow, person.id, Action.UPLOAD, org):
                    raise NotAllowed()
                organization_id = org
            else:
                destinations = await upload_destinations(uow, person.id)
                if len(destinations) != 1:
                    raise NotAllowed("web.choose_org" if destinations else "web.no_organization")
                organization_id = destinations[0]
            if not 0 < upload_id < 2**40:
                raise review.InvalidValue("web.bad_request")
            await uow.release()
            declared = request.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > ZIP_MAX_BYTES:
                return over_limit(t, name, too_big(ZIP_MAX_BYTES))  # before any waiting
            wait = gate.reserve(person.id)
            if wait > 0:  # a client over their pace waits without holding a place
                await wait_outside(wait)  # before the body is read: nothing held meanwhile
            # The slot before the body: only so many uploads are in memory at once.
            async with gate.slot():
                try:
                    data = await body_of(request)
                except FileRejected as error:
                    return over_limit(t, name, error)
                results = await store(
                    uow, request, person, organization_id, t, name, upload_id, data
                )
            return {"results": results}

        return await answer(request, work)

    async def store(
        uow: UnitOfWork,
        request: Request,
        person: Person,
        organization_id: int,
        t: Texts,
        name: str,
        upload_id: int,
        data: bytes,
    ) -> list[dict[str, Any]]:
        """The files of one upload (one, or a ZIP's) through the chat's intake use case."""
        parts: list[MailPart]
        kind = kind_of(data)  # what the bytes are; a browser's claim is often empty
        if kind == "application/zip":
            parts = await asyncio.to_thread(zip_parts, name or None, data)
        else:
            declared = request.headers.get("Content-Type", "")
            parts = [MailPart(name or None, kind or declared, data)]
        results = []
        batch = intake.new_batch()
        for index, part in enumerate(parts[:100]):
            if part.refused is not None:
                results.append(refused(t, part.name or name, part.refused, {}))
                continue
            item = intake.Upload(
                platform=PLATFORM,
                chat_id=person.id or 0,
                # The browser's own id for this file: sent again, it is not stored twice.
                message_id=upload_id * 100 + index,
                file_id=f"web:{upload_id}:{index}",
                file_unique_id=None,
                file_size=len(part.data),
                mime_type=part.mime_type or None,
                file_name=part.name,
            )
            received = await intake.receive(
                uow,
                app.files,
                person=person,
                organization_id=organization_id,
                upload=item,
                data=part.data,
                batch=batch,
                now=app.clock.now(),
            )
            results.append(result_of(t, part.name or name, received))
        return results

    def refused(t: Texts, name: str, key: str, params: dict[str, object]) -> dict[str, Any]:
        try:
            reason = t(key, **params)
        except (KeyError, IndexError):
            reason = t("file.unsupported")
        return {"name": name, "outcome": "refused", "reason": reason}

    def result_of(t: Texts, name: str, received: intake.Received) -> dict[str, Any]:
        if received.outcome is intake.ReceiveOutcome.REFUSED:
            return refused(t, name, received.reason or "file.unsupported", received.params)
        document = received.document
        assert document is not None
        outcome = received.outcome.value
        if outcome == "already_have":
            outcome = "duplicate" if document.state is DocumentState.DUPLICATE else "stored"
        text = t(f"web.outcome_{outcome}", id=number_of(document))
        if received.duplicate_of is not None:
            text = t("web.outcome_duplicate", id=number_of(received.duplicate_of))
        return {"name": name, "outcome": outcome, "document": document.id, "text": text}

    @web.get("/app/api/documents")
    async def documents(request: Request, ids: str = "") -> Response:
        async def work(uow: UnitOfWork, caller: Caller, t: Texts) -> dict[str, Any]:
            found = []
            for raw in ids.split(",")[:100]:
                if not raw.isdigit():
                    continue
                document = await uow.documents.get(int(raw))
                if document is None or document.uploaded_by != caller.person.id:
                    continue  # someone else's: as if it were not there
                found.append(reading_of(t, document))
            return {"documents": found}

        return await answer(request, work)

    def reading_of(t: Texts, document: Document) -> dict[str, Any]:
        currency = (document.fields.get("currency") or {}).get("value")
        shown = []
        for name in ("vendor_name", "date", "total"):
            field = document.fields.get(name)
            if isinstance(field, dict) and field.get("value") is not None:
                shown.append(f"{t(f'field.{name}')}: {field_value(t, name, field, currency)}")
        return {
            "id": document.id,
            "state": document.state.value,
            "state_text": t(f"state.{document.state.value}"),
            "read": document.state is not DocumentState.RECEIVED,
            "summary": " · ".join(shown),
        }

    # --- review -------------------------------------------------------------------------

    @web.get("/app/api/review/queue")
    async def queue(request: Request, org: int = 0) -> Response:
        async def work(uow: UnitOfWork, caller: Caller, t: Texts) -> dict[str, Any]:
            pid = caller.person.id or 0
            rows = await review.to_file_report(uow, pid)
            organizations = [
                {"id": r.organization_id, "name": r.name, "to_file": r.to_file} for r in rows
            ]
            listed: list[dict[str, Any]] = []
            chosen = org or next((r.organization_id for r in rows if r.to_file), 0)
            if chosen:
                # One query (the screen reloads it whenever the stamp changes).
                for document in await review.queue(uow, pid, chosen, QUEUE_LIMIT):
                    listed.append(
                        {
                            "id": document.id,
                            "number": number_of(document),
                            "summary": reading_of(t, document)["summary"],
                        }
                    )
            return {
                "organizations": organizations,
                "organization": chosen,
                "documents": listed,
                "stamp": stamp_of(rows),
            }

        return await answer(request, work)

    @web.get("/app/api/review/stamp")
    async def stamp(request: Request) -> Response:
        """What the screen polls: one grouped query; when the stamp changed (a document came,
        was filed elsewhere, or a client answered a return in the chat) it reloads the queue."""

        async def work(uow: UnitOfWork, caller: Caller, t: Texts) -> dict[str, Any]:
            return {"stamp": stamp_of(await review.to_file_report(uow, caller.person.id or 0))}

        return await answer(request, work)

    @web.get("/app/api/review/documents/{document_id}")
    async def card(request: Request, document_id: int) -> Response:
        async def work(uow: UnitOfWork, caller: Caller, t: Texts) -> dict[str, Any]:
            pid = caller.person.id or 0
            # Both in one statement; the check below finds the document loaded.
            _, org = await uow.documents.with_organization(document_id)
            if not await may_on_document(uow, pid, Action.REVIEW, document_id):
                raise NotAllowed()
            document = await uow.documents.get(document_id)
            assert document is not None
            suggested = await review.suggested_category(uow, document)
            pages = await page_list(uow, document_id)
            return card_of(t, document, org.name if org else "?", suggested, len(pages))

        return await answer(request, work)

    def card_of(
        t: Texts, document: Document, org: str, suggested: str | None, pages: int | None
    ) -> dict[str, Any]:
        currency = (document.fields.get("currency") or {}).get("value")
        fields = []
        for name in review.EDITABLE:
            field = document.fields.get(name)
            value = field.get("value") if isinstance(field, dict) else None
            confidence = float(field.get("confidence") or 0) if isinstance(field, dict) else 0
            fields.append(
                {
                    "name": name,
                    "label": t(f"field.{name}"),
                    "value": "" if value is None else str(value),
                    "shown": field_value(t, name, field, currency)
                    if isinstance(field, dict)
                    else "",
                    "doubtful": value is not None and confidence < UNSURE_BELOW,
                    "missing": value is None,
                }
            )
        chosen = document.category
        return {
            "id": document.id,
            "number": number_of(document),
            "organization": org,
            "organization_id": document.organization_id,
            "version": document.version,
            "state": document.state.value,
            "open": document.state in review.REVIEW_STATES,
            "state_text": t(f"state.{document.state.value}"),
            "kind": t(f"kind.{document.kind}"),
            "fields": fields,
            "category": chosen,
            "suggested": suggested,
            "categories": choices(t.language, "category", CATEGORIES),
            "reasons": choices(t.language, "return", review.RETURN_REASONS),
            "pages": pages,
        }

    async def page_list(uow: UnitOfWork, document_id: int) -> list[tuple[str, str, int]]:
        """(sha256, mime, page) for each picture of the document, PDFs page by page."""
        shown: list[tuple[str, str, int]] = []
        stored_files = await uow.documents.files(document_id)
        await uow.release_if_clean()  # files are read with no transaction (nor lock) held
        for stored in stored_files:
            if stored.mime_type == "application/pdf":
                data = await app.files.get(stored.sha256)
                count = await asyncio.to_thread(pdf_pages, data)
                shown += [(stored.sha256, stored.mime_type, p) for p in range(count)]
            else:
                shown.append((stored.sha256, stored.mime_type, 0))
        return shown[: PDF_PAGES_SHOWN * 2]

    @web.get("/app/api/review/documents/{document_id}/pages/{page}")
    async def picture(request: Request, document_id: int, page: int) -> Response:
        async def work(uow: UnitOfWork, caller: Caller, t: Texts) -> Response:
            if not await may_on_document(uow, caller.person.id or 0, Action.REVIEW, document_id):
                raise NotAllowed()
            pages = await page_list(uow, document_id)
            if not 0 <= page < len(pages):
                raise NotFound()
            sha256, mime, number = pages[page]
            data = await app.files.get(sha256)
            jpeg = await asyncio.to_thread(render_picture, data, mime, number)
            return Response(
                jpeg,
                media_type="image/jpeg",
                # The bytes of a stored file never change; only this person may see them.
                headers={"Cache-Control": "private, max-age=3600"},
            )

        return await answer(request, work)

    async def act(
        request: Request,
        document_id: int,
        action: Callable[[UnitOfWork, Caller, dict[str, Any]], Awaitable[Document]],
    ) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("version"), int):
            return JSONResponse({"error": "web.bad_request"}, status_code=400)

        async def work(uow: UnitOfWork, caller: Caller, t: Texts) -> dict[str, Any]:
            # The card's organization read with the document in the action's own transaction
            # (the action finds the document loaded): after its commit nothing is read again
            # to answer, unless the suggestion must be worked out anew.
            _, org = await uow.documents.with_organization(document_id)
            document = await action(uow, caller, body)
            if org is None or org.id != document.organization_id:
                org = await uow.organizations.get(document.organization_id or 0)
            suggested = await review.suggested_category(uow, document)
            # The pages did not change: the screen keeps the count it has (one query less).
            return card_of(t, document, org.name if org else "?", suggested, None)

        return await answer(request, work)

    @web.post("/app/api/review/documents/{document_id}/approve")
    async def approve(request: Request, document_id: int) -> Response:
        async def action(uow: UnitOfWork, caller: Caller, body: dict[str, Any]) -> Document:
            return await review.approve(
                uow, caller.person.id or 0, document_id, body["version"], app.clock.now()
            )

        return await act(request, document_id, action)

    @web.post("/app/api/review/documents/{document_id}/field")
    async def edit(request: Request, document_id: int) -> Response:
        async def action(uow: UnitOfWork, caller: Caller, body: dict[str, Any]) -> Document:
            field, value = str(body.get("field", "")), str(body.get("value", ""))[:200]
            if field not in review.EDITABLE:
                raise review.InvalidValue("web.bad_request")
            return await review.edit_field(
                uow,
                caller.person.id or 0,
                document_id,
                body["version"],
                field,
                value,
                app.clock.now(),
            )

        return await act(request, document_id, action)

    @web.post("/app/api/review/documents/{document_id}/category")
    async def category(request: Request, document_id: int) -> Response:
        async def action(uow: UnitOfWork, caller: Caller, body: dict[str, Any]) -> Document:
            return await review.choose_category(
                uow,
                caller.person.id or 0,
                document_id,
                body["version"],
                str(body.get("category", "")),
                app.clock.now(),
            )

        return await act(request, document_id, action)

    @web.post("/app/api/review/documents/{document_id}/return")
    async def give_back(request: Request, document_id: int) -> Response:
        async def action(uow: UnitOfWork, caller: Caller, body: dict[str, Any]) -> Document:
            note = body.get("note")
            document = await review.return_to_client(
                uow,
                caller.person.id or 0,
                document_id,
                body["version"],
                str(body.get("reason", "")),
                str(note) if note else None,
                app.clock.now(),
            )
            # The client hears it in their chat, as when the card's button returns it.
            try:
                await notify_client(
                    app.bot,
                    uow,
                    app.files,
                    document,
                    app.dispatcher.workflow_data.get("mailer"),
                    app.dispatcher.workflow_data["handler_settings"],
                    app.outbox,
                )
            except Exception:
                log.exception("document %s returned, the client not told", document_id)
            return document

        return await act(request, document_id, action)


@functools.cache
def choices(language: str, kind: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    """A card's categories or return reasons with their labels: the same on every card of
    a language (read, never changed, by the JSON answer)."""
    t = Texts(language)
    return [{"key": k, "label": t(f"{kind}.{k}")} for k in keys]


def stamp_of(rows: list[ReportRow]) -> str:
    counts = sorted(
        (r.organization_id, r.to_file, r.returned, r.oldest.isoformat() if r.oldest else "")
        for r in rows
    )
    return hashlib.sha256(repr(counts).encode()).hexdigest()[:16]


def pdf_pages(data: bytes) -> int:
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        return 0
    try:
        return min(len(pdf), PDF_PAGES_SHOWN)
    finally:
        pdf.close()


def render_picture(data: bytes, mime: str, page: int) -> bytes:
    """One page as a JPEG no wider than PAGE_WIDTH: a PDF page rendered, a picture upright."""
    if mime == "application/pdf":
        pdf = pypdfium2.PdfDocument(data)
        try:
            sheet = pdf[page]
            width = sheet.get_width() or 1
            image = sheet.render(scale=min(4.0, PAGE_WIDTH / width)).to_pil()
        finally:
            pdf.close()
    else:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        image.thumbnail((PAGE_WIDTH, PAGE_WIDTH * 2))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def new_upload_id() -> int:
    return secrets.randbelow(2**40 - 1) + 1
