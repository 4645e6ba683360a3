"""Hashavshevet's MOVEIN.DAT movement file: one fixed 178-character record per document.

The layout follows the one public writer (notes/exports.md §1b); the first and last
records differ between published descriptions, so the office picks its convention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import BinaryIO

from core.books.accounts import AccountPlan
from core.books.entries import Entry
from core.books.fixed import Encoder, cents, record, text

LENGTH = 178  # plus CR LF: 180
ACCOUNT_WIDTH = 8


class MoveinConvention(StrEnum):
    NONE = "none"  # data records only
    COUNT = "count"  # a first record with the number of movements in characters 1-3
    ZERO_NINES = "zero_nines"  # a first record "  0" and a last record of nines


class AccountTooLong(ValueError):
    def __init__(self, account: str) -> None:
        super().__init__(f"account {account!r} is longer than {ACCOUNT_WIDTH} characters")
        self.account = account


def _account(enc: Encoder, key: str) -> bytes:
    if len(key) > ACCOUNT_WIDTH:
        raise AccountTooLong(key)
    return text(enc, key, ACCOUNT_WIDTH)


def _money(value: Decimal) -> bytes:
    return str(abs(cents(value))).rjust(12, "0").encode("ascii")


def _digits(value: str, width: int) -> bytes:
    digits = re.sub(r"\D", "", value)[-width:]
    return digits.rjust(width, "0").encode("ascii")


def movement(enc: Encoder, entry: Entry, plan: AccountPlan, movement_type: str) -> bytes:
    expense = plan.expense_account(entry).key
    vat = plan.vat_account(entry).key if entry.deductible_vat else ""
    supplier = plan.supplier_account(entry).key
    # debit 1, debit 2, credit 1, credit 2 with their amounts; a credit note swaps sides.
    if entry.credit:
        accounts = (supplier, "", expense, vat)
        amounts = (entry.total, Decimal(0), entry.expense, entry.deductible_vat)
    else:
        accounts = (expense, vat, supplier, "")
        amounts = (entry.expense, entry.deductible_vat, entry.total, Decimal(0))
    foreign = [Decimal(0)] * 4
    if entry.foreign_total is not None:
        foreign[0 if entry.credit else 2] = entry.foreign_total
    day = f"{entry.day:%d%m%y}".encode()
    return record(
        movement_type.rjust(3).encode("ascii"), _digits(entry.number, 5), day,
        _digits(str(entry.document_id), 5), day,
        text(enc, entry.currency if entry.foreign_total is not None else "", 3),
        text(enc, entry.vendor_name, 22),
        *(_account(enc, key) for key in accounts),
        *(_money(value) for value in amounts), *(_money(value) for value in foreign),
        length=LENGTH,
    )  # fmt: skip


def write(
    out: BinaryIO,
    entries: Iterable[Entry],
    *,
    plan: AccountPlan,
    convention: MoveinConvention = MoveinConvention.NONE,
    movement_type: str = "1",
    count: int = 0,
) -> int:
    """Writes the movements; `count` (the number of entries) is needed for COUNT."""
    enc = Encoder("cp1255")
    if convention is MoveinConvention.COUNT:
        if count > 999:
            raise ValueError("the count header holds at most 999 movements")
        out.write(record(str(count).rjust(3).encode(), b" " * (LENGTH - 3), length=LENGTH))
    elif convention is MoveinConvention.ZERO_NINES:
        out.write(record(b"  0", b" " * (LENGTH - 3), length=LENGTH))
    written = 0
    for entry in entries:
        out.write(movement(enc, entry, plan, movement_type))
        written += 1
    if convention is MoveinConvention.ZERO_NINES:
        out.write(record(b"9" * LENGTH, length=LENGTH))
    return written
