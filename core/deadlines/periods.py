"""Reporting kinds and periods, and which ones an organization owes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from core.domain import VatFrequency


class ReportKind(StrEnum):
    VAT = "vat"  # the periodic VAT report
    VAT_DETAILED = "vat_detailed"  # the detailed report, PCN874, instead of VAT
    ADVANCES = "advances"  # income-tax advances (מקדמות)
    WITHHOLDING = "withholding"  # from salaries (ניכויים, form 102)
    ANNUAL_INDIVIDUAL = "annual_individual"
    ANNUAL_COMPANY = "annual_company"

    @property
    def is_annual(self) -> bool:
        return self in (ReportKind.ANNUAL_INDIVIDUAL, ReportKind.ANNUAL_COMPANY)


_LABEL = re.compile(r"^(\d{4})(?:-(\d{2})(?:/(\d{2}))?)?$")


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a month, a pair of months, or a calendar year (both ends inclusive)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends before it starts: {self.start}..{self.end}")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), _month_end(year, month))

    @classmethod
    def bimonth(cls, year: int, month: int) -> Period:
        """The pair containing `month`: Jan-Feb, Mar-Apr, ... Nov-Dec."""
        first = month - (month - 1) % 2
        return cls(date(year, first, 1), _month_end(year, first + 1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def parse(cls, label: str) -> Period:
        """Inverse of `label`: "2026-11", "2026-11/12" or "2026"."""
        found = _LABEL.match(label)
        if not found:
            raise ValueError(f"not a period label: {label!r}")
        year, first, second = found.groups()
        if first is None:
            return cls.year(int(year))
        if second is None:
            return cls.month(int(year), int(first))
        period = cls.bimonth(int(year), int(first))
        if (period.start.month, period.end.month) != (int(first), int(second)):
            raise ValueError(f"not a bi-monthly pair: {label!r}")
        return period

    @property
    def label(self) -> str:
        if (self.start.month, self.end.month) == (1, 12):
            return f"{self.start.year}"
        if self.start.month == self.end.month:
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y-%m}/{self.end:%m}"

    @property
    def report_month(self) -> tuple[int, int]:
        """The month the Authority's table files this period under: its last month."""
        return (self.end.year, self.end.month)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class ReportingProfile:
    """What an organization has to file. `advances_frequency` None follows VAT."""

    vat_frequency: VatFrequency = VatFrequency.MONTHLY
    detailed_vat: bool = False
    has_employees: bool = False
    is_company: bool = False
    advances_frequency: VatFrequency | None = None


@dataclass(frozen=True, order=True)
class Obligation:
    period: Period
    kind: ReportKind

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.period.label}"


def obligations_between(profile: ReportingProfile, start: date, end: date) -> list[Obligation]:
    """Every report the organization owes for periods overlapping [start, end], oldest first."""
    if end < start:
        raise ValueError("end is before start")
    vat_kind = ReportKind.VAT_DETAILED if profile.detailed_vat else ReportKind.VAT
    plan: list[tuple[ReportKind, VatFrequency | None]] = [
        (vat_kind, profile.vat_frequency),
        (ReportKind.ADVANCES, profile.advances_frequency or profile.vat_frequency),
    ]
    if profile.has_employees:
        plan.append((ReportKind.WITHHOLDING, VatFrequency.MONTHLY))
    annual = ReportKind.ANNUAL_COMPANY if profile.is_company else ReportKind.ANNUAL_INDIVIDUAL
    plan.append((annual, None))
    found = [
        Obligation(period, kind)
        for kind, frequency in plan
        for period in periods_between(frequency, start, end)
    ]
    order = list(ReportKind)
    # By the period's end (when it can be filed), the shorter period first on a tie.
    return sorted(
        found, key=lambda o: (o.period.end, -o.period.start.toordinal(), order.index(o.kind))
    )


def periods_between(frequency: VatFrequency | None, start: date, end: date) -> list[Period]:
    """Periods of a frequency (None: yearly) overlapping [start, end]."""
    return list(_periods(frequency, start, end))


def _periods(frequency: VatFrequency | None, start: date, end: date) -> Iterator[Period]:
    if frequency is None:
        for year in range(start.year, end.year + 1):
            yield Period.year(year)
        return
    make = Period.month if frequency is VatFrequency.MONTHLY else Period.bimonth
    period = make(start.year, start.month)
    while period.start <= end:
        yield period
        following = period.end + timedelta(days=1)
        period = make(following.year, following.month)


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)
