"""The clients' documents and the database are readable by the bot's user only: folders
0700, files 0600, from the moment they are created."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from storage import migrate
from storage.database import create_engine
from storage.files import DiskFileStore
from storage.orm import start_mappers
from tests import images


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    start_mappers()
    database = tmp_path / "data" / "deeper" / "tayuk.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE probe (x INTEGER)"))
            await conn.execute(text("INSERT INTO probe VALUES (1)"))
        made = [database, database.with_name("tayuk.db-wal"), database.with_name("tayuk.db-shm")]
        print({p.name: oct(mode(p)) for p in made if p.exists()})
        for path in made:
            if path.exists():
                assert mode(path) == 0o600, path
        assert database.with_name("tayuk.db-wal").exists()
        for folder in (tmp_path / "data", tmp_path / "data" / "deeper"):
            assert mode(folder) == 0o700, folder
    finally:
        await engine.dispose()


async def test_stored_files_and_every_folder_above_them_are_private(tmp_path: Path) -> None:
    store = DiskFileStore(tmp_path / "data" / "files")
    sha256 = await store.put(images.jpeg())
    path = store.path(sha256)
    assert mode(path) == 0o600
    folder = path.parent
    while folder != tmp_path:
        assert mode(folder) == 0o700, folder
        folder = folder.parent
    store.check_writable()  # and the readiness probe leaves nothing behind
    assert [p.name for p in store.root.iterdir() if p.name.startswith(".")] == []
