"""Operator commands: move files between stores, back up and restore a SQLite install."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import tarfile
import tempfile
import time
from pathlib import Path

from sqlalchemy import make_url

from bot.file_stores import store_of
from bot.settings import Settings
from storage.files import DiskFileStore, copy_files, make_private_dir

BACKUP_FORMAT = 1


async def migrate_files(settings: Settings, to: str) -> tuple[int, int]:
    """Copies every file of the other store into `to`; safe to run again, and while the bot
    runs (run it with TAYUK_FILES_BACKEND=`to` and TAYUK_FILES_FALLBACK=the old store)."""
    source_kind = "disk" if to == "s3" else "s3"
    source = store_of(source_kind, settings.files, settings.files_dir)
    target = store_of(to, settings.files, settings.files_dir)
    try:
        return await copy_files(source, target)
    finally:
        await source.close()
        await target.close()


def sqlite_path(settings: Settings) -> Path:
    url = make_url(settings.database.url)
    if not url.drivername.startswith("sqlite") or not url.database:
        raise SystemExit(
            "tayuk backup/restore is for SQLite installs. For PostgreSQL use pg_dump / "
            "pg_restore; for S3 files the store's own tools (see deploy/README.md)."
        )
    return Path(url.database)


def backup(settings: Settings, out: Path) -> dict[str, int]:
    """One archive with a consistent copy of the database (SQLite's online backup: the bot
    may keep running) and the files folder. Files are content-addressed and never
    changed, so the ones the copied database names are all there when copied after it."""
    database = sqlite_path(settings)
    if not database.exists():
        raise SystemExit(f"no database at {database}")
    make_private_dir(out.parent)
    counts = {"files": 0, "database_bytes": 0}
    with tempfile.TemporaryDirectory(prefix="tayuk-backup-") as scratch:
        copy = Path(scratch) / "tayuk.db"
        source = sqlite3.connect(database)
        target = sqlite3.connect(copy)
        try:
            with target:
                source.backup(target)
        finally:
            source.close()
            target.close()
        counts["database_bytes"] = copy.stat().st_size
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(copy, arcname="tayuk.db")
            files = DiskFileStore(settings.files_dir)
            if settings.files_dir.exists():
                for path in sorted(settings.files_dir.glob("??/??/*")):
                    if path.is_file() and not path.name.startswith("."):
                        archive.add(path, arcname=f"files/{path.relative_to(files.root)}")
                        counts["files"] += 1
            manifest = json.dumps({"format": BACKUP_FORMAT, "made_at": time.time(), **counts})
            info = tarfile.TarInfo("manifest.json")
            info.size = len(manifest.encode())
            archive.addfile(info, io.BytesIO(manifest.encode()))
        partial.chmod(0o600)
        partial.replace(out)  # a half-written archive never has the final name
    return counts


def restore(settings: Settings, archive_path: Path, *, force: bool = False) -> dict[str, int]:
    """Puts a backup's database and files in place. Stop the bot first."""
    database = sqlite_path(settings)
    if database.exists() and not force:
        raise SystemExit(f"{database} exists: restore over it with --force (bot stopped)")
    counts = {"files": 0}
    with tarfile.open(archive_path, "r:gz") as archive:
        member = archive.extractfile("manifest.json")
        if member is None or json.load(member).get("format") != BACKUP_FORMAT:
            raise SystemExit(f"{archive_path} is not a Tayuk backup")
        make_private_dir(database.parent)
        make_private_dir(settings.files_dir)
        for item in archive.getmembers():
            if item.name.startswith("files/") and item.isfile():
                relative = Path(item.name).relative_to("files")
                target = settings.files_dir / relative
                if not target.resolve().is_relative_to(settings.files_dir.resolve()):
                    raise SystemExit(f"unsafe path in the archive: {item.name}")
                make_private_dir(target.parent)
                source = archive.extractfile(item)
                assert source is not None
                target.write_bytes(source.read())
                target.chmod(0o600)
                counts["files"] += 1
        db = archive.extractfile("tayuk.db")
        assert db is not None
        incoming = database.with_name(database.name + ".restoring")
        incoming.write_bytes(db.read())
        incoming.chmod(0o600)
        for suffix in ("-wal", "-shm"):  # the old database's journal must not be replayed
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        incoming.replace(database)
    return counts


def run_files_migrate(settings: Settings, to: str) -> int:
    copied, present = asyncio.run(migrate_files(settings, to))
    print(f"copied {copied} files to {to}; {present} were there already")
    return 0
