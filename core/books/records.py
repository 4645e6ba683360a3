"""What the books keep in the database: exports made, periods closed, rates, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.books.accounts import Bookkeeping


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    OPENFRMT = "openfrmt"
    PCN874 = "pcn874"
    MOVEIN = "movein"


@dataclass(eq=False)
class ExportRecord:
    """One export: who made it, when, of which documents, and the hash of the file."""

    organization_id: int
    period: str  # core.deadlines.Period label
    format: ExportFormat
    sha256: str
    file_name: str
    document_count: int
    document_ids: list[int] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    created_by: int | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class ClosedPeriod:
    organization_id: int
    period: str
    closed_by: int | None = None
    closed_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class BooksSettings:
    """An organization's bookkeeping: single-entry or double-entry."""

    organization_id: int
    bookkeeping: Bookkeeping = Bookkeeping.DOUBLE
    id: int | None = None
