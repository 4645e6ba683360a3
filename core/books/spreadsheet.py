"""CSV (UTF-8 with BOM, so Excel opens Hebrew) and XLSX exports of a period's documents.

Column titles, category and reason names come from the caller (the locale); the writers
stream rows and keep only the running totals.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, BinaryIO

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
    # XlsxWriter, not openpyxl: openpyxl's write-only mode builds an lxml element and binds
    # a cell object per cell. 10,000 documents on a shared 2-core machine, CPU (wall) s:
    #   writer alone, entries prebuilt, quiet machine, 6 runs each:
    #     openpyxl 3.1.5 write-only + lxml, shared styles  1.69-2.22 (1.70-2.21)
    #     XlsxWriter 3.3.1 constant_memory                  0.96-1.00 (0.98-1.04)
    #   same under heavy load, 3 runs each: 2.6-3.1 (3.0-6.2) -> 1.2-1.5 (2.6-3.5)
    #   bench/export.py xlsx (documents made on the fly): 2.29 (2.31) -> 1.46 (1.49);
    #   peak traced memory 0.41 -> 0.64 MB, the same at 1,000 documents.
    # What is left is XlsxWriter's own per-cell work; openpyxl still reads the file back in
    # the tests.
    import xlsxwriter

    labels = labels or {}
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            # Vendor names are data: never a formula, a link or a number by accident.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    bold_money = book.add_format({"num_format": "#,##0.00", "bold": True})
    sheet = book.add_worksheet(labels.get("sheet.documents", "documents"))
    if right_to_left:
        sheet.right_to_left()
    sheet.freeze_panes(1, 0)

    for col, name in enumerate(COLUMNS):
        sheet.write_string(0, col, labels.get(f"column.{name}", name), bold)
    picture = VatPicture(to_file=to_file, returned=returned)
    amount_columns = {*AMOUNTS, "foreign_total"}
    # Per column, the writer and the format its cells get: typed cells, no guessing.
    numbers = {*amount_columns, "document", "doc_type", "rate"}
    plan = [
        (
            col,
            sheet.write_datetime
            if name == "date"
            else sheet.write_number
            if name in numbers
            else sheet.write_string,
            day if name == "date" else money if name in amount_columns else None,
        )
        for col, name in enumerate(COLUMNS)
    ]
    row_number = 0
    for entry in entries:
        picture.add(entry)
        row_number += 1
        for (col, write, style), value in zip(plan, _row(entry, labels), strict=True):
            if value is not None and value != "":  # an empty cell costs nothing to write
                write(row_number, col, value, style)
    sums = _summary(picture)
    row_number += 1
    sheet.write_string(row_number, 0, labels.get("column.totals", "totals"), bold)
    for name in AMOUNTS:
        sheet.write_number(row_number, COLUMNS.index(name), float(sums[name]), bold_money)

    summary = book.add_worksheet(labels.get("sheet.summary", "VAT"))
    if right_to_left:
        summary.right_to_left()
    line = 0
    for key in SUMMARY:
        value = sums[key]
        summary.write_string(line, 0, labels.get(f"summary.{key}", key), bold)
        summary.write_number(line, 1, float(value), money if isinstance(value, Decimal) else None)
        line += 1
    for reason, part in sorted(picture.not_deducted.items()):
        summary.write_string(line, 0, labels.get(f"reason.{reason}", reason), bold)
        summary.write_number(line, 1, float(part.non_deductible_vat), money)
        summary.write_number(line, 2, part.documents)
        line += 1
    book.close()
    return picture
