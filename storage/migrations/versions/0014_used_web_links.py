"""the web pages' used browser links: one use each, across restarts and replicas

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_web_links",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_used_web_links")),
    )
    op.create_index("ix_used_web_links_expires_at", "used_web_links", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_used_web_links_expires_at", table_name="used_web_links")
    op.drop_table("used_web_links")
