"""The Tax Authority's published due-date tables, one TOML file per year in `data/`."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from core.deadlines.periods import ReportKind

# A table column and the report kinds it dates.
COLUMNS: Mapping[str, tuple[ReportKind, ...]] = MappingProxyType(
    {
        "vat_and_advances": (ReportKind.VAT, ReportKind.ADVANCES),
        "withholding": (ReportKind.WITHHOLDING,),
        "detailed_vat": (ReportKind.VAT_DETAILED,),
    }
)
_EXTRA_KEYS = frozenset({"decreed", "note"})


class TableError(ValueError):
    """A table file does not have the expected shape."""


@dataclass(frozen=True)
class TableEntry:
    month: tuple[int, int]  # the report month (the period's last month)
    column: str
    due: date
    decreed: bool  # set by the Authority's decree, not reproducible by the rules
    note: str | None = None


@dataclass(frozen=True)
class PublishedTables:
    """Published dates by (report month, kind). Empty tables make every date computed."""

    entries: tuple[TableEntry, ...] = ()
    _index: dict[tuple[tuple[int, int], ReportKind], TableEntry] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[tuple[tuple[int, int], ReportKind], TableEntry] = {}
        for entry in self.entries:
            for kind in COLUMNS[entry.column]:
                index[(entry.month, kind)] = entry
        object.__setattr__(self, "_index", index)

    def lookup(self, kind: ReportKind, month: tuple[int, int]) -> TableEntry | None:
        return self._index.get((month, kind))

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> PublishedTables:
        entries: list[TableEntry] = []
        for path in sorted(paths):
            with path.open("rb") as handle:
                entries.extend(parse_table(tomllib.load(handle), source=path.name))
        return cls(tuple(entries))


def parse_table(document: Mapping[str, object], source: str = "<table>") -> list[TableEntry]:
    """Validate one year's document and flatten it into entries."""
    year = document.get("year")
    months = document.get("months")
    if not isinstance(year, int) or not isinstance(months, dict):
        raise TableError(f'{source}: needs `year = <int>` and [months."YYYY-MM"] tables')
    entries: list[TableEntry] = []
    for key, row in months.items():
        month = _parse_month(key, year, source)
        if not isinstance(row, dict):
            raise TableError(f"{source}: {key} is not a table")
        unknown = set(row) - set(COLUMNS) - _EXTRA_KEYS
        if unknown:
            raise TableError(f"{source}: {key} has unknown keys {sorted(unknown)}")
        decreed = row.get("decreed", [])
        note = row.get("note")
        if not isinstance(decreed, list) or not set(decreed) <= set(COLUMNS):
            raise TableError(f"{source}: {key}.decreed must list column names")
        for column in COLUMNS:
            if column not in row:
                continue
            due = row[column]
            # tomllib gives datetime for a date-time literal; only plain dates are valid.
            if type(due) is not date or due <= date(*month, 1):
                raise TableError(f"{source}: {key}.{column} must be a date after the month")
            entries.append(
                TableEntry(month, column, due, column in decreed, note if note else None)
            )
    return entries


def _parse_month(key: str, year: int, source: str) -> tuple[int, int]:
    try:
        key_year, key_month = (int(part) for part in key.split("-"))
    except ValueError:
        raise TableError(f"{source}: month key {key!r} is not YYYY-MM") from None
    if key_year != year or not 1 <= key_month <= 12:
        raise TableError(f"{source}: month {key!r} does not belong to {year}")
    return (key_year, key_month)


@lru_cache(maxsize=1)
def shipped_tables() -> PublishedTables:
    """Every data/<year>.toml shipped with the package."""
    folder = resources.files("core.deadlines.data")
    entries: list[TableEntry] = []
    for item in sorted(folder.iterdir(), key=lambda item: item.name):
        if item.name.endswith(".toml"):
            entries.extend(parse_table(tomllib.loads(item.read_text("utf-8")), item.name))
    return PublishedTables(tuple(entries))
