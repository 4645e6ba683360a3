"""`tayuk export` writes the file and records the export, run as its own process."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from storage import migrate
from storage.database import create_engine, session_factory
from storage.orm import start_mappers
from storage.uow import SqlUnitOfWorkFactory
from tests import scenario
from tests.books.factory import filed


async def _prepare(url: str) -> int:
    start_mappers()
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
        office = await scenario.office(uow_factory)
        org = await scenario.organization(uow_factory, office.id or 0)
        person = await scenario.person(uow_factory, 1)
        document = filed(0, "1180", "180", number="1001")
        document.id = None
        document.organization_id = org.id
        document.uploaded_by = person.id or 0
        document.created_at = datetime(2026, 11, 6, tzinfo=UTC)
        async with uow_factory() as uow:
            await uow.documents.add(document)
            await uow.commit()
        return org.id or 0
    finally:
        await engine.dispose()


async def _exports(url: str, org_id: int) -> list[tuple[str, int, int | None]]:
    engine = create_engine(url)
    try:
        async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
            made = await uow.books.exports_for(org_id, "2026-11")
            return [(r.format.value, r.document_count, r.created_by) for r in made]
    finally:
        await engine.dispose()


def test_tayuk_export_writes_the_period(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tayuk.db'}"
    org_id = asyncio.run(_prepare(url))
    out = tmp_path / "out.csv"
    env = os.environ | {"TAYUK_DATABASE_URL": url, "TAYUK_DATA_DIR": str(tmp_path / "var")}
    command = [sys.executable, "-m", "bot.cli", "export", "--org", str(org_id), "--period",
               "2026-11", "--format", "csv", "--out", str(out), "--lang", "en"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 documents" in done.stdout
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:3] == ["Document", "Date", "Number"] and rows[1][2] == "1001"
    assert asyncio.run(_exports(url, org_id)) == [("csv", 1, None)]
