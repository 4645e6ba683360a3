"""organization queues: one row per organization with what waits in it, kept by the database

/tofile aggregated `document_counts` (a few rows per organization) on each call: at 1,000
organizations that grouping was most of the report's SQL (3.6 ms of SQLite's 5.4 ms). Each
change of a counter row now recomputes its organization's one queue row from its counter
rows (a handful, by primary key) in the same transaction, so the report reads 1,000 rows
by key. As with 0016, triggers keep it whatever code writes: counters change only through
0016's triggers, and those fire these.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here, as in 0016: the states waiting for the office, and the open ones.
REVIEW_SQL = "('to_file', 'needs_manual')"
OPEN_SQL = "('to_file', 'needs_manual', 'returned')"

# An organization's queue row from its counter rows: the trigger's and the backfill's.
_QUEUE_ROW = f"""
INSERT INTO organization_queues (organization_id, waiting, oldest, returned, retake)
SELECT {{org}},
       coalesce(sum(CASE WHEN state IN {REVIEW_SQL} THEN count END), 0),
       min(CASE WHEN state IN {REVIEW_SQL} AND count > 0 THEN oldest END),
       coalesce(sum(CASE WHEN state = 'returned' AND NOT retake THEN count END), 0),
       coalesce(sum(CASE WHEN state = 'returned' AND retake THEN count END), 0)
FROM document_counts WHERE {{rows}}
"""

# The organization's queue row, made again from its counter rows.
_RECOMPUTE = (
    _QUEUE_ROW
    + """ON CONFLICT (organization_id) DO UPDATE SET
    waiting = excluded.waiting, oldest = excluded.oldest,
    returned = excluded.returned, retake = excluded.retake
"""
)


def _recompute(row: str) -> str:
    org = f"{row}.organization_id"
    return _RECOMPUTE.format(org=org, rows=f"organization_id = {org}").strip()


PG_FUNCTION = f"""
CREATE FUNCTION organization_queues_track() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state IN {OPEN_SQL} THEN
        {_recompute("OLD")};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.state IN {OPEN_SQL}
       AND (TG_OP = 'INSERT' OR NEW.organization_id IS DISTINCT FROM OLD.organization_id
            OR NEW.state IS DISTINCT FROM OLD.state) THEN
        {_recompute("NEW")};
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

PG_TRIGGER = """
CREATE TRIGGER document_counts_queued AFTER INSERT OR UPDATE OR DELETE ON document_counts
FOR EACH ROW EXECUTE FUNCTION organization_queues_track()
"""

# SQLite has no IF inside a trigger, only WHEN: one trigger for each case.
SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER document_counts_queued_insert AFTER INSERT ON document_counts
WHEN NEW.state IN {OPEN_SQL}
BEGIN
    {_recompute("NEW")};
END
""",
    f"""
CREATE TRIGGER document_counts_queued_delete AFTER DELETE ON document_counts
WHEN OLD.state IN {OPEN_SQL}
BEGIN
    {_recompute("OLD")};
END
""",
    f"""
CREATE TRIGGER document_counts_queued_update_old AFTER UPDATE ON document_counts
WHEN OLD.state IN {OPEN_SQL}
BEGIN
    {_recompute("OLD")};
END
""",
    f"""
CREATE TRIGGER document_counts_queued_update_new AFTER UPDATE ON document_counts
WHEN NEW.state IN {OPEN_SQL}
    AND (NEW.organization_id IS NOT OLD.organization_id OR NEW.state IS NOT OLD.state)
BEGIN
    {_recompute("NEW")};
END
""",
]

_BACKFILL = _QUEUE_ROW.format(org="organization_id", rows=f"state IN {OPEN_SQL}") + (
    "GROUP BY organization_id\n"
)


def upgrade() -> None:
    op.create_table(
        "organization_queues",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("oldest", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("retake", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_queues_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organization_queues")),
    )
    op.execute(_BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        # Every counted change rewrites the row: room on each page keeps the new versions
        # there (HOT), as for the counters.
        op.execute(
            "ALTER TABLE organization_queues SET (fillfactor = 50,"
            " autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000)"
        )
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER document_counts_queued ON document_counts")
        op.execute("DROP FUNCTION organization_queues_track()")
    else:
        for name in ("insert", "delete", "update_old", "update_new"):
            op.execute(f"DROP TRIGGER document_counts_queued_{name}")
    op.drop_table("organization_queues")
