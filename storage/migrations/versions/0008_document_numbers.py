"""documents numbered per organization

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_document_number", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
    # Existing documents get their numbers in the order they arrived, per organization.
    op.execute(
        "UPDATE documents SET number = (SELECT COUNT(*) FROM documents AS earlier"
        " WHERE earlier.organization_id = documents.organization_id"
        " AND earlier.id <= documents.id) WHERE organization_id IS NOT NULL"
    )
    op.execute(
        "UPDATE organizations SET last_document_number = (SELECT COALESCE(MAX(number), 0)"
        " FROM documents WHERE documents.organization_id = organizations.id)"
    )
    op.create_index(
        "uq_documents_org_number", "documents", ["organization_id", "number"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_documents_org_number", table_name="documents")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("number")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("last_document_number")
