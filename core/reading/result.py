"""What reading a document produced: fields with confidences, kind, problems."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.domain import DocumentKind

FIELD_NAMES: tuple[str, ...] = (
    "vendor_name",
    "vendor_id",
    "customer_id",
    "doc_number",
    "date",
    "total",
    "vat",
    "net",
    "currency",
    "allocation_number",
)

# Usability problems the bot can turn into a request for a better file.
BLANK = "blank"
BLURRY = "blurry"
DARK = "dark"
NO_TEXT = "no_text"
SEVERAL_DOCUMENTS = "several_documents"
CARD_SLIP = "card_slip"
UNREADABLE_PDF = "unreadable_pdf"
ENCRYPTED_PDF = "encrypted_pdf"
UNSUPPORTED = "unsupported_file"
TOO_LARGE = "too_large"
# A compressed photo (Telegram shrinks photos to 1280 px) whose print came out too small to
# read well: the same picture sent as a file keeps its full size.
SEND_AS_FILE = "send_as_file"

# The fields an accountant needs before filing an expense; they weigh the overall score.
KEY_FIELDS: tuple[str, ...] = ("total", "date", "vendor_id", "doc_number")


@dataclass
class FieldReading:
    value: str | None
    confidence: float
    reason: str


@dataclass
class Reading:
    kind: DocumentKind
    kind_confidence: float
    fields: dict[str, FieldReading]
    problems: list[str] = field(default_factory=list)
    text: str = ""
    pages: int = 0
    pages_skipped: int = 0  # pages of the file beyond the page limit, not read
    seconds: float = 0.0
    steps: list[str] = field(default_factory=list)
    picture_hash: str | None = None  # of the first page, to find the same picture again

    @property
    def confidence(self) -> float:
        """Overall: the weakest of the kind and the key fields that were found."""
        if self.problems and not any(f.value for f in self.fields.values()):
            return 0.0
        found = [
            self.fields[name].confidence
            for name in KEY_FIELDS
            if name in self.fields and self.fields[name].value is not None
        ]
        if not found:
            return round(min(self.kind_confidence, 0.2), 3)
        return round(min([self.kind_confidence, *found]), 3)

    def value(self, name: str) -> str | None:
        reading = self.fields.get(name)
        return reading.value if reading else None
