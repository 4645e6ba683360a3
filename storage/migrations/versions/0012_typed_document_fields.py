"""the document's return, answers and category in columns of their own (out of `fields`)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 05:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys the JSON used to hold, and the columns that hold them now.
KEYS = ("_return", "_answers", "_answered", "_category")
RETURN_COLUMNS = {
    "reason": "return_reason",
    "note": "return_note",
    "by": "returned_by",
    "at": "returned_at",
    "problem": "return_problem",
    "auto": "return_auto",
}

documents = sa.table(
    "documents",
    sa.column("id", sa.Integer()),
    sa.column("fields", sa.JSON()),
    sa.column("return_reason", sa.String()),
    sa.column("return_note", sa.Text()),
    sa.column("returned_by", sa.Integer()),
    sa.column("returned_at", UtcDateTime()),
    sa.column("return_problem", sa.String()),
    sa.column("return_auto", sa.Boolean()),
    sa.column("answers", sa.JSON()),
    sa.column("answered", sa.Boolean()),
    sa.column("category", sa.String()),
)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_reason", sa.String(30), nullable=True))
        batch_op.add_column(sa.Column("return_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("returned_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("return_problem", sa.String(30), nullable=True))
        batch_op.add_column(sa.Column("return_auto", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column("answers", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("answered", sa.Boolean(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("category", sa.String(30), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(documents.c.id, documents.c.fields)).all()
    for doc_id, fields in rows:
        if not isinstance(fields, dict) or not any(key in fields for key in KEYS):
            continue
        values: dict[str, Any] = {}
        back = fields.get("_return")
        if isinstance(back, dict) and back.get("reason"):
            values |= {column: back.get(key) for key, column in RETURN_COLUMNS.items()}
            values["returned_at"] = _moment(back.get("at"))
            values["return_auto"] = bool(back.get("auto"))
        answers = fields.get("_answers")
        values["answers"] = answers if isinstance(answers, list) else []
        values["answered"] = bool(fields.get("_answered"))
        category = fields.get("_category")
        values["category"] = category if isinstance(category, str) else None
        values["fields"] = {k: v for k, v in fields.items() if k not in KEYS}
        bind.execute(sa.update(documents).where(documents.c.id == doc_id).values(**values))


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(documents).where(
            sa.or_(
                documents.c.return_reason.is_not(None),
                documents.c.answered.is_(True),
                documents.c.category.is_not(None),
            )
        )
    ).all()
    for row in rows:
        fields = dict(row.fields or {})
        if row.return_reason is not None:
            back: dict[str, Any] = {
                key: getattr(row, column)
                for key, column in RETURN_COLUMNS.items()
                if key in ("reason", "note") or getattr(row, column) is not None
            }
            if row.returned_at is not None:
                back["at"] = row.returned_at.isoformat()
            if not row.return_auto:
                back.pop("auto", None)
            fields["_return"] = back
        if row.answers:
            fields["_answers"] = row.answers
        if row.answered:
            fields["_answered"] = True
        if row.category is not None:
            fields["_category"] = row.category
        bind.execute(sa.update(documents).where(documents.c.id == row.id).values(fields=fields))
    with op.batch_alter_table("documents", schema=None) as batch_op:
        for column in ("category", "answered", "answers", *reversed(RETURN_COLUMNS.values())):
            batch_op.drop_column(column)
