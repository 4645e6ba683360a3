"""The input side of PCN874, the detailed VAT report: header O, T lines, trailer X.

Tayuk sees only the expenses, so the sales fields of the header are zero; the office's
software merges these lines with its sales. Positions: notes/exports.md §1c.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import BinaryIO

from core.books.entries import Entry
from core.books.fixed import number, record, shekels

ZERO = Decimal(0)


def claimed(entry: Entry) -> bool:
    """An input line is a document whose VAT is (partly) deducted."""
    return bool(entry.deductible_vat)


def _whole(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_vat(entry: Entry) -> int:
    """The line's VAT in whole shekels, signed as it counts in the header."""
    return _whole(entry.deductible_vat)


def t_line(entry: Entry) -> bytes:
    reference = re.sub(r"\D", "", entry.number)[-9:]
    return record(
        b"T", number(entry.vendor_id or 0, 9), f"{entry.day:%Y%m%d}".encode(), b"0000",
        number(reference or 0, 9), shekels(abs(entry.deductible_vat), 9, signed=False),
        shekels(entry.net, 10, signed=True), number(entry.allocation_number[-9:] or 0, 9),
        length=60,
    )  # fmt: skip


@dataclass
class Pcn874Result:
    lines: int = 0
    other_vat: int = 0
    equipment_vat: int = 0


def header(
    vat_number: str, report_month: tuple[int, int], produced: datetime, totals: Pcn874Result
) -> bytes:
    # A bi-monthly reporter's period goes under its second month, as the Authority's
    # deadline table files it (notes/israel-tax.md). Unverified for this field: the ITA's
    # 874 PDF was not read, and the one implementation only says "month reported" (YYYYMM).
    year, month = report_month
    to_pay = -(totals.other_vat + totals.equipment_vat)  # no sales here: a refund
    return record(
        b"O", number(vat_number, 9), f"{year:04d}{month:02d}".encode(), b"1",
        f"{produced:%Y%m%d}".encode(),
        shekels(ZERO, 11, signed=True), shekels(ZERO, 9, signed=True),  # taxable sales, VAT
        shekels(ZERO, 11, signed=True), shekels(ZERO, 9, signed=True),  # different rate
        number(0, 9), shekels(ZERO, 11, signed=True),  # sales records, exempt sales
        shekels(Decimal(totals.other_vat), 9, signed=True),
        shekels(Decimal(totals.equipment_vat), 9, signed=True),
        number(totals.lines, 9), shekels(Decimal(to_pay), 11, signed=True), length=131,
    )  # fmt: skip


def write(
    out: BinaryIO,
    entries: Callable[[], Iterable[Entry]],
    *,
    vat_number: str,
    report_month: tuple[int, int],
    produced: datetime,
) -> Pcn874Result:
    """The header's totals are the sums of the lines as written (whole shekels each).
    One pass: the lines wait in a spooled file until the header, which comes first, is
    known."""
    totals = Pcn874Result()
    with tempfile.SpooledTemporaryFile(max_size=1 << 18) as lines:
        for entry in entries():
            if not claimed(entry):
                continue
            totals.lines += 1
            if entry.equipment:
                totals.equipment_vat += line_vat(entry)
            else:
                totals.other_vat += line_vat(entry)
            lines.write(t_line(entry))
        out.write(header(vat_number, report_month, produced, totals))
        lines.seek(0)
        shutil.copyfileobj(lines, out)
    out.write(record(b"X", number(vat_number, 9), length=10))
    return totals
