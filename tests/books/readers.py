"""Readers for the written files, from the positions in notes/exports.md (not the writers').

Each layout is (field, first position (1-based), length, kind); kind "9" numeric, "X" text,
"A" signed amount with two implied decimals.
"""

from __future__ import annotations

from decimal import Decimal

Layout = list[tuple[str, int, int, str]]

A000: Layout = [
    ("code", 1, 4, "X"), ("reserved", 5, 5, "X"), ("total_records", 10, 15, "9"),
    ("vat", 25, 9, "9"), ("primary_id", 34, 15, "9"), ("version", 49, 8, "X"),
    ("software_reg", 57, 8, "9"), ("software", 65, 20, "X"), ("software_version", 85, 20, "X"),
    ("vendor_vat", 105, 9, "9"), ("vendor", 114, 20, "X"), ("years", 134, 1, "9"),
    ("path", 135, 50, "X"), ("bookkeeping", 185, 1, "9"), ("balancing", 186, 1, "9"),
    ("registrar", 187, 9, "9"), ("withholding", 196, 9, "9"), ("reserved2", 205, 10, "X"),
    ("name", 215, 50, "X"), ("street", 265, 50, "X"), ("house", 315, 10, "X"),
    ("city", 325, 30, "X"), ("zip", 355, 8, "X"), ("tax_year", 363, 4, "9"),
    ("range_start", 367, 8, "9"), ("range_end", 375, 8, "9"), ("process_date", 383, 8, "9"),
    ("process_time", 391, 4, "9"), ("language", 395, 1, "9"), ("charset", 396, 1, "9"),
    ("compressor", 397, 20, "X"), ("currency", 417, 3, "X"), ("branches", 420, 1, "9"),
    ("reserved3", 421, 46, "X"),
]  # fmt: skip
A100: Layout = [
    ("code", 1, 4, "X"), ("record_no", 5, 9, "9"), ("vat", 14, 9, "9"),
    ("primary_id", 23, 15, "9"), ("version", 38, 8, "X"), ("reserved", 46, 50, "X"),
]  # fmt: skip
Z900: Layout = [
    ("code", 1, 4, "X"), ("record_no", 5, 9, "9"), ("vat", 14, 9, "9"),
    ("primary_id", 23, 15, "9"), ("version", 38, 8, "X"), ("total_records", 46, 15, "9"),
    ("reserved", 61, 50, "X"),
]  # fmt: skip
B100: Layout = [
    ("code", 1, 4, "X"), ("record_no", 5, 9, "9"), ("vat", 14, 9, "9"),
    ("transaction", 23, 10, "9"), ("line", 33, 5, "9"), ("batch", 38, 8, "9"),
    ("type", 46, 15, "X"), ("reference", 61, 20, "X"), ("reference_type", 81, 3, "9"),
    ("reference2", 84, 20, "X"), ("reference2_type", 104, 3, "9"), ("details", 107, 50, "X"),
    ("date", 157, 8, "9"), ("value_date", 165, 8, "9"), ("account", 173, 15, "X"),
    ("counter_account", 188, 15, "X"), ("side", 203, 1, "9"), ("currency", 204, 3, "X"),
    ("amount", 207, 15, "A"), ("foreign_amount", 222, 15, "A"), ("quantity", 237, 12, "A"),
    ("match1", 249, 10, "X"), ("match2", 259, 10, "X"), ("branch", 269, 7, "X"),
    ("entry_date", 276, 8, "9"), ("operator", 284, 9, "X"), ("reserved", 293, 25, "X"),
]  # fmt: skip
B110: Layout = [
    ("code", 1, 4, "X"), ("record_no", 5, 9, "9"), ("vat", 14, 9, "9"),
    ("account", 23, 15, "X"), ("name", 38, 50, "X"), ("tb_code", 88, 15, "X"),
    ("tb_name", 103, 30, "X"), ("street", 133, 50, "X"), ("house", 183, 10, "X"),
    ("city", 193, 30, "X"), ("zip", 223, 8, "X"), ("country", 231, 30, "X"),
    ("country_code", 261, 2, "X"), ("parent", 263, 15, "X"), ("opening", 278, 15, "A"),
    ("debit", 293, 15, "A"), ("credit", 308, 15, "A"), ("form6111", 323, 4, "9"),
    ("supplier_vat", 327, 9, "9"), ("branch", 336, 7, "X"), ("foreign_opening", 343, 15, "A"),
    ("foreign_code", 358, 3, "X"), ("reserved", 361, 16, "X"),
]  # fmt: skip
LENGTHS = {"A000": 466, "A100": 95, "B100": 317, "B110": 376, "Z900": 110}
LAYOUTS = {"A000": A000, "A100": A100, "B100": B100, "B110": B110, "Z900": Z900}

PCN_HEADER: Layout = [
    ("code", 1, 1, "X"), ("vat", 2, 9, "9"), ("period", 11, 6, "9"), ("type", 17, 1, "9"),
    ("generated", 18, 8, "9"), ("sales", 26, 12, "S"), ("sales_vat", 38, 10, "S"),
    ("other_rate_sales", 48, 12, "S"), ("other_rate_vat", 60, 10, "S"),
    ("sales_records", 70, 9, "9"), ("exempt_sales", 79, 12, "S"),
    ("other_inputs_vat", 91, 10, "S"),
    ("equipment_vat", 101, 10, "S"), ("input_records", 111, 9, "9"), ("to_pay", 120, 12, "S"),
]  # fmt: skip
PCN_LINE: Layout = [
    ("type", 1, 1, "X"), ("vendor", 2, 9, "9"), ("date", 11, 8, "9"), ("group", 19, 4, "9"),
    ("reference", 23, 9, "9"), ("vat", 32, 9, "9"), ("net", 41, 11, "S"),
    ("allocation", 52, 9, "9"),
]  # fmt: skip
MOVEIN: Layout = [
    ("type", 1, 3, "X"), ("reference", 4, 5, "9"), ("date", 9, 6, "9"), ("reference2", 15, 5, "9"),
    ("value_date", 20, 6, "9"), ("currency", 26, 3, "X"), ("details", 29, 22, "X"),
    ("debit1", 51, 8, "X"), ("debit2", 59, 8, "X"), ("credit1", 67, 8, "X"),
    ("credit2", 75, 8, "X"), ("debit1_amount", 83, 12, "C"), ("debit2_amount", 95, 12, "C"),
    ("credit1_amount", 107, 12, "C"), ("credit2_amount", 119, 12, "C"),
    ("debit1_fx", 131, 12, "C"), ("debit2_fx", 143, 12, "C"), ("credit1_fx", 155, 12, "C"),
    ("credit2_fx", 167, 12, "C"),
]  # fmt: skip


def split_records(data: bytes) -> list[bytes]:
    """Every record ends with CR LF; nothing may follow the last one."""
    assert data.endswith(b"\r\n"), "the last record lacks CR LF"
    parts = data.split(b"\r\n")
    assert parts[-1] == b""
    return parts[:-1]


def parse(line: bytes, layout: Layout, encoding: str = "iso8859_8") -> dict[str, object]:
    expected = sum(length for _, _, length, _ in layout)
    assert len(line) == expected, (line[:4], len(line), expected)
    fields: dict[str, object] = {}
    position = 1
    for name, start, length, kind in layout:
        assert start == position, (name, start, position)  # the table itself has no gaps
        raw = line[start - 1 : start - 1 + length]
        position += length
        if kind == "9":
            assert raw.isdigit(), (name, raw)
            fields[name] = int(raw)
        elif kind == "A":  # sign, digits, two implied decimals
            assert raw[:1] in (b"+", b"-") and raw[1:].isdigit(), (name, raw)
            fields[name] = Decimal(int(raw)) / 100
        elif kind == "S":  # sign and whole shekels
            assert raw[:1] in (b"+", b"-") and raw[1:].isdigit(), (name, raw)
            fields[name] = int(raw)
        elif kind == "C":  # unsigned cents
            assert raw.isdigit(), (name, raw)
            fields[name] = Decimal(int(raw)) / 100
        else:
            fields[name] = raw.decode(encoding).rstrip(" ")
    return fields


def parse_bkmvdata(data: bytes) -> list[dict[str, object]]:
    records = []
    for line in split_records(data):
        code = line[:4].decode("ascii")
        assert len(line) == LENGTHS[code], (code, len(line))
        records.append(parse(line, LAYOUTS[code]))
    return records
