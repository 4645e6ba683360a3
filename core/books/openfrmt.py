"""The Tax Authority's uniform structure (מבנה אחיד, OPENFRMT 1.31) for expenses.

BKMVDATA.TXT holds A100, the accounts (B110), the journal lines (B100) and Z900; INI.TXT
holds A000 and a count per record type. The result is one zip holding the standard's
folder, `OPENFRMT/<8 digits of the VAT no.>.<YY>/<MMDDhhmm>/`, with INI.TXT and
BKMVDATA.zip in it. Positions: H131 §3.1, §4.1, §4.2, §4.6, §4.7 (notes/exports.md).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO

from core.books.accounts import Account, AccountPlan, Bookkeeping
from core.books.entries import Entry
from core.books.fixed import Encoder, amount, number, record, text

VERSION = b"&OF1.31&"
SOFTWARE = "Tayuk"
SOFTWARE_VERSION = "0.1.0"
DEBIT, CREDIT = 1, 2
ZERO = Decimal(0)


@dataclass(frozen=True)
class Company:
    vat_number: str  # nine digits
    name: str
    registrar_number: str = ""  # ח"פ, for a company


@dataclass(frozen=True)
class JournalLine:
    account: Account
    side: int
    amount: Decimal  # positive; the side says debit or credit
    currency: str = ""
    foreign_amount: Decimal = ZERO


def journal(entry: Entry, plan: AccountPlan) -> list[JournalLine]:
    """Expense net and non-deductible VAT to the expense account, deductible VAT to input
    VAT, the total to the supplier; a credit note swaps the sides. Always balanced."""
    debit, credit = (CREDIT, DEBIT) if entry.credit else (DEBIT, CREDIT)
    lines = [JournalLine(plan.expense_account(entry), debit, abs(entry.expense))]
    if entry.deductible_vat:
        lines.append(JournalLine(plan.vat_account(entry), debit, abs(entry.deductible_vat)))
    foreign = entry.foreign_total is not None
    lines.append(
        JournalLine(
            plan.supplier_account(entry),
            credit,
            abs(entry.total),
            entry.currency if foreign else "",
            abs(entry.foreign_total or ZERO),
        )
    )
    return lines


@dataclass
class _Totals:
    account: Account
    debit: Decimal = ZERO
    credit: Decimal = ZERO


@dataclass
class OpenFormatResult:
    folder: str  # OPENFRMT/<vat8>.<yy>/<MMDDhhmm>
    counts: dict[str, int] = field(default_factory=dict)
    records: int = 0  # in BKMVDATA, A100 and Z900 included
    replaced: dict[str, int] = field(default_factory=dict)


def folder(vat_number: str, produced: datetime) -> str:
    """H131 §2.2: the first eight digits of the VAT no., the production year and minute."""
    return f"OPENFRMT/{vat_number.zfill(9)[:8]}.{produced:%y}/{produced:%m%d%H%M}"


def a100(enc: Encoder, record_no: int, vat: str, primary_id: int) -> bytes:
    return record(
        b"A100", number(record_no, 9), number(vat, 9), number(primary_id, 15), VERSION,
        text(enc, "", 50), length=95,
    )  # fmt: skip


def z900(record_no: int, vat: str, primary_id: int, total_records: int) -> bytes:
    return record(
        b"Z900", number(record_no, 9), number(vat, 9), number(primary_id, 15), VERSION,
        number(total_records, 15), b" " * 50, length=110,
    )  # fmt: skip


def b110(enc: Encoder, record_no: int, vat: str, totals: _Totals) -> bytes:
    account = totals.account
    return record(
        b"B110", number(record_no, 9), number(vat, 9),
        text(enc, account.key, 15), text(enc, account.name, 50),
        text(enc, account.kind.value, 15), text(enc, "", 30),  # trial-balance code, its name
        text(enc, "", 50), text(enc, "", 10), text(enc, "", 30), text(enc, "", 8),  # address
        text(enc, "", 30), text(enc, "IL" if account.vendor_id else "", 2),
        text(enc, "", 15),  # parent account
        amount(ZERO, 14), amount(totals.debit, 14), amount(totals.credit, 14),
        number(0, 4), number(account.vendor_id or 0, 9), text(enc, "", 7),
        amount(ZERO, 14), text(enc, "", 3), text(enc, "", 16), length=376,
    )  # fmt: skip


def b100(
    enc: Encoder,
    record_no: int,
    vat: str,
    transaction: int,
    line_no: int,
    batch: int,
    entry: Entry,
    line: JournalLine,
    counter: str,
) -> bytes:
    middle, tail = _b100_shared(enc, batch, entry)
    return _b100_line(
        enc, number(record_no, 9), number(vat, 9), transaction, line_no, middle, tail, line,
        counter,
    )  # fmt: skip


def _b100_shared(enc: Encoder, batch: int, entry: Entry) -> tuple[bytes, bytes]:
    """What every journal line of one entry shares, made once per entry: the fields from
    the batch to the value date (1355-1363), and those after the amounts (1370-1377)."""
    day = f"{entry.day:%Y%m%d}".encode()
    middle = b"".join(
        (
            number(batch, 8), text(enc, str(entry.doc_type), 15), text(enc, entry.number, 20),
            number(entry.doc_type, 3), text(enc, str(entry.document_id), 20), number(0, 3),
            text(enc, entry.vendor_name, 50), day, day,
        )
    )  # fmt: skip
    # quantity, matching fields 1 and 2, branch; entry date; operator, reserved
    tail = amount(ZERO, 11) + b" " * 27 + day + b" " * 34
    return middle, tail


_NO_AMOUNT = amount(ZERO, 14)


def _b100_line(
    enc: Encoder,
    record_no: bytes,
    vat: bytes,
    transaction: int,
    line_no: int,
    middle: bytes,
    tail: bytes,
    line: JournalLine,
    counter: str,
) -> bytes:
    return record(
        b"B100", record_no, vat, number(transaction, 10), number(line_no, 5), middle,
        text(enc, line.account.key, 15), text(enc, counter, 15),
        b"1" if line.side == DEBIT else b"2",
        text(enc, line.currency, 3), amount(line.amount, 14),
        amount(line.foreign_amount, 14) if line.foreign_amount else _NO_AMOUNT, tail,
        length=317,
    )  # fmt: skip


def a000(
    enc: Encoder,
    *,
    company: Company,
    primary_id: int,
    total_records: int,
    path: str,
    bookkeeping: Bookkeeping,
    start: date,
    end: date,
    produced: datetime,
) -> bytes:
    return record(
        b"A000", text(enc, "", 5), number(total_records, 15), number(company.vat_number, 9),
        number(primary_id, 15), VERSION, number(0, 8), text(enc, SOFTWARE, 20),
        text(enc, SOFTWARE_VERSION, 20), number(0, 9), text(enc, SOFTWARE, 20),
        b"2",  # multi-year software: the range below, not a tax year
        text(enc, path.replace("/", "\\"), 50),
        b"1" if bookkeeping is Bookkeeping.SINGLE else b"2",
        b"1",  # every transaction balances on its own
        number(company.registrar_number or 0, 9), number(0, 9), text(enc, "", 10),
        text(enc, company.name, 50), text(enc, "", 50), text(enc, "", 10), text(enc, "", 30),
        text(enc, "", 8), number(start.year, 4), f"{start:%Y%m%d}".encode(),
        f"{end:%Y%m%d}".encode(), f"{produced:%Y%m%d}".encode(), f"{produced:%H%M}".encode(),
        b"0", b"1", text(enc, "zip", 20), text(enc, "ILS", 3), b"0", text(enc, "", 46),
        length=466,
    )  # fmt: skip


def summary(code: str, count: int) -> bytes:
    return record(code.encode(), number(count, 15), length=19)


_B100_SIZE = 317 + 2  # with CR LF


def write(
    out: BinaryIO,
    entries: Callable[[], Iterable[Entry]],
    *,
    company: Company,
    plan: AccountPlan,
    bookkeeping: Bookkeeping,
    start: date,
    end: date,
    produced: datetime,
    primary_id: int,
) -> OpenFormatResult:
    """One pass over `entries`: the journal lines go to a spooled file while the accounts
    sum up, then BKMVDATA is A100, the accounts (which need their totals), the journal lines
    numbered after them, and Z900. Memory holds the accounts, never the documents."""
    enc = Encoder()
    vat = company.vat_number
    vat9 = number(vat, 9)
    accounts: dict[str, _Totals] = {}
    lines = 0
    batch = int(f"{start:%Y%m}")
    unnumbered = number(0, 9)
    single = bookkeeping is Bookkeeping.SINGLE
    with tempfile.SpooledTemporaryFile(max_size=1 << 18) as journal_file:
        put = journal_file.write
        for transaction, entry in enumerate(entries(), start=1):
            journal_lines = journal(entry, plan)
            middle, tail = _b100_shared(enc, batch, entry)
            supplier = journal_lines[-1].account.key
            last = len(journal_lines)
            records = []
            for line_no, line in enumerate(journal_lines, start=1):
                totals = accounts.get(line.account.key)
                if totals is None:
                    totals = accounts[line.account.key] = _Totals(line.account)
                if line.side == DEBIT:
                    totals.debit += line.amount
                else:
                    totals.credit += line.amount
                counter = ""
                if single:
                    counter = supplier if line_no != last else journal_lines[0].account.key
                records.append(
                    _b100_line(
                        enc, unnumbered, vat9, transaction, line_no, middle, tail, line, counter
                    )
                )
            put(b"".join(records))
            lines += last
        path = folder(vat, produced)
        stamp = (produced.year, produced.month, produced.day, produced.hour, produced.minute, 0)
        with tempfile.SpooledTemporaryFile(max_size=1 << 20) as inner:
            with (
                zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as data_zip,
                data_zip.open(zipfile.ZipInfo("BKMVDATA.TXT", stamp), "w") as data,
            ):
                record_no = 1
                data.write(a100(enc, record_no, vat, primary_id))
                for key in sorted(accounts):
                    record_no += 1
                    data.write(b110(enc, record_no, vat, accounts[key]))
                # The journal lines get their running numbers now the accounts are counted.
                journal_file.seek(0)
                per_chunk = 2048
                while chunk := journal_file.read(_B100_SIZE * per_chunk):
                    block = bytearray(chunk)
                    for at in range(0, len(block), _B100_SIZE):
                        record_no += 1
                        block[at + 4 : at + 13] = b"%09d" % record_no
                    data.write(block)
                record_no += 1
                data.write(z900(record_no, vat, primary_id, record_no))
            counts = {"B100": lines, "B110": len(accounts)}
            ini = a000(
                enc,
                company=company,
                primary_id=primary_id,
                total_records=record_no,
                path=path,
                bookkeeping=bookkeeping,
                start=start,
                end=end,
                produced=produced,
            ) + b"".join(summary(code, count) for code, count in counts.items() if count)
            inner.seek(0)
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as outer:
                outer.writestr(zipfile.ZipInfo(f"{path}/INI.TXT", stamp), ini)
                with outer.open(zipfile.ZipInfo(f"{path}/BKMVDATA.zip", stamp), "w") as packed:
                    shutil.copyfileobj(inner, packed)
    return OpenFormatResult(path, counts, record_no, dict(enc.replaced))
