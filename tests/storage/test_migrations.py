from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from asyncio.subprocess import PIPE
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, bindparam, inspect, select, text

from storage import migrate, tables
from storage.database import create_engine
from storage.tables import metadata

ROOT = Path(__file__).resolve().parents[2]


async def test_an_empty_database_upgrades_to_head_and_back_down(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(metadata.tables) <= tables
        assert await migrate.current(engine) is not None
        await migrate.downgrade(engine, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables <= {"alembic_version"}
    finally:
        await engine.dispose()


async def test_migrations_match_the_table_definitions(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()


def test_the_heads_read_off_the_scripts_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert migrate.script_heads() == set(heads) and len(heads) == 1


async def test_a_process_starting_on_a_migrated_database_never_loads_alembic(
    database_url: str,
) -> None:
    """Every replica but the first and every worker start on a database at the head: they
    check its version and do not import alembic (about 11 MB each, issue 16)."""
    engine = create_engine(database_url)
    try:
        assert not await migrate.at_head(engine)  # a new database
        await migrate.upgrade(engine)
        assert await migrate.at_head(engine)
    finally:
        await engine.dispose()
    code = textwrap.dedent(
        f"""
        import asyncio, sys
        import bot.cli  # the command a replica runs, as it starts
        from storage import migrate
        from storage.database import create_engine

        async def main():
            engine = create_engine({database_url!r})
            await migrate.upgrade(engine)
            await engine.dispose()

        asyncio.run(main())
        print(sorted(m for m in sys.modules if m.split(".")[0] == "alembic"))
        """
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, cwd=ROOT, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, err.decode()[-2000:]
    assert out.decode().strip() == "[]"


def test_every_migration_file_is_named_in_order() -> None:
    versions = Path(migrate.MIGRATIONS / "versions")
    names = sorted(p.name for p in versions.glob("*.py"))
    assert names and all(name[:4].isdigit() for name in names)


async def test_0008_numbers_existing_documents_per_organization(database_url: str) -> None:
    """Documents from before 0008 get numbers in the order they came, per organization."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0004")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO people (id, display_name, language, reachable, created_at)"
                    " VALUES (1, 'Dana', 'he', true, CURRENT_TIMESTAMP)"
                )
            )
            for org in (1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO organizations (id, name, vat_frequency, created_at)"
                        f" VALUES ({org}, 'Org {org}', 'monthly', CURRENT_TIMESTAMP)"
                    )
                )
            for doc, org in ((1, 1), (2, 2), (3, 1), (4, None), (5, 1)):
                await conn.execute(
                    text(
                        "INSERT INTO documents (id, organization_id, uploaded_by, batch,"
                        " source_platform, source_chat_id, source_message_id, direction, kind,"
                        " state, fields, version, created_at, updated_at) VALUES"
                        f" ({doc}, {org if org else 'NULL'}, 1, 'b{doc}', 'telegram', 1, {doc},"
                        " 'expense', 'unknown', 'received', '{}', 1, CURRENT_TIMESTAMP,"
                        " CURRENT_TIMESTAMP)"
                    )
                )
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            numbers = (await conn.execute(text("SELECT id, number FROM documents"))).all()
            last = (
                await conn.execute(text("SELECT id, last_document_number FROM organizations"))
            ).all()
        assert sorted(numbers) == [(1, 1), (2, 1), (3, 2), (4, None), (5, 3)]
        assert sorted(last) == [(1, 3), (2, 1)]
    finally:
        await engine.dispose()


async def test_0012_moves_return_answers_and_category_out_of_the_json_and_back(
    database_url: str,
) -> None:
    """The JSON's magic keys become columns on the way up and come back on the way down."""
    answer = {"kind": "text", "text": "the parking", "by": 1, "at": "2026-11-25T08:00:00+00:00"}
    before = {
        1: {"total": {"value": "5"}, "_category": "fuel"},
        2: {
            "_return": {
                "reason": "unreadable",
                "note": "blurry",
                "by": 1,
                "at": "2026-11-24T10:00:00+00:00",
            },
            "_answers": [answer],
            "_answered": True,
        },
        3: {"_return": {"reason": "unreadable", "note": None, "problem": "blank", "auto": True}},
        4: {},
    }
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0011")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO people (id, display_name, language, reachable, created_at)"
                    " VALUES (1, 'Dana', 'he', true, CURRENT_TIMESTAMP)"
                )
            )
            for doc, fields in before.items():
                await conn.execute(
                    text(
                        "INSERT INTO documents (id, uploaded_by, batch, source_platform,"
                        " source_chat_id, source_message_id, direction, kind, state, fields,"
                        " version, created_at, updated_at) VALUES (:id, 1, 'b', 'telegram', 1,"
                        " :message, 'expense', 'unknown', 'returned', :fields, 1,"
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ).bindparams(bindparam("fields", type_=JSON)),
                    {"id": doc, "message": doc, "fields": fields},
                )
        await migrate.upgrade(engine, "0012")
        async with engine.connect() as conn:
            rows = {
                row.id: row
                for row in await conn.execute(
                    select(
                        tables.documents.c.id,
                        tables.documents.c.fields,
                        tables.documents.c.category,
                        tables.documents.c.return_reason,
                        tables.documents.c.return_note,
                        tables.documents.c.returned_by,
                        tables.documents.c.returned_at,
                        tables.documents.c.return_problem,
                        tables.documents.c.return_auto,
                        tables.documents.c.answers,
                        tables.documents.c.answered,
                    )
                )
            }
        assert rows[1].fields == {"total": {"value": "5"}} and rows[1].category == "fuel"
        assert not rows[1].answered and rows[1].answers == [] and rows[1].return_reason is None
        assert rows[2].fields == {} and rows[2].answered is True
        assert (rows[2].return_reason, rows[2].return_note, rows[2].returned_by) == (
            "unreadable",
            "blurry",
            1,
        )
        assert rows[2].returned_at == datetime(2026, 11, 24, 10, tzinfo=UTC)
        assert [a.text for a in rows[2].answers] == ["the parking"]
        assert (rows[3].return_problem, rows[3].return_auto) == ("blank", True)
        assert rows[4].fields == {} and rows[4].category is None

        await migrate.downgrade(engine, "0011")
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT id, fields FROM documents"))).all()
        after = {doc: json.loads(f) if isinstance(f, str) else f for doc, f in found}
        assert after == before
    finally:
        await engine.dispose()
