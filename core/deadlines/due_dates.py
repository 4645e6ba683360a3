"""One due date per obligation: the accountant's override, else the published table, else
the rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from core.deadlines.periods import Obligation, Period, ReportKind
from core.deadlines.rules import computed_due_date
from core.deadlines.table import PublishedTables, shipped_tables


class DueSource(StrEnum):
    TABLE = "table"
    RULE = "rule"
    OVERRIDE = "override"


@dataclass(frozen=True)
class DueDate:
    date: date
    source: DueSource
    estimate: bool  # computed, not published: show it as "expected"

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y}" + (" (estimate)" if self.estimate else "")


Overrides = Mapping[tuple[ReportKind, Period], date]


def due_date(
    kind: ReportKind,
    period: Period,
    *,
    overrides: Overrides | None = None,
    tables: PublishedTables | None = None,
) -> DueDate:
    """The due date of `kind` for `period`. `tables` defaults to the shipped data files."""
    if overrides and (kind, period) in overrides:
        return DueDate(overrides[(kind, period)], DueSource.OVERRIDE, estimate=False)
    if not kind.is_annual:  # the Authority's table covers periodic reports only
        published = (tables if tables is not None else shipped_tables()).lookup(
            kind, period.report_month
        )
        if published is not None:
            return DueDate(published.due, DueSource.TABLE, estimate=False)
    return DueDate(computed_due_date(kind, period), DueSource.RULE, estimate=True)


def obligation_due_date(
    obligation: Obligation,
    *,
    overrides: Overrides | None = None,
    tables: PublishedTables | None = None,
) -> DueDate:
    return due_date(obligation.kind, obligation.period, overrides=overrides, tables=tables)
