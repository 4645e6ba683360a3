"""Table definitions. Kept apart from the domain classes, which `orm.py` maps onto them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from core.books.accounts import Bookkeeping
from core.books.records import ExportFormat
from core.domain import (
    AccessLevel,
    DealerType,
    Direction,
    DocumentKind,
    DocumentState,
    InviteKind,
    JobState,
    OfficeRole,
    VatFrequency,
)
from storage.types import Answers, EnumText, UtcDateTime, utcnow

# Stable constraint names, so migrations can drop and alter them on every dialect.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _created() -> Column[object]:
    return Column(
        "created_at", UtcDateTime(), nullable=False, default=utcnow, server_default=func.now()
    )


offices = Table(
    "offices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    _created(),
)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("language", String(8), nullable=False, server_default="he"),
    Column("reachable", Boolean, nullable=False, server_default="1"),
    Column("current_org_id", Integer, ForeignKey("organizations.id"), nullable=True),
    Column("current_org_at", UtcDateTime(), nullable=True),
    _created(),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    Column("platform", String(20), nullable=False),
    # Telegram ids do not fit 32 bits.
    Column("external_id", BigInteger, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("username", String(100), nullable=True),
    UniqueConstraint("platform", "external_id", name="uq_identities_platform_external"),
)

office_members = Table(
    "office_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    Column("role", EnumText(OfficeRole), nullable=False),
    Column("removed_at", UtcDateTime(), nullable=True),
    _created(),
    Index("ix_office_members_office", "office_id", "person_id"),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("business_number", String(9), nullable=True, index=True),
    Column("dealer_type", EnumText(DealerType), nullable=True),
    Column("vat_frequency", EnumText(VatFrequency), nullable=False, server_default="monthly"),
    Column("email", String(320), nullable=True),
    _created(),
    # The last document number given in this organization (documents are numbered per
    # organization, so a client's numbers say nothing about the office's volume).
    Column("last_document_number", Integer, nullable=False, server_default="0"),
)

organization_members = Table(
    "organization_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False, index=True),
    Column("access", EnumText(AccessLevel), nullable=False),
    Column("removed_at", UtcDateTime(), nullable=True),
    _created(),
    Index("ix_organization_members_org", "organization_id", "person_id"),
)

office_access = Table(
    "office_access",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("granted_by", Integer, ForeignKey("people.id"), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    _created(),
    Index("ix_office_access_office", "office_id", "organization_id"),
    Index("ix_office_access_org", "organization_id"),
)

invites = Table(
    "invites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", EnumText(InviteKind), nullable=False),
    # Only the token's SHA-256 is kept: a leaked database does not leak live links.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("created_by", Integer, ForeignKey("people.id"), nullable=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=True),
    Column("role", EnumText(OfficeRole), nullable=True),
    Column("access", EnumText(AccessLevel), nullable=True),
    Column("max_uses", Integer, nullable=True),
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("revoked_at", UtcDateTime(), nullable=True),
    _created(),
)

# Documents waiting for the office (review), or for the office or the client (open). A
# query must repeat a partial index's predicate as literals (`in_states_literally` in
# storage.repositories.documents) for the planner to use the index.
REVIEW_STATES = (DocumentState.TO_FILE.value, DocumentState.NEEDS_MANUAL.value)
OPEN_STATES = (*REVIEW_STATES, DocumentState.RETURNED.value)


def _state_in(states: tuple[str, ...]) -> str:
    return "state IN ({})".format(", ".join(f"'{state}'" for state in states))


OPEN_STATES_SQL = _state_in(OPEN_STATES)
REVIEW_STATES_SQL = _state_in(REVIEW_STATES)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=True),
    Column("uploaded_by", Integer, ForeignKey("people.id"), nullable=False),
    Column("batch", String(32), nullable=False, index=True),
    Column("source_platform", String(20), nullable=False),
    Column("source_chat_id", BigInteger, nullable=False),
    Column("source_message_id", BigInteger, nullable=False),
    Column("direction", EnumText(Direction), nullable=False),
    Column("kind", EnumText(DocumentKind), nullable=False),
    Column("state", EnumText(DocumentState), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("confidence", Float, nullable=True),
    Column("duplicate_of_id", Integer, ForeignKey("documents.id"), nullable=True),
    Column("merged_into_id", Integer, ForeignKey("documents.id"), nullable=True),
    Column("caption", Text, nullable=True),
    Column("version", Integer, nullable=False),
    _created(),
    Column(
        "updated_at",
        UtcDateTime(),
        nullable=False,
        default=utcnow,
        onupdate=utcnow,
        server_default=func.now(),
    ),
    Column("read_at", UtcDateTime(), nullable=True),
    Column("number", Integer, nullable=True),  # per organization; None until it has one
    # The last return (core.domain.Return), the client's answers, the expense category.
    Column("return_reason", String(30), nullable=True),
    Column("return_note", Text, nullable=True),
    Column("returned_by", Integer, nullable=True),
    Column("returned_at", UtcDateTime(), nullable=True),
    Column("return_problem", String(30), nullable=True),
    Column("return_auto", Boolean, nullable=True),
    Column("answers", Answers(), nullable=False, server_default=text("'[]'")),
    Column("answered", Boolean, nullable=False, server_default="0"),
    Column("category", String(30), nullable=True),
    # A message delivered twice must never make a second document.
    UniqueConstraint(
        "source_platform", "source_chat_id", "source_message_id", name="uq_documents_source"
    ),
    Index("ix_documents_org_state_created", "organization_id", "state", "created_at"),
    Index("uq_documents_org_number", "organization_id", "number", unique=True),
    # The returned documents of the few clients who blocked the bot (/tofile's flag).
    Index("ix_documents_uploader_state", "uploaded_by", "state", "organization_id"),
    # The few documents that still need someone (/tofile read this alone until it read the
    # queue rows of migration 0019).
    Index(
        "ix_documents_open",
        "organization_id",
        "state",
        "created_at",
        "uploaded_by",
        postgresql_where=text(OPEN_STATES_SQL),
        sqlite_where=text(OPEN_STATES_SQL),
    ),
    # The documents waiting for the office in the order the review walks them: the next
    # document is the first entry (migration 0020).
    Index(
        "ix_documents_review_order",
        "organization_id",
        "created_at",
        "id",
        postgresql_where=text(REVIEW_STATES_SQL),
        sqlite_where=text(REVIEW_STATES_SQL),
    ),
)

# Documents per organization and state, kept equal to a fresh count by database triggers
# (migration 0016) in the same transaction as every change: /tofile reads these few rows
# instead of aggregating every open document.
document_counts = Table(
    "document_counts",
    metadata,
    Column("organization_id", Integer, ForeignKey("organizations.id"), primary_key=True),
    Column("state", String(30), primary_key=True),
    # A returned document the bot itself asked to retake (not the office's return).
    Column("retake", Boolean, primary_key=True),
    Column("count", Integer, nullable=False),
    # The arrival of the oldest such document, for the states waiting for the office.
    Column("oldest", UtcDateTime(), nullable=True),
)

# What waits in each organization, one row each, recomputed from its `document_counts` rows
# by database triggers (migration 0019) whenever one of its open counters changes: /tofile
# reads one row per organization by key instead of grouping the counters.
organization_queues = Table(
    "organization_queues",
    metadata,
    Column("organization_id", Integer, ForeignKey("organizations.id"), primary_key=True),
    Column("waiting", Integer, nullable=False),  # to file or to type in
    Column("oldest", UtcDateTime(), nullable=True),  # the oldest of those arrived then
    Column("returned", Integer, nullable=False),  # returned by the office
    Column("retake", Integer, nullable=False),  # returned by the bot for a retake
)

stored_files = Table(
    "stored_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id"), nullable=False, index=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("mime_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("page_order", Integer, nullable=False, server_default="0"),
    Column("original_name", String(255), nullable=True),
    Column("platform_file_id", String(255), nullable=True),
    Column("platform_unique_id", String(128), nullable=True),
    _created(),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", EnumText(JobState), nullable=False),
    Column("document_id", Integer, ForeignKey("documents.id"), nullable=True, index=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False, server_default="5"),
    Column("run_after", UtcDateTime(), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("leased_by", String(100), nullable=True),
    Column("last_error", Text, nullable=True),
    _created(),
    Column(
        "updated_at",
        UtcDateTime(),
        nullable=False,
        default=utcnow,
        onupdate=utcnow,
        server_default=func.now(),
    ),
    Index("ix_jobs_claim", "state", "run_after"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False, default=utcnow, server_default=func.now()),
    Column("actor_id", Integer, ForeignKey("people.id"), nullable=True),
    Column("action", String(50), nullable=False),
    Column("office_id", Integer, nullable=True),
    Column("organization_id", Integer, nullable=True, index=True),
    Column("document_id", Integer, nullable=True, index=True),
    Column("details", JSON, nullable=False),
    # Per-person limits count a person's recent entries of one kind.
    Index("ix_audit_actor_action", "actor_id", "action", "at"),
    # The scheduler's tick reads one action's recent entries (answers held by quiet hours).
    Index("ix_audit_action_at", "action", "at"),
)

# --- reporting deadlines (issue 6) ---------------------------------------------------------

reporting_settings = Table(
    "reporting_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "organization_id", Integer, ForeignKey("organizations.id"), nullable=False, unique=True
    ),
    Column("detailed_vat", Boolean, nullable=True),
    Column("has_employees", Boolean, nullable=True),
    Column("is_company", Boolean, nullable=True),
)

due_date_overrides = Table(
    "due_date_overrides",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("period", String(10), nullable=False),
    Column("due", String(10), nullable=False),  # ISO date
    Column("set_by", Integer, ForeignKey("people.id"), nullable=True),
    _created(),
    UniqueConstraint("organization_id", "kind", "period", name="uq_due_date_overrides_report"),
)

filed_reports = Table(
    "filed_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("period", String(10), nullable=False),
    Column("filed_at", UtcDateTime(), nullable=False),
    Column("filed_by", Integer, ForeignKey("people.id"), nullable=True),
    UniqueConstraint("organization_id", "kind", "period", name="uq_filed_reports_report"),
)

# One row per reminder or digest a person was sent: the unique key is what makes a restart,
# or a second bot process, unable to send the same one twice.
sent_notices = Table(
    "sent_notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(160), nullable=False, unique=True),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("organization_id", Integer, nullable=True),
    Column("sent_at", UtcDateTime(), nullable=False, index=True),
)

office_schedules = Table(
    "office_schedules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False, unique=True),
    Column("cutoff_days", Integer, nullable=False, server_default="5"),
    Column("reminder_offsets", String(40), nullable=False, server_default="7,3,1"),
    Column("reminder_at", String(5), nullable=False, server_default="09:00"),
    Column("digest_at", String(5), nullable=False, server_default="08:30"),
    Column("quiet_from", String(5), nullable=False, server_default="21:00"),
    Column("quiet_until", String(5), nullable=False, server_default="08:00"),
)

# Expense categories (issue 4): an office's own VAT share for a category of the default chart.
office_categories = Table(
    "office_categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("key", String(40), nullable=False),
    Column("vat_share", String(20), nullable=False),  # a fraction: "2/3"
    UniqueConstraint("office_id", "key", name="uq_office_categories_key"),
)

# The category last chosen for a vendor of an organization: suggested for its next document.
vendor_categories = Table(
    "vendor_categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("vendor_key", String(128), nullable=False),
    Column("category", String(40), nullable=False),
    Column("chosen_by", Integer, ForeignKey("people.id"), nullable=True),
    _created(),
    UniqueConstraint("organization_id", "vendor_key", name="uq_vendor_categories_vendor"),
)

# --- books and exports (issue 13) ------------------------------------------------------------

# An office's ledger accounts: kind "expense" (key: category), "setting" (key: input_vat,
# equipment_vat, supplier_prefix, suppliers) or "supplier" (key: business number).
account_mappings = Table(
    "account_mappings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("office_id", Integer, ForeignKey("offices.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("key", String(40), nullable=False),
    Column("account", String(15), nullable=False),
    UniqueConstraint("office_id", "kind", "key", name="uq_account_mappings_key"),
)

books_settings = Table(
    "books_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "organization_id", Integer, ForeignKey("organizations.id"), nullable=False, unique=True
    ),
    Column("bookkeeping", EnumText(Bookkeeping), nullable=False, server_default="double"),
)

# Bank of Israel representative rates, as the accountant entered them (no network).
exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("day", String(10), nullable=False),  # ISO date
    Column("rate", String(20), nullable=False),  # a decimal: "3.712"
    Column("set_by", Integer, ForeignKey("people.id"), nullable=True),
    UniqueConstraint("currency", "day", name="uq_exchange_rates_day"),
)

exports = Table(
    "exports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("period", String(10), nullable=False),
    Column("format", EnumText(ExportFormat), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("document_count", Integer, nullable=False),
    Column("document_ids", JSON, nullable=False),
    Column("details", JSON, nullable=False),
    Column("created_by", Integer, ForeignKey("people.id"), nullable=True),
    _created(),
    Index("ix_exports_org_period", "organization_id", "period"),
)

closed_periods = Table(
    "closed_periods",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("period", String(10), nullable=False),
    Column("closed_by", Integer, ForeignKey("people.id"), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=False),
    UniqueConstraint("organization_id", "period", name="uq_closed_periods_period"),
)


# --- documents by e-mail (issue 14) ---------------------------------------------------------

# An organization's forwarding addresses: the current one, and retired ones that still bounce
# politely for a grace period.
mail_addresses = Table(
    "mail_addresses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False, index=True),
    Column("local_part", String(64), nullable=False, unique=True),
    Column("created_by", Integer, ForeignKey("people.id"), nullable=True),
    _created(),
    Column("retired_at", UtcDateTime(), nullable=True),
)

# Who may send an organization documents by e-mail (besides the address it was invited at).
mail_senders = Table(
    "mail_senders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("address", String(320), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=True),
    Column("added_by", Integer, ForeignKey("people.id"), nullable=True),
    _created(),
    UniqueConstraint("organization_id", "address", name="uq_mail_senders_address"),
)

# Every message a receiver accepted, kept raw (in the file store) before it was acknowledged.
inbound_mails = Table(
    "inbound_mails",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(10), nullable=False),
    Column("external_key", String(200), nullable=True, unique=True),
    Column("raw_sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("envelope_from", String(320), nullable=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=True),
    Column("state", String(20), nullable=False),
    Column("sender", String(320), nullable=True),
    Column("subject", String(300), nullable=True),
    Column("auth", String(10), nullable=True),
    Column("reason", String(100), nullable=True),
    Column("documents", Integer, nullable=False, server_default="0"),
    Column("decided_by", Integer, ForeignKey("people.id"), nullable=True),
    _created(),
    Column("processed_at", UtcDateTime(), nullable=True),
    Index("ix_inbound_mails_org_state", "organization_id", "state"),
)


# Every update from Telegram, written before it is confirmed (issue 10): a crash or a stop
# loses none; unfinished ones are handled again at start-up, in order per chat.
inbox_updates = Table(
    "inbox_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, nullable=True),
    Column("body", JSON, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False, default=utcnow),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("done_at", UtcDateTime(), nullable=True),
    # The fencing token of the chat lease under which a replica last took the update
    # (bot/chat_leases.py): an older holder can neither take it again nor mark it done.
    Column("fence", BigInteger, nullable=True),
    # Start-up reads the unfinished few; done rows are only kept for a while.
    Index(
        "ix_inbox_updates_open",
        "update_id",
        postgresql_where=text("done_at IS NULL"),
        sqlite_where=text("done_at IS NULL"),
    ),
    Index("ix_inbox_updates_done_at", "done_at"),
)

# --- smart filing (issue 17) -----------------------------------------------------------------

# An organization's opt-in to filing "ready" documents without the accountant's tap.
filing_settings = Table(
    "filing_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("auto_file", Boolean, nullable=False, default=False),
    Column("set_by", Integer, ForeignKey("people.id"), nullable=True),
    _created(),
    UniqueConstraint("organization_id", name="uq_filing_settings_organization"),
)

# Browser links of the web pages already exchanged for a session (issue 15): a link opens
# once, on whichever replica and after a restart too. Kept only until the link expires.
used_web_links = Table(
    "used_web_links",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index("ix_used_web_links_expires_at", "expires_at"),
)
