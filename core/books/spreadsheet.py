"""CSV (UTF-8 with BOM, so Excel opens Hebrew) and XLSX exports of a period's documents.

Column titles, category and reason names come from the caller (the locale); the writers
stream rows and keep only the running totals.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, BinaryIO

from core.books import xlsx
from core.books.entries import Entry, VatPicture

COLUMNS = (
    "document",
    "date",
    "number",
    "vendor",
    "vendor_id",
    "category",
    "doc_type",
    "currency",
    "foreign_total",
    "rate",
    "net",
    "vat",
    "deductible_vat",
    "non_deductible_vat",
    "total",
    "allocation_number",
    "reasons",
)
AMOUNTS = ("net", "vat", "deductible_vat", "non_deductible_vat", "total")
SUMMARY = (
    "documents",
    "net",
    "vat",
    "deductible_vat",
    "non_deductible_vat",
    "total",
    "equipment_vat",
    "other_vat",
    "to_file",
    "returned",
)


def _row(entry: Entry, labels: Mapping[str, str]) -> tuple[Any, ...]:
    """The entry's cells in COLUMNS order."""
    return (
        entry.document_id,
        entry.day,
        entry.number,
        entry.vendor_name,
        entry.vendor_id,
        labels.get(f"category.{entry.category}", entry.category),
        entry.doc_type,
        entry.currency,
        entry.foreign_total,
        entry.rate,
        entry.net,
        entry.vat,
        entry.deductible_vat,
        entry.non_deductible_vat,
        entry.total,
        entry.allocation_number,
        "; ".join(labels.get(f"reason.{r}", r) for r in entry.reasons),
    )


def _summary(picture: VatPicture) -> dict[str, Decimal | int]:
    return {
        "documents": picture.filed.documents,
        "net": picture.filed.net,
        "vat": picture.filed.vat,
        "deductible_vat": picture.filed.deductible_vat,
        "non_deductible_vat": picture.filed.non_deductible_vat,
        "total": picture.filed.total,
        "equipment_vat": picture.equipment.deductible_vat,
        "other_vat": picture.other.deductible_vat,
        "to_file": picture.to_file,
        "returned": picture.returned,
    }


def write_csv(
    out: BinaryIO, entries: Iterable[Entry], labels: Mapping[str, str] | None = None
) -> VatPicture:
    labels = labels or {}
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([labels.get(f"column.{c}", c) for c in COLUMNS])
        picture = VatPicture()
        for entry in entries:
            picture.add(entry)
            row = _row(entry, labels)
            writer.writerow(
                [
                    "" if value is None else value.isoformat() if c == "date" else value
                    for c, value in zip(COLUMNS, row, strict=True)
                ]
            )
        writer.writerow(
            [labels.get("column.totals", "totals")]
            + [""] * (COLUMNS.index("net") - 1)
            + [_summary(picture)[c] for c in AMOUNTS]
            + ["", ""]
        )
        text.flush()
    finally:
        text.detach()  # the caller owns `out`
    return picture


def write_xlsx(
    out: BinaryIO,
    entries: Iterable[Entry],
    labels: Mapping[str, str] | None = None,
    *,
    right_to_left: bool = True,
    to_file: int = 0,
    returned: int = 0,
) -> VatPicture:
    # Neither openpyxl nor XlsxWriter: their per-cell Python is the whole cost. 10,000
    # documents on a shared 2-core machine, CPU (wall) s:
    #   writer alone, entries prebuilt, quiet machine, 6 runs each:
    #     openpyxl 3.1.5 write-only + lxml, shared styles  1.69-2.22 (1.70-2.21)
    #     XlsxWriter 3.3.1 constant_memory                  0.96-1.00 (0.98-1.04)
    #   loaded machine (load 10), 2 runs each:
    #     XlsxWriter 3.3.1 constant_memory                  0.86-0.87
    #     XlsxWriter, its private per-cell writers          0.77-0.78
    #     core.books.xlsx, one string per row               see the commit / bench
    # openpyxl reads the file back in the tests.
    labels = labels or {}
    book = xlsx.Workbook(out)
    picture = VatPicture(to_file=to_file, returned=returned)
    amount_columns = {*AMOUNTS, "foreign_total"}
    numbers = {*amount_columns, "document", "doc_type", "rate"}
    # Per column: its letter, how its cells are written and their style: typed, no guessing.
    plan: list[tuple[str, Callable[[str, Any, int], str], int]] = [
        (
            xlsx.column_letter(col),
            xlsx.day_cell
            if name == "date"
            else xlsx.number_cell
            if name in numbers
            else xlsx.text_cell,
            xlsx.DAY if name == "date" else xlsx.MONEY if name in amount_columns else xlsx.PLAIN,
        )
        for col, name in enumerate(COLUMNS)
    ]

    def rows() -> Iterator[str]:
        yield xlsx.row(
            1,
            [
                xlsx.text_cell(
                    f"{xlsx.column_letter(col)}1", labels.get(f"column.{name}", name), xlsx.BOLD
                )
                for col, name in enumerate(COLUMNS)
            ],
        )
        number = 1
        for entry in entries:
            picture.add(entry)
            number += 1
            cells = [
                write(f"{letter}{number}", value, style)
                for (letter, write, style), value in zip(plan, _row(entry, labels), strict=True)
                if value is not None and value != ""  # an empty cell is simply not written
            ]
            yield f'<row r="{number}">{"".join(cells)}</row>'
        number += 1
        sums = _summary(picture)
        yield xlsx.row(
            number,
            [xlsx.text_cell(f"A{number}", labels.get("column.totals", "totals"), xlsx.BOLD)]
            + [
                xlsx.number_cell(
                    f"{xlsx.column_letter(COLUMNS.index(name))}{number}",
                    sums[name],
                    xlsx.BOLD_MONEY,
                )
                for name in AMOUNTS
            ],
        )

    book.sheet(
        labels.get("sheet.documents", "documents"),
        rows(),
        right_to_left=right_to_left,
        freeze_header=True,
    )
    sums = _summary(picture)
    summary: list[str] = []
    for line, key in enumerate(SUMMARY, start=1):
        value = sums[key]
        summary.append(
            xlsx.row(
                line,
                [
                    xlsx.text_cell(f"A{line}", labels.get(f"summary.{key}", key), xlsx.BOLD),
                    xlsx.number_cell(
                        f"B{line}", value, xlsx.MONEY if isinstance(value, Decimal) else xlsx.PLAIN
                    ),
                ],
            )
        )
    for line, (reason, part) in enumerate(
        sorted(picture.not_deducted.items()), start=len(SUMMARY) + 1
    ):
        summary.append(
            xlsx.row(
                line,
                [
                    xlsx.text_cell(f"A{line}", labels.get(f"reason.{reason}", reason), xlsx.BOLD),
                    xlsx.number_cell(f"B{line}", part.non_deductible_vat, xlsx.MONEY),
                    xlsx.number_cell(f"C{line}", part.documents),
                ],
            )
        )
    book.sheet(
        labels.get("sheet.summary", "VAT"),
        summary,
        right_to_left=right_to_left,
        freeze_header=False,
    )
    book.close()
    return picture
