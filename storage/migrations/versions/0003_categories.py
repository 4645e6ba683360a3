"""expense categories: office VAT shares and vendor memory

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 01:42:09.365916
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "office_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("vat_share", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_office_categories_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_categories")),
        sa.UniqueConstraint("office_id", "key", name="uq_office_categories_key"),
    )
    op.create_table(
        "vendor_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("vendor_key", sa.String(length=128), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("chosen_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["chosen_by"], ["people.id"], name=op.f("fk_vendor_categories_chosen_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_vendor_categories_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_categories")),
        sa.UniqueConstraint("organization_id", "vendor_key", name="uq_vendor_categories_vendor"),
    )


def downgrade() -> None:
    op.drop_table("vendor_categories")
    op.drop_table("office_categories")
