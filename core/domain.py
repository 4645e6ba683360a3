"""The accountant's vocabulary: offices, people, organizations, documents.

Plain dataclasses. `storage/` maps them onto tables imperatively, so nothing here
knows about a database or a messaging platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple


class OfficeRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    STAFF = "staff"


class AccessLevel(StrEnum):
    """What a client person may do in their organization, weakest first."""

    VIEWER = "viewer"
    UPLOADER = "uploader"
    INCOME = "income"
    FULL = "full"

    @property
    def rank(self) -> int:
        return list(AccessLevel).index(self)

    def at_least(self, other: AccessLevel) -> bool:
        return self.rank >= other.rank


class VatFrequency(StrEnum):
    MONTHLY = "monthly"
    BIMONTHLY = "bimonthly"


class DealerType(StrEnum):
    LICENSED = "licensed"
    EXEMPT = "exempt"
    COMPANY = "company"
    NONPROFIT = "nonprofit"


class Direction(StrEnum):
    EXPENSE = "expense"
    INCOME = "income"


class DocumentKind(StrEnum):
    UNKNOWN = "unknown"
    TAX_INVOICE = "tax_invoice"
    TAX_INVOICE_RECEIPT = "tax_invoice_receipt"
    RECEIPT = "receipt"
    PROFORMA = "proforma"
    CREDIT_NOTE = "credit_note"
    INVOICE = "invoice"  # foreign invoice
    PAYSLIP = "payslip"
    BANK_STATEMENT = "bank_statement"
    CHEQUE = "cheque"
    CARD_SLIP = "card_slip"
    OTHER = "other"


# In Document.fields of a file read in part: {"read": pages read, "total": pages in the file}.
PARTIAL = "_partial"


class DocumentState(StrEnum):
    RECEIVED = "received"  # stored, waiting to be read (or for the client to pick an org)
    TO_FILE = "to_file"  # read, waiting for the accountant
    NEEDS_MANUAL = "needs_manual"  # reading failed for good; the accountant types it in
    RETURNED = "returned"  # sent back to the client
    FILED = "filed"
    WITHDRAWN = "withdrawn"
    DUPLICATE = "duplicate"  # the same file was already sent for this organization
    MERGED = "merged"  # became pages of another document


OPEN_STATES = frozenset(
    {
        DocumentState.RECEIVED,
        DocumentState.TO_FILE,
        DocumentState.NEEDS_MANUAL,
        DocumentState.RETURNED,
    }
)


class InviteKind(StrEnum):
    OFFICE_OWNER = "office_owner"  # makes whoever opens it the owner of an office
    OFFICE_MEMBER = "office_member"  # joins the office team with a role
    ORG_MEMBER = "org_member"  # joins a client organization with an access level
    OFFICE_SELF_JOIN = "office_self_join"  # a client creates their own organization


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(eq=False)
class Office:
    name: str
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class Person:
    display_name: str
    language: str = "he"
    reachable: bool = True
    current_org_id: int | None = None
    current_org_at: datetime | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class Identity:
    """A person's address on one messaging platform."""

    person_id: int
    platform: str
    external_id: int
    chat_id: int
    username: str | None = None
    id: int | None = None


@dataclass(eq=False)
class OfficeMember:
    office_id: int
    person_id: int
    role: OfficeRole
    removed_at: datetime | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class Organization:
    name: str
    business_number: str | None = None
    dealer_type: DealerType | None = None
    vat_frequency: VatFrequency = VatFrequency.MONTHLY
    email: str | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class OrganizationMember:
    organization_id: int
    person_id: int
    access: AccessLevel
    removed_at: datetime | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class OfficeAccess:
    """An organization's grant of access to a whole office."""

    office_id: int
    organization_id: int
    granted_by: int | None = None
    revoked_at: datetime | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class Invite:
    kind: InviteKind
    token_hash: str
    expires_at: datetime
    created_by: int | None = None
    office_id: int | None = None
    organization_id: int | None = None
    role: OfficeRole | None = None
    access: AccessLevel | None = None
    max_uses: int | None = 1  # None: reusable until it expires or is revoked
    uses: int = 0
    revoked_at: datetime | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Return:
    """Why a document went back to the client: an accountant's return, or an automatic
    request for a new photo (`auto`) when the reader found the page unusable."""

    reason: str
    note: str | None = None
    by: int | None = None  # the accountant who returned it; None when automatic
    at: datetime | None = None
    problem: str | None = None  # automatic only: what the reader found wrong
    auto: bool = False


@dataclass(frozen=True)
class Answer:
    """A client's answer to a return: an explanation, or a new page (its file's sha256)."""

    kind: str  # "text" or "file"
    by: int
    at: datetime
    text: str | None = None
    sha256: str | None = None


@dataclass(eq=False)
class Document:
    uploaded_by: int
    batch: str  # one upload: a single file, or every part of an album
    source_platform: str
    source_chat_id: int
    source_message_id: int
    organization_id: int | None = None
    direction: Direction = Direction.EXPENSE
    kind: DocumentKind = DocumentKind.UNKNOWN
    state: DocumentState = DocumentState.RECEIVED
    fields: dict[str, Any] = field(default_factory=dict)  # what the reader and people read
    confidence: float | None = None
    duplicate_of_id: int | None = None
    merged_into_id: int | None = None
    caption: str | None = None
    id: int | None = None
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    read_at: datetime | None = None
    number: int | None = None  # per organization: the number its people see
    # The last return; kept after the client's answer, to tell the accountant who returned it.
    last_return: Return | None = None
    answers: list[Answer] = field(default_factory=list)
    answered: bool = False  # the client answered a return (the card says so)
    category: str | None = None  # the expense category (core.categories)

    def return_to_client(self, reason: str, note: str | None, by: int, at: datetime) -> None:
        self.last_return = Return(reason=reason, note=note, by=by, at=at)
        self.state = DocumentState.RETURNED

    def ask_for_retake(self, problem: str) -> None:
        """The reader found the page unusable: the client is asked for a new photo."""
        self.last_return = Return(reason="unreadable", problem=problem, auto=True)
        self.state = DocumentState.RETURNED

    @property
    def waits_for_retake(self) -> bool:
        return self.last_return is not None and self.last_return.auto

    def retaken(self) -> None:
        """A new photo after an automatic retake request: it simply is the document now."""
        self.last_return = None
        self.state = DocumentState.RECEIVED

    def answer(self, answer: Answer) -> None:
        # A new list: the mapped column notices reassignment, not mutation in place.
        self.answers = [*self.answers, answer]
        self.answered = True
        self.state = DocumentState.TO_FILE

    def categorise(self, category: str) -> str | None:
        """Sets the expense category; returns the one it had."""
        old, self.category = self.category, category
        return old


@dataclass(eq=False)
class StoredFile:
    document_id: int
    sha256: str
    mime_type: str
    size: int
    page_order: int = 0
    original_name: str | None = None
    platform_file_id: str | None = None
    platform_unique_id: str | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class Job:
    kind: str
    payload: dict[str, Any]
    state: JobState = JobState.QUEUED
    document_id: int | None = None
    attempts: int = 0
    max_attempts: int = 5
    run_after: datetime | None = None
    lease_until: datetime | None = None
    leased_by: str | None = None
    last_error: str | None = None
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(eq=False)
class AuditEntry:
    action: str
    actor_id: int | None = None
    office_id: int | None = None
    organization_id: int | None = None
    document_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    at: datetime | None = None


# --- reporting deadlines (issue 6) ---------------------------------------------------------


@dataclass(eq=False)
class ReportingSettings:
    """An organization's reporting profile; None means "derive it" (see core.reporting)."""

    organization_id: int
    detailed_vat: bool | None = None
    has_employees: bool | None = None
    is_company: bool | None = None  # None: from the dealer type
    id: int | None = None


@dataclass(eq=False)
class DueDateOverride:
    """One period's due date moved by the accountant (an extension by decree)."""

    organization_id: int
    kind: str  # core.deadlines.ReportKind value
    period: str  # core.deadlines.Period label
    due: str  # ISO date
    set_by: int | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class FiledReport:
    organization_id: int
    kind: str  # core.deadlines.ReportKind value
    period: str  # core.deadlines.Period label
    filed_at: datetime
    filed_by: int | None = None
    id: int | None = None


@dataclass(eq=False)
class SentNotice:
    """A reminder or digest that went out (or is going out), by its stable key."""

    key: str
    person_id: int
    sent_at: datetime
    organization_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class OfficeSchedule:
    """An office's reminder, digest and quiet-hour times (Israel time, "HH:MM")."""

    office_id: int
    cutoff_days: int = 5
    reminder_offsets: str = "7,3,1"
    reminder_at: str = "09:00"
    digest_at: str = "08:30"
    quiet_from: str = "21:00"
    quiet_until: str = "08:00"
    id: int | None = None


@dataclass(frozen=True)
class Recipient:
    """Someone a reminder or a digest goes to, and where."""

    person_id: int
    chat_id: int
    language: str
    organization_id: int | None = None  # a client's organization
    office_id: int | None = None  # an accountant's office


class ReportRow(NamedTuple):
    """One organization's line in /tofile: what waits for the office and for the client.

    A named tuple, not a frozen dataclass: /tofile builds one per organization (1,000 in a
    large office), and a frozen dataclass's `__init__` cost 4.5 ms of the call's CPU there.
    """

    organization_id: int
    name: str
    to_file: int
    oldest: datetime | None  # when the oldest document waiting for the office arrived
    returned: int  # returned and still waiting for the client
    unreachable: bool  # a client with a returned document has blocked the bot
    retake: int = 0  # waiting for a new photo after an automatic retake request
