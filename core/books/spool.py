"""A period's entries kept on disk in the order they were read, given back in entry order.

An export reads the period from the database once; the writers need the entries oldest
first (the database gives them in arrival order), and two of them read twice. Each entry
is kept as a small marshalled tuple in a spooled temporary file, so memory holds only the
sort keys and offsets, not the entries.
"""

from __future__ import annotations

import marshal
import tempfile
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
    """Add entries in any order; iterate them (as often as needed) sorted by their keys."""

    IN_MEMORY = 1 << 20  # bytes kept in memory before the file goes to disk

    def __init__(self) -> None:
        # Closed by close(), when the export is written.
        self._file = tempfile.SpooledTemporaryFile(max_size=self.IN_MEMORY)  # noqa: SIM115
        self._index: list[tuple[SortKey, int, int]] = []
        self._end = 0
        self._sorted = True

    def add(self, key: SortKey, entry: Entry) -> None:
        raw = _dump(entry)
        self._file.seek(self._end)
        self._file.write(raw)
        if self._index and key < self._index[-1][0]:
            self._sorted = False
        self._index.append((key, self._end, len(raw)))
        self._end += len(raw)

    def __len__(self) -> int:
        return len(self._index)

    def keys(self) -> list[SortKey]:
        self._sort()
        return [key for key, _, _ in self._index]

    def _sort(self) -> None:
        if not self._sorted:
            self._index.sort()
            self._sorted = True

    def __call__(self) -> Iterator[Entry]:
        """The entries in key order; each call reads them again from the file."""
        self._sort()
        read, seek = self._file.read, self._file.seek
        for _, offset, length in self._index:
            seek(offset)  # always: another pass may have moved the file meanwhile
            yield _load(read(length))

    def close(self) -> None:
        self._file.close()
