"""CSV (UTF-8 with BOM, so Excel opens Hebrew) and XLSX exports of a period's documents.

Column titles, category and reason names come from the caller (the locale); the writers
stream rows and keep only the running totals.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from copy import copy
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


def _row(entry: Entry, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "document": entry.document_id,
        "date": entry.day,
        "number": entry.number,
        "vendor": entry.vendor_name,
        "vendor_id": entry.vendor_id,
        "category": labels.get(f"category.{entry.category}", entry.category),
        "doc_type": entry.doc_type,
        "currency": entry.currency,
        "foreign_total": entry.foreign_total,
        "rate": entry.rate,
        "net": entry.net,
        "vat": entry.vat,
        "deductible_vat": entry.deductible_vat,
        "non_deductible_vat": entry.non_deductible_vat,
        "total": entry.total,
        "allocation_number": entry.allocation_number,
        "reasons": "; ".join(labels.get(f"reason.{r}", r) for r in entry.reasons),
    }


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
                    "" if row[c] is None else row[c].isoformat() if c == "date" else row[c]
                    for c in COLUMNS
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
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, NamedStyle

    labels = labels or {}
    book = Workbook(write_only=True)
    money = NamedStyle("money", number_format="#,##0.00")
    day = NamedStyle("day", number_format="dd/mm/yyyy")
    bold = NamedStyle("bold", font=Font(bold=True))
    bold_money = NamedStyle("bold_money", number_format="#,##0.00", font=Font(bold=True))
    for style in (money, day, bold, bold_money):
        book.add_named_style(style)
    sheet = book.create_sheet(labels.get("sheet.documents", "documents"))
    sheet.sheet_view.rightToLeft = right_to_left
    sheet.freeze_panes = "A2"

    # Setting a named style looks it up each time; copying a styled cell's style does not.
    templates: dict[str, Any] = {}

    def cell(value: Any, style: str | None = None) -> WriteOnlyCell:
        made = WriteOnlyCell(sheet, value=value)
        if style:
            template = templates.get(style)
            if template is None:
                template = templates[style] = WriteOnlyCell(sheet)
                template.style = style
            made._style = copy(template._style)
        return made

    sheet.append([cell(labels.get(f"column.{c}", c), "bold") for c in COLUMNS])
    picture = VatPicture(to_file=to_file, returned=returned)
    amount_columns = {*AMOUNTS, "foreign_total"}
    # One styled cell per column, reused: a row is written out as soon as it is appended.
    styled = {c: cell(None, "money") for c in amount_columns} | {"date": cell(None, "day")}
    for entry in entries:
        picture.add(entry)
        row = _row(entry, labels)
        values: list[Any] = []
        for column in COLUMNS:
            value = row[column]
            if value is None or value == "":
                values.append(None)  # an empty cell costs nothing to write
                continue
            if column in amount_columns or column == "rate":
                value = float(value)
            target = styled.get(column)
            if target is not None:
                target.value = value
                values.append(target)
            else:
                values.append(value)
        sheet.append(values)
    sums = _summary(picture)
    totals: list[Any] = [cell(labels.get("column.totals", "totals"), "bold")]
    totals += [None] * (COLUMNS.index("net") - 1)
    totals += [cell(float(sums[c]), "bold_money") for c in AMOUNTS]
    sheet.append(totals)

    summary = book.create_sheet(labels.get("sheet.summary", "VAT"))
    summary.sheet_view.rightToLeft = right_to_left
    for key in SUMMARY:
        value = sums[key]
        summary.append(
            [
                cell(labels.get(f"summary.{key}", key), "bold"),
                cell(float(value), "money") if isinstance(value, Decimal) else value,
            ]
        )
    for reason, part in sorted(picture.not_deducted.items()):
        summary.append(
            [
                cell(labels.get(f"reason.{reason}", reason), "bold"),
                cell(float(part.non_deductible_vat), "money"),
                part.documents,
            ]
        )
    book.save(out)
    return picture
