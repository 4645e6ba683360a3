"""Alembic environment. Migrations run on a connection handed over by `storage.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from storage.tables import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `tayuk db upgrade` (storage.migrate)")
run_migrations(connection)
