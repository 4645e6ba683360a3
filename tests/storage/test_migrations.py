from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from storage import migrate
from storage.database import create_engine
from storage.tables import metadata


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
