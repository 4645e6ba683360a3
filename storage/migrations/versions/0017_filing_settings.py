"""smart filing: an organization's opt-in to auto-filing ready documents

Revision ID: 0017
Revises: 0011
Create Date: 2026-11-30 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "filing_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("auto_file", sa.Boolean(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_filing_settings_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["people.id"], name=op.f("fk_filing_settings_set_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_settings")),
        sa.UniqueConstraint("organization_id", name="uq_filing_settings_organization"),
    )


def downgrade() -> None:
    op.drop_table("filing_settings")
