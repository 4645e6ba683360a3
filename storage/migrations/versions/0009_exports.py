"""books and exports: account mapping, bookkeeping, rates, exports made, closed periods

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "account_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=15), nullable=False),
        _fk("account_mappings", "office_id", "offices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_mappings")),
        sa.UniqueConstraint("office_id", "kind", "key", name="uq_account_mappings_key"),
    )
    op.create_table(
        "books_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("bookkeeping", sa.String(length=30), server_default="double", nullable=False),
        _fk("books_settings", "organization_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_books_settings")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_books_settings_organization_id")),
    )
    op.create_table(
        "exchange_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("rate", sa.String(length=20), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        _fk("exchange_rates", "set_by", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
        sa.UniqueConstraint("currency", "day", name="uq_exchange_rates_day"),
    )
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("format", sa.String(length=30), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("document_ids", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _fk("exports", "organization_id", "organizations"),
        _fk("exports", "created_by", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    op.create_index("ix_exports_org_period", "exports", ["organization_id", "period"])
    op.create_table(
        "closed_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        _fk("closed_periods", "organization_id", "organizations"),
        _fk("closed_periods", "closed_by", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_periods")),
        sa.UniqueConstraint("organization_id", "period", name="uq_closed_periods_period"),
    )


def downgrade() -> None:
    op.drop_table("closed_periods")
    op.drop_index("ix_exports_org_period", table_name="exports")
    op.drop_table("exports")
    op.drop_table("exchange_rates")
    op.drop_table("books_settings")
    op.drop_table("account_mappings")
