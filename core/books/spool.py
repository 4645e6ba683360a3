"""A period's entries kept on disk in the order they were read, given back in entry order.

An export reads the period from the database once; the writers need the entries oldest
first (the database gives them in arrival order), and two of them read twice. Each entry
is kept as a small marshalled tuple in a spooled temporary file, so memory holds only the
sort keys and offsets, not the entries.
"""

from __future__ import annotations

import marshal
import tempfile
from array import array
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from core.books.entries import Entry
from core.domain import DocumentKind

SortKey = tuple[date, int]
_KINDS = {k.value: k for k in DocumentKind}


def _dump(entry: Entry) -> bytes:
    return marshal.dumps(
        (
            entry.document_id,
            entry.doc_type,
            entry.kind.value,
            entry.number,
            entry.day.toordinal(),
            entry.vendor_name,
            entry.vendor_id,
            entry.category,
            entry.currency,
            None if entry.foreign_total is None else str(entry.foreign_total),
            None if entry.rate is None else str(entry.rate),
            str(entry.net),
            str(entry.vat),
            str(entry.total),
            str(entry.deductible_vat),
            entry.allocation_number,
            entry.reasons,
        )
    )


def _load(raw: bytes) -> Entry:
    (
        document_id, doc_type, kind, number, day, vendor_name, vendor_id, category, currency,
        foreign_total, rate, net, vat, total, deductible, allocation, reasons,
    ) = marshal.loads(raw)  # fmt: skip
    return Entry(
        document_id,
        doc_type,
        _KINDS[kind],
        number,
        date.fromordinal(day),
        vendor_name,
        vendor_id,
        category,
        currency,
        None if foreign_total is None else Decimal(foreign_total),
        None if rate is None else Decimal(rate),
        Decimal(net),
        Decimal(vat),
        Decimal(total),
        Decimal(deductible),
        allocation,
        tuple(reasons),
    )


class EntrySpool:
    """Add entries in id order; iterate them (as often as needed) by (day, id).

    The index is three arrays of machine integers, not a list of tuples: 24 bytes an
    entry, where tuples of a date and ints took ~240."""

    IN_MEMORY = 1 << 18  # bytes kept in memory before the file goes to disk

    def __init__(self) -> None:
        # Closed by close(), when the export is written.
        self._file = tempfile.SpooledTemporaryFile(max_size=self.IN_MEMORY)  # noqa: SIM115
        self._ids = array("q")
        self._offsets = array("q", [0])  # entry n is offsets[n]:offsets[n + 1]
        # day ordinal << 32 | position: sorting these sorts by day, then by id, since
        # entries are added in id order.
        self._order = array("q")
        self._sorted = True
        self._read = False  # the file's position was moved by a read

    def add(self, key: SortKey, entry: Entry) -> None:
        day, document_id = key
        if self._ids and document_id <= self._ids[-1]:
            raise ValueError("entries are added in id order")
        raw = _dump(entry)
        if self._read:
            self._file.seek(self._offsets[-1])
            self._read = False
        self._file.write(raw)
        packed = day.toordinal() << 32 | len(self._ids)
        if self._order and packed < self._order[-1]:
            self._sorted = False
        self._order.append(packed)
        self._ids.append(document_id)
        self._offsets.append(self._offsets[-1] + len(raw))

    def __len__(self) -> int:
        return len(self._ids)

    def _sort(self) -> None:
        if not self._sorted:
            self._order = array("q", sorted(self._order))
            self._sorted = True

    def document_ids(self) -> list[int]:
        """The entries' document ids, in entry order."""
        self._sort()
        return [self._ids[packed & 0xFFFFFFFF] for packed in self._order]

    def __call__(self) -> Iterator[Entry]:
        """The entries in entry order; each call reads them again from the file."""
        self._sort()
        self._read = True
        read, seek, offsets = self._file.read, self._file.seek, self._offsets
        for packed in self._order:
            position = packed & 0xFFFFFFFF
            seek(offsets[position])  # always: another pass may have moved the file meanwhile
            yield _load(read(offsets[position + 1] - offsets[position]))

    def close(self) -> None:
        self._file.close()
