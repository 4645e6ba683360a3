"""documents by e-mail: forwarding addresses, allowed senders, kept inbound mails

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 02:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created() -> sa.Column[Any]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "mail_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("local_part", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _created(),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_mail_addresses_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_mail_addresses_created_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_addresses")),
        sa.UniqueConstraint("local_part", name=op.f("uq_mail_addresses_local_part")),
    )
    op.create_index(
        op.f("ix_mail_addresses_organization_id"), "mail_addresses", ["organization_id"]
    )
    op.create_table(
        "mail_senders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=True),
        _created(),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_mail_senders_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_mail_senders_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["people.id"], name=op.f("fk_mail_senders_added_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_senders")),
        sa.UniqueConstraint("organization_id", "address", name="uq_mail_senders_address"),
    )
    op.create_table(
        "inbound_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("external_key", sa.String(length=200), nullable=True),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("envelope_from", sa.String(length=320), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("auth", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("documents", sa.Integer(), server_default="0", nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        _created(),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_inbound_mails_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["people.id"], name=op.f("fk_inbound_mails_decided_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mails")),
        sa.UniqueConstraint("external_key", name=op.f("uq_inbound_mails_external_key")),
    )
    op.create_index("ix_inbound_mails_org_state", "inbound_mails", ["organization_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_inbound_mails_org_state", table_name="inbound_mails")
    op.drop_table("inbound_mails")
    op.drop_table("mail_senders")
    op.drop_index(op.f("ix_mail_addresses_organization_id"), table_name="mail_addresses")
    op.drop_table("mail_addresses")
