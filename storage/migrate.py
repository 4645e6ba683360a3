"""Schema migrations, run programmatically (the bot migrates on start).

Alembic is imported only when there is something to migrate: a process that starts on a
database already at the head (every replica but the first, every worker) checks the one
version row against the scripts' head and never loads it (about 11 MB a process, issue 16).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision(?:\s*:[^=]+)?\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$", re.MULTILINE)


def script_heads() -> set[str]:
    """The scripts' head revisions, read off their text (what alembic would find, without
    importing it); empty when a script is not in the expected form."""
    revisions: set[str] = set()
    below: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text("utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return set()
        revisions.add(revision.group(1))
        below.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return revisions - below


async def at_head(engine: AsyncEngine) -> bool:
    """The database is at the scripts' one head already: nothing to migrate."""
    heads = script_heads()
    if len(heads) != 1:
        return False
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:  # no version table: a new database
        return False
    return [row[0] for row in versions] == list(heads)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    if revision == "head" and await at_head(engine):
        return
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def autogenerate(engine: AsyncEngine, message: str) -> None:
    """For developers: write a new revision from the difference to `storage.tables`."""
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(
            lambda sync: command.revision(alembic_config(sync), message=message, autogenerate=True)
        )
