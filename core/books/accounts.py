"""Which ledger account each part of an expense goes to, per office.

The office maps its categories to expense accounts, names its input-VAT accounts, and
keys supplier accounts by the vendor's business number; a vendor without an account of
its own gets the default scheme: the supplier prefix and the business number, or the
general suppliers account when the number was not read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from core.books.entries import Entry
from core.categories import CATEGORIES

# A starting chart an office can keep or replace (keys up to 15 characters, OPENFRMT 1364).
DEFAULT_EXPENSE_ACCOUNTS: dict[str, str] = {
    key: str(6100 + 10 * index) for index, key in enumerate(CATEGORIES)
}
INPUT_VAT = "input_vat"
EQUIPMENT_VAT = "equipment_vat"
SUPPLIER_PREFIX = "supplier_prefix"
SUPPLIERS = "suppliers"  # the general suppliers account
DEFAULT_SETTINGS: dict[str, str] = {
    INPUT_VAT: "1800",
    EQUIPMENT_VAT: "1810",
    SUPPLIER_PREFIX: "4",
    SUPPLIERS: "40000",
}
ACCOUNT_KEY = re.compile(r"^[0-9A-Za-z\-_.\/]{1,15}$")


class Bookkeeping(StrEnum):
    SINGLE = "single"  # OPENFRMT 1013 = 1
    DOUBLE = "double"  # OPENFRMT 1013 = 2


class AccountKind(StrEnum):
    EXPENSE = "expense"
    INPUT_VAT = "input_vat"
    SUPPLIER = "supplier"


@dataclass(frozen=True)
class Account:
    key: str
    kind: AccountKind
    name: str  # category or vendor name, for the account record
    vendor_id: str = ""


@dataclass
class AccountPlan:
    """The office's mapping; `names` gives category display names for account records."""

    expense: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_EXPENSE_ACCOUNTS))
    settings: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    suppliers: dict[str, str] = field(default_factory=dict)  # business number -> account
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        mappings: Mapping[tuple[str, str], str],
        names: Mapping[str, str] | None = None,
    ) -> AccountPlan:
        """From the office's rows: (kind, key) -> account, kind in expense/setting/supplier."""
        plan = cls(names=names or {})
        for (kind, key), account in mappings.items():
            if kind == "expense":
                plan.expense[key] = account
            elif kind == "setting":
                plan.settings[key] = account
            elif kind == "supplier":
                plan.suppliers[key] = account
        return plan

    def expense_account(self, entry: Entry) -> Account:
        key = self.expense.get(entry.category) or self.expense.get("other") or "6000"
        return Account(key, AccountKind.EXPENSE, self.names.get(entry.category, entry.category))

    def vat_account(self, entry: Entry) -> Account:
        setting = EQUIPMENT_VAT if entry.equipment else INPUT_VAT
        key = self.settings.get(setting) or DEFAULT_SETTINGS[setting]
        return Account(key, AccountKind.INPUT_VAT, self.names.get(setting, setting))

    def supplier_account(self, entry: Entry) -> Account:
        if entry.vendor_id:
            key = self.suppliers.get(entry.vendor_id) or (
                self.settings.get(SUPPLIER_PREFIX, "4") + entry.vendor_id
            )
            return Account(key[:15], AccountKind.SUPPLIER, entry.vendor_name, entry.vendor_id)
        key = self.settings.get(SUPPLIERS) or DEFAULT_SETTINGS[SUPPLIERS]
        return Account(key, AccountKind.SUPPLIER, self.names.get(SUPPLIERS, SUPPLIERS))


class MappingError(ValueError):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


def parse_mapping_csv(raw: bytes) -> dict[tuple[str, str], str]:
    """An office's chart as CSV rows `kind,key,account`:

    expense,vehicle,6110 / setting,input_vat,1800 / supplier,514713288,40021
    A header row is skipped; UTF-8 (with or without BOM) or windows-1255.
    """
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        decoded = raw.decode("cp1255")
    found: dict[tuple[str, str], str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(decoded)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() == "kind":
            continue
        if len(cells) < 3:
            raise MappingError(number, "columns")
        kind, key, account = cells[0].lower(), cells[1], cells[2]
        check_mapping(kind, key, account, line=number)
        if kind == "supplier":
            key = re.sub(r"\D", "", key).zfill(9)
        found[(kind, key)] = account
    return found


def check_mapping(kind: str, key: str, account: str, *, line: int = 0) -> None:
    if not ACCOUNT_KEY.match(account):
        raise MappingError(line, "account")
    if kind == "expense":
        if key not in CATEGORIES:
            raise MappingError(line, "category")
    elif kind == "setting":
        if key not in DEFAULT_SETTINGS:
            raise MappingError(line, "setting")
    elif kind == "supplier":
        if not re.fullmatch(r"\d{1,9}", re.sub(r"[\s-]", "", key)):
            raise MappingError(line, "business_number")
    else:
        raise MappingError(line, "kind")
