from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import bot  # noqa: F401  (aiogram the lean way, before a test module imports handlers)
from storage import migrate
from storage.database import create_engine, session_factory
from storage.files import DiskFileStore
from storage.orm import start_mappers
from storage.uow import SqlUnitOfWorkFactory
from tests.counts import assert_counts_fresh
from tests.support.scratch import empty_postgres, for_this_test_process

_POSTGRES = os.environ.get("TAYUK_TEST_DATABASE_URL")
# Each pytest-xdist worker empties and fills a database of its own.
POSTGRES_URL = for_this_test_process(_POSTGRES) if _POSTGRES else None


def database_params() -> list[object]:
    params: list[object] = [pytest.param("sqlite", id="sqlite")]
    params.append(
        pytest.param(
            "postgres",
            id="postgres",
            marks=pytest.mark.skipif(
                not POSTGRES_URL,
                reason="TAYUK_TEST_DATABASE_URL is not set (CI points it at PostgreSQL)",
            ),
        )
    )
    return params


async def fresh_database_url(kind: str, tmp_path: Path) -> str:
    if kind == "postgres":
        assert POSTGRES_URL
        await empty_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'tayuk.db'}"


@pytest.fixture(params=database_params())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await fresh_database_url(request.param, tmp_path)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    start_mappers()
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def uow_factory(engine: AsyncEngine) -> AsyncIterator[SqlUnitOfWorkFactory]:
    factory = SqlUnitOfWorkFactory(session_factory(engine))
    yield factory
    # Whatever the test did to documents, the /tofile counters still equal a fresh count.
    await assert_counts_fresh(factory)


@pytest.fixture
def files(tmp_path: Path) -> DiskFileStore:
    return DiskFileStore(tmp_path / "files")
