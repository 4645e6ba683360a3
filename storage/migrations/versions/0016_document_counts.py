"""documents counted per organization and state, kept by the database on every change (/tofile)

The /tofile report used to aggregate every open document on each call (48 ms at 1,000
organizations and 1,000,000 documents). Triggers keep `document_counts` equal to that
aggregate in the same transaction as the change, whatever code makes it (use cases,
repositories, bulk SQL, another engineer's new path), so nothing can bypass it.

Revision ID: 0016
Revises: 0011
Create Date: 2026-11-30 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: a migration must not change when the code's list of states does.
# The states waiting for the office keep the arrival of their oldest document.
REVIEW_SQL = "('to_file', 'needs_manual')"

# A return the bot made itself (a retake request) is counted apart from the office's.
# Never NULL: a document without `return_auto` is simply not a retake.
# (0012 made the return a typed column, `return_auto`, out of the old `_return` JSON.)
PG_RETAKE = "({row}.state = 'returned' AND coalesce({row}.return_auto, false))"
SQLITE_RETAKE = "({row}.state = 'returned' AND coalesce({row}.return_auto, 0))"

# Adds one; the oldest arrival only moves earlier.
_UPSERT = """
INSERT INTO document_counts (organization_id, state, retake, count, oldest)
VALUES ({row}.organization_id, {row}.state, {retake}, 1,
        CASE WHEN {row}.state IN {review} THEN {row}.created_at END)
ON CONFLICT (organization_id, state, retake) DO UPDATE SET
    count = document_counts.count + 1,
    oldest = CASE
        WHEN excluded.oldest IS NOT NULL
             AND (document_counts.oldest IS NULL OR excluded.oldest < document_counts.oldest)
        THEN excluded.oldest ELSE document_counts.oldest END
"""

# Takes one away; when the oldest left, the next oldest comes from the (org, state,
# created_at) index (the trigger runs after the row changed, so it is no longer there).
_TAKE = """
UPDATE document_counts SET count = count - 1
WHERE organization_id = {row}.organization_id AND state = {row}.state AND retake = {retake}
"""
_OLDEST = """
UPDATE document_counts SET oldest = (
    SELECT min(d.created_at) FROM documents d
    WHERE d.organization_id = {row}.organization_id AND d.state = {row}.state)
WHERE organization_id = {row}.organization_id AND state = {row}.state AND retake = {retake}
    AND {row}.state IN {review} AND oldest >= {row}.created_at
"""


def _sql(template: str, row: str, retake: str) -> str:
    return template.format(row=row, retake=retake.format(row=row), review=REVIEW_SQL).strip()


PG_FUNCTION = f"""
CREATE FUNCTION document_counts_track() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.organization_id IS NOT DISTINCT FROM NEW.organization_id
       AND OLD.state = NEW.state
       AND OLD.created_at = NEW.created_at
       AND {PG_RETAKE.format(row="OLD")} IS NOT DISTINCT FROM {PG_RETAKE.format(row="NEW")}
    THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.organization_id IS NOT NULL THEN
        {_sql(_TAKE, "OLD", PG_RETAKE)};
        {_sql(_OLDEST, "OLD", PG_RETAKE)};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.organization_id IS NOT NULL THEN
        {_sql(_UPSERT, "NEW", PG_RETAKE)};
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

PG_TRIGGER = """
CREATE TRIGGER documents_counted AFTER INSERT OR UPDATE OR DELETE ON documents
FOR EACH ROW EXECUTE FUNCTION document_counts_track()
"""

_SQLITE_CHANGED = (
    "OLD.organization_id IS NOT NEW.organization_id OR OLD.state IS NOT NEW.state"
    " OR OLD.created_at IS NOT NEW.created_at"
    f" OR {SQLITE_RETAKE.format(row='OLD')} IS NOT {SQLITE_RETAKE.format(row='NEW')}"
)

SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER documents_counted_insert AFTER INSERT ON documents
WHEN NEW.organization_id IS NOT NULL
BEGIN
    {_sql(_UPSERT, "NEW", SQLITE_RETAKE)};
END
""",
    f"""
CREATE TRIGGER documents_counted_delete AFTER DELETE ON documents
WHEN OLD.organization_id IS NOT NULL
BEGIN
    {_sql(_TAKE, "OLD", SQLITE_RETAKE)};
    {_sql(_OLDEST, "OLD", SQLITE_RETAKE)};
END
""",
    # Two triggers for an update: SQLite has no IF inside a trigger, only WHEN.
    f"""
CREATE TRIGGER documents_counted_update_old AFTER UPDATE ON documents
WHEN OLD.organization_id IS NOT NULL AND ({_SQLITE_CHANGED})
BEGIN
    {_sql(_TAKE, "OLD", SQLITE_RETAKE)};
    {_sql(_OLDEST, "OLD", SQLITE_RETAKE)};
END
""",
    f"""
CREATE TRIGGER documents_counted_update_new AFTER UPDATE ON documents
WHEN NEW.organization_id IS NOT NULL AND ({_SQLITE_CHANGED})
BEGIN
    {_sql(_UPSERT, "NEW", SQLITE_RETAKE)};
END
""",
]

_BACKFILL = """
INSERT INTO document_counts (organization_id, state, retake, count, oldest)
SELECT organization_id, state, {retake}, count(*),
       min(CASE WHEN state IN {review} THEN created_at END)
FROM documents AS d WHERE organization_id IS NOT NULL
GROUP BY organization_id, state, {retake}
"""


def upgrade() -> None:
    op.create_table(
        "document_counts",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("retake", sa.Boolean(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("oldest", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_document_counts_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "state", "retake", name=op.f("pk_document_counts")
        ),
    )
    # For the unreachable-client flag: the returned documents of the few blocked clients.
    op.create_index(
        "ix_documents_uploader_state", "documents", ["uploaded_by", "state", "organization_id"]
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    retake = PG_RETAKE if postgres else SQLITE_RETAKE
    op.execute(_BACKFILL.format(retake=retake.format(row="d"), review=REVIEW_SQL))
    if postgres:
        # Every document change rewrites a counter row: room on each page keeps the new
        # versions there (HOT), and frequent vacuums keep /tofile's read of the table small.
        op.execute(
            "ALTER TABLE document_counts SET (fillfactor = 50,"
            " autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000)"
        )
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER documents_counted ON documents")
        op.execute("DROP FUNCTION document_counts_track()")
    else:
        for name in ("insert", "delete", "update_old", "update_new"):
            op.execute(f"DROP TRIGGER documents_counted_{name}")
    op.drop_index("ix_documents_uploader_state", table_name="documents")
    op.drop_table("document_counts")
