"""an index over the audit log by actor, action and time, for per-person limits

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_actor_action", "audit_log", ["actor_id", "action", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_actor_action", table_name="audit_log")
