"""Every written file read back field by field with tests/books/readers.py."""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.books import movein, openfrmt, pcn874, spreadsheet
from core.books.accounts import AccountPlan, Bookkeeping
from core.books.entries import Entry, entry_of
from core.books.fixed import Encoder, amount
from core.categories import DEFAULT_CHART
from core.domain import DocumentKind
from tests.books.factory import filed
from tests.books.readers import (
    A000,
    MOVEIN,
    PCN_HEADER,
    PCN_LINE,
    parse,
    parse_bkmvdata,
    split_records,
)

RATES = {("USD", date(2026, 11, 5)): Decimal("3.7")}
PLAN = AccountPlan.of(
    {
        ("expense", "office_supplies"): "6100",
        ("expense", "vehicle"): "6110",
        ("setting", "input_vat"): "1800",
        ("supplier", "514713288"): "40021",
    },
    names={"office_supplies": "ציוד משרדי", "vehicle": "רכב"},
)
COMPANY = openfrmt.Company("514713288", "חברת ״טיוק״ בע״מ")
PRODUCED = datetime(2026, 12, 1, 10, 25)
START, END = date(2026, 11, 1), date(2026, 11, 30)


def entries_of(*documents: object) -> list[Entry]:
    return [entry_of(d, DEFAULT_CHART, RATES) for d in documents]  # type: ignore[arg-type]


def mixed() -> list[Entry]:
    return entries_of(
        filed(1, "1180", "180", number="INV-1001"),
        filed(2, "1180", "180", category="vehicle"),
        filed(3, "118", "18", kind=DocumentKind.CREDIT_NOTE),
        filed(4, "100", "0", kind=DocumentKind.INVOICE, currency="USD", vendor_id=None,
              vendor_name="Amazon Web Services"),
        filed(5, "2360", "360", category="equipment", vendor_id="516029543",
              vendor_name="מחשבים – ₪ ‏בע\"מ", allocation="1234567890123"),
    )  # fmt: skip


def export_openfrmt(
    entries: Iterable[Entry],
    *,
    bookkeeping: Bookkeeping = Bookkeeping.DOUBLE,
    produced: datetime = PRODUCED,
    primary_id: int = 123456789012345,
) -> tuple[str, bytes, bytes]:
    rows = list(entries)
    out = io.BytesIO()
    openfrmt.write(
        out, lambda: rows, company=COMPANY, plan=PLAN, bookkeeping=bookkeeping,
        start=START, end=END, produced=produced, primary_id=primary_id,
    )  # fmt: skip
    with zipfile.ZipFile(out) as outer:
        names = outer.namelist()
        assert len(names) == 2
        folder = names[0].rsplit("/", 1)[0]
        assert sorted(names) == [f"{folder}/BKMVDATA.zip", f"{folder}/INI.TXT"]
        ini = outer.read(f"{folder}/INI.TXT")
        with zipfile.ZipFile(io.BytesIO(outer.read(f"{folder}/BKMVDATA.zip"))) as inner:
            assert inner.namelist() == ["BKMVDATA.TXT"]
            data = inner.read("BKMVDATA.TXT")
    return folder, ini, data


def test_amounts_and_text_follow_the_standard() -> None:
    assert amount(Decimal("-12345.65"), 7) == b"-1234565"
    assert amount(Decimal("1245.65"), 7) == b"+0124565"
    assert amount(Decimal("1245"), 7) == b"+0124500"
    enc = Encoder()
    assert enc.encode("חברת ״טיוק״ בע׳מ ₪\u200f") == 'חברת "טיוק" בע\'מ '.encode("iso8859_8")
    assert enc.replaced == {}
    assert enc.encode("café 😀") == b"cafe ?"
    assert enc.replaced == {"😀": 1}  # counted and reported, not dropped silently


def test_the_notes_test_vector_one_invoice_three_lines() -> None:
    folder, ini, data = export_openfrmt(entries_of(filed(1, "1180", "180", number="1001")))
    assert folder == "OPENFRMT/51471328.26/12011025"
    records = parse_bkmvdata(data)
    assert [r["code"] for r in records] == ["A100", "B110", "B110", "B110",
                                            "B100", "B100", "B100", "Z900"]  # fmt: skip
    journal = [r for r in records if r["code"] == "B100"]
    assert [(r["account"], r["side"], r["amount"]) for r in journal] == [
        ("6100", 1, Decimal("1000.00")),
        ("1800", 1, Decimal("180.00")),
        ("40021", 2, Decimal("1180.00")),
    ]
    assert {r["transaction"] for r in journal} == {1}
    assert [r["line"] for r in journal] == [1, 2, 3]
    first = journal[0]
    assert first["reference"] == "1001" and first["reference_type"] == 700
    assert first["date"] == first["value_date"] == 20261105 and first["vat"] == 514713288
    supplier = next(r for r in records if r["code"] == "B110" and r["account"] == "40021")
    assert supplier["supplier_vat"] == 514713288 and supplier["credit"] == Decimal("1180.00")
    assert records[-1]["total_records"] == 8
    assert [r["record_no"] for r in records] == list(range(1, 9))
    lines = split_records(ini)
    header = parse(lines[0], A000)
    assert header["total_records"] == 8 and header["primary_id"] == 123456789012345
    assert header["version"] == "&OF1.31&" and header["charset"] == 1
    assert header["bookkeeping"] == 2 and header["name"] == 'חברת "טיוק" בע"מ'
    assert (header["range_start"], header["range_end"]) == (20261101, 20261130)
    assert (header["process_date"], header["process_time"]) == (20261201, 1025)
    assert header["path"] == "OPENFRMT\\51471328.26\\12011025"
    assert lines[1:] == [b"B100000000000000003", b"B110000000000000003"]


@pytest.mark.parametrize("bookkeeping", list(Bookkeeping))
def test_every_transaction_balances_and_counts_match(bookkeeping: Bookkeeping) -> None:
    entries = mixed()
    _, ini, data = export_openfrmt(entries, bookkeeping=bookkeeping)
    records = parse_bkmvdata(data)
    by_transaction: dict[int, list[dict[str, object]]] = defaultdict(list)
    for r in records:
        if r["code"] == "B100":
            by_transaction[int(r["transaction"])].append(r)  # type: ignore[call-overload]
    assert len(by_transaction) == len(entries)
    debit_of: dict[str, Decimal] = defaultdict(Decimal)
    credit_of: dict[str, Decimal] = defaultdict(Decimal)
    for number, lines in by_transaction.items():
        entry = entries[number - 1]
        debit = sum(Decimal(str(r["amount"])) for r in lines if r["side"] == 1)
        credit = sum(Decimal(str(r["amount"])) for r in lines if r["side"] == 2)
        assert debit == credit == abs(entry.total), number
        assert all(r["reference2"] == str(entry.document_id) for r in lines)
        assert all(r["reference_type"] == entry.doc_type for r in lines)
        for r in lines:
            target = debit_of if r["side"] == 1 else credit_of
            target[str(r["account"])] += Decimal(str(r["amount"]))
        if bookkeeping is Bookkeeping.SINGLE:
            assert all(r["counter_account"] for r in lines)
        else:
            assert not any(r["counter_account"] for r in lines)
    # The credit note swaps the sides: the supplier is debited.
    credit_note = by_transaction[3]
    assert [(r["account"], r["side"]) for r in credit_note] == [
        ("6100", 2), ("1800", 2), ("40021", 1)
    ]  # fmt: skip
    # Vehicle: 2/3 of the VAT to input VAT, the rest with the net to the expense.
    assert [r["amount"] for r in by_transaction[2]] == [Decimal("1060"), 120, 1180]
    # The foreign document: currency and amount on the supplier line, general suppliers.
    fx = by_transaction[4][-1]
    assert (fx["account"], fx["currency"], fx["foreign_amount"]) == ("40000", "USD", 100)
    assert fx["amount"] == Decimal("370.00")
    # Equipment VAT to its own account; the normalised vendor name.
    assert by_transaction[5][1]["account"] == "1810"
    assert by_transaction[5][0]["details"] == 'מחשבים -  בע"מ'
    # Account records carry the totals of the journal.
    accounts = {r["account"]: r for r in records if r["code"] == "B110"}
    assert set(accounts) == set(debit_of) | set(credit_of)
    for key, account in accounts.items():
        assert account["debit"] == debit_of[key] and account["credit"] == credit_of[key]
    assert accounts["4516029543"]["supplier_vat"] == 516029543
    assert accounts["6110"]["name"] == "רכב"
    b100 = sum(1 for r in records if r["code"] == "B100")
    assert records[-1]["total_records"] == len(records)
    lines = split_records(ini)
    assert parse(lines[0], A000)["total_records"] == len(records)
    assert parse(lines[0], A000)["bookkeeping"] == (1 if bookkeeping is Bookkeeping.SINGLE else 2)
    b110 = len(accounts)
    assert b110 == 8  # 3 expense, 2 input VAT, 3 supplier accounts
    assert lines[1:] == [b"B100%015d" % b100, b"B110%015d" % b110]


def test_the_same_period_twice_differs_only_where_the_standard_says() -> None:
    _, ini1, data1 = export_openfrmt(mixed())
    _, ini2, data2 = export_openfrmt(
        mixed(), produced=datetime(2026, 12, 2, 9, 0), primary_id=987654321098765
    )
    varying = {"primary_id", "process_date", "process_time", "path"}
    first, second = parse_bkmvdata(data1), parse_bkmvdata(data2)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert {k: v for k, v in a.items() if k not in varying} == {
            k: v for k, v in b.items() if k not in varying
        }
    h1, h2 = parse(split_records(ini1)[0], A000), parse(split_records(ini2)[0], A000)
    assert {k for k in h1 if h1[k] != h2[k]} == varying


def test_pcn874_input_lines_and_header_totals() -> None:
    entries = mixed()
    out = io.BytesIO()
    pcn874.write(
        out, lambda: entries, vat_number="514713288", report_month=(2026, 11), produced=PRODUCED
    )
    records = split_records(out.getvalue())
    header = parse(records[0], PCN_HEADER)
    lines = [parse(r, PCN_LINE) for r in records[1:-1]]
    assert records[-1] == b"X514713288"
    assert (header["vat"], header["period"], header["type"]) == (514713288, 202611, 1)
    assert header["generated"] == 20261201 and header["sales"] == 0
    assert header["input_records"] == len(lines) == 4  # the foreign invoice claims nothing
    assert all(line["type"] == "T" for line in lines)
    signed = [line["vat"] * (-1 if int(line["net"]) < 0 else 1) for line in lines]  # type: ignore[operator]
    equipment = [s for s, line in zip(signed, lines, strict=True) if line["vendor"] == 516029543]
    assert header["equipment_vat"] == sum(equipment) == 360
    assert header["other_inputs_vat"] == sum(signed) - 360 == 180 + 120 - 18
    assert header["to_pay"] == -(180 + 120 - 18 + 360)
    first, _, credit, equip = lines
    assert first["reference"] == 1001 and first["vat"] == 180 and first["net"] == 1000
    assert credit["net"] == -100 and credit["vat"] == 18
    assert equip["allocation"] == 567890123  # the last nine digits


def test_a_t_line_matches_the_notes_vector() -> None:
    entry = entries_of(filed(10234, "1180", "180", number="10234", allocation="123456789"))[0]
    assert pcn874.t_line(entry) == (
        b"T514713288202611050000000010234000000180+0000001000123456789\r\n"
    )


@pytest.mark.parametrize("convention", list(movein.MoveinConvention))
def test_movein_records(convention: movein.MoveinConvention) -> None:
    plan = AccountPlan.of({("supplier", "514713288"): "40021", ("supplier", "516029543"): "40022"})
    entries = mixed()
    out = io.BytesIO()
    movein.write(out, entries, plan=plan, convention=convention, count=len(entries))
    records = split_records(out.getvalue())
    assert all(len(r) + 2 == 180 for r in records)
    if convention is movein.MoveinConvention.COUNT:
        assert records.pop(0) == b"  5" + b" " * 175
    elif convention is movein.MoveinConvention.ZERO_NINES:
        assert records.pop(0).startswith(b"  0 ") and records.pop() == b"9" * 178
    rows = [parse(r, MOVEIN, "cp1255") for r in records]
    assert len(rows) == len(entries)
    for row, entry in zip(rows, entries, strict=True):
        debit = Decimal(str(row["debit1_amount"])) + Decimal(str(row["debit2_amount"]))
        credit = Decimal(str(row["credit1_amount"])) + Decimal(str(row["credit2_amount"]))
        assert debit == credit == abs(entry.total)
        assert row["date"] == 51126 and row["reference2"] == entry.document_id
    assert (rows[0]["debit1"], rows[0]["debit2"], rows[0]["credit1"]) == ("6120", "1800", "40021")
    assert (rows[2]["debit1"], rows[2]["credit1"], rows[2]["credit2"]) == ("40021", "6120", "1800")
    assert rows[3]["currency"] == "USD" and rows[3]["credit1_fx"] == 100


def test_movein_refuses_an_account_it_cannot_hold() -> None:
    with pytest.raises(movein.AccountTooLong):
        movein.write(io.BytesIO(), mixed(), plan=AccountPlan())


def test_csv_opens_in_excel_with_hebrew() -> None:
    out = io.BytesIO()
    spreadsheet.write_csv(out, mixed(), {"column.vendor": "ספק", "category.vehicle": "רכב"})
    raw = out.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n")
    import csv

    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = rows[0]
    assert header[3] == "ספק" and len(rows) == 7
    column = {name: header.index(name) for name in ("net", "total", "deductible_vat")}
    assert rows[2][5] == "רכב" and rows[2][column["deductible_vat"]] == "120.00"
    assert rows[3][column["total"]] == "-118.00"
    totals = rows[-1]
    assert Decimal(totals[column["total"]]) == sum(Decimal(r[column["total"]]) for r in rows[1:-1])


def test_xlsx_reads_back_typed_right_to_left_with_totals() -> None:
    out = io.BytesIO()
    odd = entries_of(filed(9, "118", "18", vendor_name='<Tom & "Jerry">'))
    spreadsheet.write_xlsx(out, mixed() + odd, {"sheet.documents": "מסמכים"}, to_file=2)
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["מסמכים", "VAT"]
    sheet = book["מסמכים"]
    assert sheet.sheet_view.rightToLeft and sheet.freeze_panes == "A2"
    assert sheet.cell(row=1, column=1).font.b
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    total = header.index("total")
    first = rows[1]
    assert first[header.index("date")].date() == date(2026, 11, 5)
    assert sheet.cell(row=2, column=header.index("date") + 1).number_format == "dd/mm/yyyy"
    assert isinstance(first[total], int | float) and first[total] == 1180
    assert isinstance(first[header.index("number")], str)
    assert sheet.cell(row=2, column=total + 1).number_format == "#,##0.00"
    assert rows[-1][total] == pytest.approx(sum(r[total] for r in rows[1:-1]))
    assert rows[-2][header.index("vendor")] == '<Tom & "Jerry">'
    summary = dict((r[0], r[1]) for r in book["VAT"].iter_rows(values_only=True))
    assert summary["documents"] == 6 and summary["to_file"] == 2
    assert summary["equipment_vat"] == 360 and summary["deductible_vat"] == 642 + 18
