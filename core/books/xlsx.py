"""A small streaming XLSX writer: the few parts a workbook of typed rows needs.

Why not a library: XlsxWriter (constant_memory) spends ~7 µs in its own Python per cell;
an export's 10,000 documents are ~145,000 cells, 0.8-0.9 s of CPU on this machine before
anything else, and the export must stay under a second. Its per-cell path cannot be
skipped (calling its private writers saved 10 %); openpyxl's write-only mode is slower
still (spreadsheet.py keeps the measurements). Here a row is one formatted string.
What it writes (SpreadsheetML, ECMA-376 part 1): inline strings, numbers, dates as serial
days, five fixed styles, right-to-left sheets and a frozen header row. openpyxl reads
the files back in the tests.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import IO
from xml.sax.saxutils import escape, quoteattr

# Style indexes into cellXfs below.
PLAIN, BOLD, MONEY, DAY, BOLD_MONEY = 0, 1, 2, 3, 4
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()  # serial day 0, as Excel counts after 1900-02
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="#,##0.00"/>'
    '<numFmt numFmtId="165" formatCode="dd/mm/yyyy"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Arial"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Arial"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
# XML 1.0 cannot hold these; Excel reads _xHHHH_ as the character.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text_cell(ref: str, value: str, style: int = PLAIN) -> str:
    if _CONTROL.search(value):
        value = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    s = f' s="{style}"' if style else ""
    return (
        f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
    )


def number_cell(ref: str, value: int | float | Decimal, style: int = PLAIN) -> str:
    s = f' s="{style}"' if style else ""
    shown = format(value, "f") if isinstance(value, Decimal) else repr(value)
    return f'<c r="{ref}"{s}><v>{shown}</v></c>'


def day_cell(ref: str, value: date, style: int = DAY) -> str:
    return f'<c r="{ref}" s="{style}"><v>{value.toordinal() - _EXCEL_EPOCH}</v></c>'


def sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    return _BAD_NAME.sub("_", name)[:31] or "Sheet"


class Workbook:
    """Sheets are written one after the other, each as its rows come (nothing is kept)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._names: list[str] = []

    def sheet(
        self, name: str, rows: Iterable[str], *, right_to_left: bool, freeze_header: bool
    ) -> None:
        """`rows`: each a row's cells already made (text_cell, number_cell, day_cell) and
        wrapped in <row>; see `row`."""
        self._names.append(sheet_name(name))
        number = len(self._names)
        view = ' tabSelected="1"' if number == 1 else ""
        view += ' rightToLeft="1"' if right_to_left else ""
        pane = (
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            if freeze_header
            else ""
        )
        with self._zip.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
            part.write(
                (
                    f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews>'
                    f'<sheetView{view} workbookViewId="0">{pane}</sheetView></sheetViews>'
                    '<sheetFormatPr defaultRowHeight="15"/><sheetData>'
                ).encode()
            )
            batch: list[str] = []
            for row_xml in rows:
                batch.append(row_xml)
                if len(batch) == 500:
                    part.write("".join(batch).encode())
                    batch.clear()
            part.write(("".join(batch) + "</sheetData></worksheet>").encode())

    def close(self) -> None:
        sheets = range(1, len(self._names) + 1)
        content_types = (
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
                f'ContentType="{_CT}.worksheet+xml"/>'
                for n in sheets
            )
            + "</Types>"
        )
        self._zip.writestr("[Content_Types].xml", content_types)
        self._zip.writestr(
            "_rels/.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        self._zip.writestr(
            "xl/workbook.xml",
            f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/>'
            "</bookViews><sheets>"
            + "".join(
                f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
                for n, name in zip(sheets, self._names, strict=True)
            )
            + "</sheets></workbook>",
        )
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
            + "".join(
                f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" '
                f'Target="worksheets/sheet{n}.xml"/>'
                for n in sheets
            )
            + f'<Relationship Id="rId{len(self._names) + 1}" Type="{_REL}/styles" '
            'Target="styles.xml"/></Relationships>',
        )
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.close()


def row(number: int, cells: Sequence[str]) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'
