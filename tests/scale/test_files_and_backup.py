"""Files in S3 (a real S3 server over HTTP: moto's), moving stores without downtime, and
a SQLite install's backup and restore, all through the `tayuk` command."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sqlite3
from pathlib import Path

import pytest

from bench.cluster import make_bucket
from bot.cli import main
from bot.file_stores import build_file_store
from bot.settings import Settings
from storage.files import DiskFileStore, FallbackFileStore
from storage.object_store import S3FileStore

BUCKET = "tayuk-files"


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite install's settings in the environment, as `tayuk` reads them."""
    data = tmp_path / "data"
    monkeypatch.setenv("TAYUK_DATA_DIR", str(data))
    monkeypatch.setenv("TAYUK_DATABASE_URL", f"sqlite+aiosqlite:///{data / 'tayuk.db'}")
    monkeypatch.setenv("TAYUK_TELEGRAM_BOT_USERNAME", "tayuk_test_bot")
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    return data


@pytest.fixture
def s3_env(s3_endpoint: str, install: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in {
        "TAYUK_FILES_S3_BUCKET": BUCKET,
        "TAYUK_FILES_S3_ENDPOINT_URL": s3_endpoint,
        "TAYUK_FILES_S3_REGION": "il-central-1",
        "TAYUK_FILES_S3_ACCESS_KEY_ID": "tayuk",
        "TAYUK_FILES_S3_SECRET_ACCESS_KEY": "a-secret-key",
    }.items():
        monkeypatch.setenv(name, value)
    return install


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_files_move_from_disk_to_s3_and_back_while_the_bot_reads_them(
    s3_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = [f"receipt {n}".encode() for n in range(3)]
    disk = DiskFileStore(s3_env / "files")
    names = [asyncio.run(disk.put(data)) for data in old]

    async def while_moving() -> tuple[str, bytes]:
        monkeypatch.setenv("TAYUK_FILES_BACKEND", "s3")
        monkeypatch.setenv("TAYUK_FILES_FALLBACK", "disk")
        store = build_file_store(settings())
        assert isinstance(store, FallbackFileStore) and isinstance(store.new, S3FileStore)
        try:
            await make_bucket(store.new)
            await store.ready()
            # Reads of the old files fall back to the disk; new files go to S3 only.
            assert [await store.get(n) for n in names] == old
            new = await store.put(b"a new receipt")
            assert new == hashlib.sha256(b"a new receipt").hexdigest()
            assert not disk.exists(new) and await store.new.has(new)
            assert await store.new.encryption_of(new) == "AES256"  # encrypted at rest
            with pytest.raises(FileNotFoundError):
                await store.get("0" * 64)
            return new, await store.new.get(new)
        finally:
            await store.close()

    new, kept = asyncio.run(while_moving())
    assert kept == b"a new receipt"
    assert main(["files", "migrate", "--to", "s3"]) == 0
    assert main(["files", "migrate", "--to", "s3"]) == 0  # again: nothing left to copy

    async def after_moving() -> list[str]:
        monkeypatch.setenv("TAYUK_FILES_FALLBACK", "none")
        store = build_file_store(settings())
        assert isinstance(store, S3FileStore)
        try:
            assert [await store.get(n) for n in names] == old
            return sorted([name async for name in store.names()])
        finally:
            await store.close()

    assert asyncio.run(after_moving()) == sorted([*names, new])
    # And back: the file that only S3 had comes to the disk.
    assert main(["files", "migrate", "--to", "disk"]) == 0
    assert disk.path(new).read_bytes() == b"a new receipt"


async def test_a_file_is_written_with_one_request_encrypted(
    s3_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Content-addressed: no HEAD before the PUT (issue 16, a replica's CPU per document);
    the same file written again is one more PUT of the same object, nothing else."""
    store = S3FileStore(
        BUCKET,
        endpoint_url=s3_endpoint,
        region="il-central-1",
        access_key_id="tayuk",
        secret_access_key="a-secret-key",
    )
    try:
        await make_bucket(store)
        # The S3 server's own log of the requests it answered (werkzeug's, a line each).
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            name = await store.put(b"a receipt")
            again = await store.put(b"a receipt")
        asked = [re.findall(r"\b(GET|HEAD|PUT|POST) /", r.getMessage()) for r in caplog.records]
        assert asked == [["PUT"], ["PUT"]]
        assert name == again == hashlib.sha256(b"a receipt").hexdigest()
        assert await store.get(name) == b"a receipt"
        assert await store.encryption_of(name) == "AES256"
        assert await store.has(name) and not await store.has("0" * 64)
        assert [n async for n in store.names()] == [name]
    finally:
        await store.close()


def test_a_sqlite_install_is_backed_up_and_restored_whole(install: Path, tmp_path: Path) -> None:
    assert main(["office", "create", "--name", "Cohen CPA"]) == 0
    disk = DiskFileStore(install / "files")
    names = [asyncio.run(disk.put(f"receipt {n}".encode())) for n in range(3)]
    archive = tmp_path / "backups" / "tayuk.tar.gz"
    assert main(["backup", "--out", str(archive)]) == 0
    assert archive.stat().st_mode & 0o077 == 0  # the clients' documents: owner only
    # The machine is lost; a new one gets the archive.
    database = install / "tayuk.db"
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM office_members")
        conn.execute("DELETE FROM invites")
        conn.execute("DELETE FROM offices")
    for name in names:
        disk.path(name).unlink()
    with pytest.raises(SystemExit, match="--force"):
        main(["restore", str(archive)])
    assert main(["restore", str(archive), "--force"]) == 0
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT name FROM offices").fetchall() == [("Cohen CPA",)]
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert [disk.path(n).read_bytes() for n in names] == [
        f"receipt {n}".encode() for n in range(3)
    ]
    # The restored install runs: migrations see their head, the CLI works on it.
    assert main(["db", "current"]) == 0
