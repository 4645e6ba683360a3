"""a partial index over the documents still waiting for someone, for /tofile

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: a migration must not change when the code's list of states does.
OPEN_STATES_SQL = "state IN ('to_file', 'needs_manual', 'returned')"


def upgrade() -> None:
    op.create_index(
        "ix_documents_open",
        "documents",
        ["organization_id", "state", "created_at", "uploaded_by"],
        unique=False,
        postgresql_where=sa.text(OPEN_STATES_SQL),
        sqlite_where=sa.text(OPEN_STATES_SQL),
    )


def downgrade() -> None:
    op.drop_index("ix_documents_open", table_name="documents")
