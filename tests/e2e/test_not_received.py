"""When a file cannot be kept (the files folder broken, the download cut), the client hears
that it was NOT received and is asked to send it again; readiness says so too."""

from __future__ import annotations

import shutil

import httpx
from sqlalchemy import func, select

from bot.web import build_web
from local_api.client import TgUser
from storage import tables
from tests import images
from tests.e2e.harness import Harness

JOHN = TgUser(id=6_000_000_301, first_name="John", language_code="en")
DANA = TgUser(id=6_000_000_302, first_name="Dana", language_code="he")


async def stored_documents(harness: Harness) -> int:
    async with harness.app.uow_factory() as uow:
        assert uow.session is not None
        return int(await uow.session.scalar(select(func.count()).select_from(tables.documents)))


async def ready(harness: Harness) -> tuple[int, str]:
    transport = httpx.ASGITransport(app=build_web(harness.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://tayuk") as client:
        answer = await client.get("/health/ready")
    return answer.status_code, answer.json()["status"]


async def test_a_broken_files_folder_is_told_honestly_and_fails_readiness(
    harness: Harness,
) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(JOHN, org_id)
    await harness.join(DANA, org_id)
    assert await ready(harness) == (200, "ok")
    # A file where the folder should be: every write below it fails, as on a read-only or
    # broken disk (the tests run as root, so permissions alone would not stop a write).
    root = harness.app.files.root
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_bytes(b"not a folder")
    reply = await harness.after(JOHN, harness.api.send_photo(JOHN, images.jpeg()))
    assert "was not received" in (reply.text or "") and "send it again" in (reply.text or "")
    assert "safe" not in (reply.text or "")
    hebrew = await harness.after(DANA, harness.api.send_photo(DANA, images.png()))
    assert "לא התקבל" in (hebrew.text or "")
    assert await stored_documents(harness) == 0
    assert await ready(harness) == (503, "files not writable")
    # Mended, the same photo is received.
    root.unlink()
    assert await ready(harness) == (200, "ok")
    again = await harness.after(JOHN, harness.api.send_photo(JOHN, images.jpeg()))
    assert "Received ✓" in (again.text or "")
    assert await stored_documents(harness) == 1


async def test_a_cut_download_asks_for_the_file_again(harness: Harness) -> None:
    _, org_id = await harness.office_and_org()
    await harness.join(JOHN, org_id)
    await harness.api.fail_next("download", error_code=502, description="Bad Gateway")
    reply = await harness.after(JOHN, harness.api.send_photo(JOHN, images.jpeg()))
    assert "could not download" in (reply.text or "") and "again" in (reply.text or "")
    assert await stored_documents(harness) == 0
    again = await harness.after(JOHN, harness.api.send_photo(JOHN, images.jpeg()))
    assert "Received ✓" in (again.text or "")
