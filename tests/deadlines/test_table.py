"""The shipped 2026 table against the Tax Authority's table, as copied into the notes."""

from datetime import date
from pathlib import Path

import pytest

from core.deadlines import (
    DueSource,
    Period,
    PublishedTables,
    ReportKind,
    TableError,
    due_date,
    shipped_tables,
)
from core.deadlines.table import parse_table

# period: (VAT and advances, withholding, detailed VAT), from /work/shared/notes/israel-tax.md
AUTHORITY_2026 = {
    (2026, 1): (date(2026, 2, 16), date(2026, 2, 16), date(2026, 2, 23)),
    (2026, 2): (date(2026, 3, 26), date(2026, 3, 26), date(2026, 3, 26)),
    (2026, 3): (date(2026, 4, 27), date(2026, 4, 27), date(2026, 4, 27)),
    (2026, 4): (date(2026, 5, 18), date(2026, 5, 18), date(2026, 5, 26)),
    (2026, 5): (date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 23)),
    (2026, 6): (date(2026, 7, 15), date(2026, 7, 16), date(2026, 7, 27)),
    (2026, 7): (date(2026, 8, 17), date(2026, 8, 17), date(2026, 8, 24)),
    (2026, 8): (date(2026, 9, 24), date(2026, 9, 24), date(2026, 9, 24)),
    (2026, 9): (date(2026, 10, 19), date(2026, 10, 19), date(2026, 10, 26)),
    (2026, 10): (date(2026, 11, 16), date(2026, 11, 16), date(2026, 11, 23)),
    (2026, 11): (date(2026, 12, 15), date(2026, 12, 16), date(2026, 12, 23)),
    (2026, 12): (date(2027, 1, 18), date(2027, 1, 18), date(2027, 1, 26)),
}


@pytest.mark.parametrize("month", sorted(AUTHORITY_2026))
def test_every_2026_date_comes_from_the_shipped_table(month: tuple[int, int]) -> None:
    vat, withholding, detailed = AUTHORITY_2026[month]
    period = Period.month(*month)
    expected = {
        ReportKind.VAT: vat,
        ReportKind.ADVANCES: vat,
        ReportKind.WITHHOLDING: withholding,
        ReportKind.VAT_DETAILED: detailed,
    }
    for kind, day in expected.items():
        found = due_date(kind, period)
        assert (found.date, found.source, found.estimate) == (day, DueSource.TABLE, False), kind


def test_the_shipped_table_has_exactly_the_authoritys_cells() -> None:
    cells = {(e.month, e.column): e.due for e in shipped_tables().entries}
    assert len(cells) == 36
    assert {month for month, _ in cells} == set(AUTHORITY_2026)


def test_bimonthly_reporters_take_the_date_of_the_pairs_second_month() -> None:
    # February's decree (26.3) covers January-February bi-monthly reporters too.
    assert due_date(ReportKind.VAT, Period.bimonth(2026, 1)).date == date(2026, 3, 26)
    assert due_date(ReportKind.ADVANCES, Period.bimonth(2026, 11)).date == date(2027, 1, 18)


def test_a_month_outside_the_tables_is_computed_and_flagged_an_estimate() -> None:
    found = due_date(ReportKind.VAT, Period.month(2027, 1))
    assert (found.date, found.source, found.estimate) == (date(2027, 2, 15), DueSource.RULE, True)


def test_an_accountants_override_wins_over_the_table() -> None:
    period = Period.month(2026, 11)
    overrides = {(ReportKind.VAT, period): date(2026, 12, 20)}
    found = due_date(ReportKind.VAT, period, overrides=overrides)
    assert (found.date, found.source, found.estimate) == (
        date(2026, 12, 20),
        DueSource.OVERRIDE,
        False,
    )
    # Only that kind and period.
    assert due_date(ReportKind.ADVANCES, period, overrides=overrides).date == date(2026, 12, 15)


def test_next_years_table_is_one_dropped_file(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[2] / "core" / "deadlines" / "data" / "2026.toml"
    (tmp_path / "2026.toml").write_bytes(shipped.read_bytes())
    (tmp_path / "2027.toml").write_text(
        'year = 2027\n[months."2027-01"]\nvat_and_advances = 2027-02-17\n', "utf-8"
    )
    tables = PublishedTables.from_files(tmp_path.glob("*.toml"))
    january = Period.month(2027, 1)
    assert due_date(ReportKind.VAT, january, tables=tables).date == date(2027, 2, 17)
    assert due_date(ReportKind.VAT, january, tables=tables).source is DueSource.TABLE
    # A column the file leaves out is still computed.
    assert due_date(ReportKind.WITHHOLDING, january, tables=tables).source is DueSource.RULE
    assert due_date(ReportKind.VAT, Period.month(2026, 5), tables=tables).date == date(2026, 6, 15)


def test_empty_tables_make_every_date_computed() -> None:
    found = due_date(ReportKind.VAT, Period.month(2026, 2), tables=PublishedTables())
    assert (found.date, found.source) == (date(2026, 3, 16), DueSource.RULE)


@pytest.mark.parametrize(
    "document",
    [
        {"months": {}},
        {"year": 2027, "months": {"2026-01": {"withholding": date(2026, 2, 16)}}},
        {"year": 2026, "months": {"2026-01": {"vat": date(2026, 2, 16)}}},
        {"year": 2026, "months": {"2026-01": {"withholding": "2026-02-16"}}},
        {"year": 2026, "months": {"2026-01": {"withholding": date(2025, 12, 16)}}},
        {
            "year": 2026,
            "months": {"2026-01": {"withholding": date(2026, 2, 16), "decreed": ["withholdings"]}},
        },
    ],
)
def test_malformed_tables_are_refused(document: dict[str, object]) -> None:
    with pytest.raises(TableError):
        parse_table(document)
