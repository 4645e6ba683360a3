from datetime import date

import pytest

from core.deadlines import (
    Obligation,
    Period,
    ReportingProfile,
    ReportKind,
    obligations_between,
    periods_between,
)
from core.domain import VatFrequency

MONTHLY, BIMONTHLY = VatFrequency.MONTHLY, VatFrequency.BIMONTHLY


@pytest.mark.parametrize(
    ("period", "label", "start", "end"),
    [
        (Period.month(2026, 2), "2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        (Period.month(2028, 2), "2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        (Period.month(2026, 12), "2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        (Period.bimonth(2026, 11), "2026-11/12", date(2026, 11, 1), date(2026, 12, 31)),
        (Period.bimonth(2026, 12), "2026-11/12", date(2026, 11, 1), date(2026, 12, 31)),
        (Period.bimonth(2026, 1), "2026-01/02", date(2026, 1, 1), date(2026, 2, 28)),
        (Period.year(2026), "2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_periods_have_bounds_and_labels(
    period: Period, label: str, start: date, end: date
) -> None:
    assert (period.label, period.start, period.end) == (label, start, end)
    assert Period.parse(label) == period


@pytest.mark.parametrize("label", ["2026-02/03", "2026-12/01", "2026-13", "26-01", "2026-1"])
def test_labels_that_are_not_periods_are_refused(label: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(label)


def test_a_bimonthly_period_is_filed_under_its_second_month() -> None:
    assert Period.bimonth(2026, 1).report_month == (2026, 2)
    assert Period.month(2026, 1).report_month == (2026, 1)


def test_bimonthly_periods_are_the_calendar_pairs() -> None:
    labels = [p.label for p in periods_between(BIMONTHLY, date(2026, 2, 10), date(2026, 7, 1))]
    assert labels == ["2026-01/02", "2026-03/04", "2026-05/06", "2026-07/08"]


def test_monthly_periods_cross_the_year() -> None:
    labels = [p.label for p in periods_between(MONTHLY, date(2026, 11, 30), date(2027, 1, 1))]
    assert labels == ["2026-11", "2026-12", "2027-01"]


def _labels(profile: ReportingProfile, start: date, end: date) -> list[str]:
    return [o.label for o in obligations_between(profile, start, end)]


def test_a_bimonthly_individual_without_employees_owes_vat_advances_and_the_annual() -> None:
    profile = ReportingProfile(vat_frequency=BIMONTHLY)
    assert _labels(profile, date(2026, 9, 1), date(2026, 12, 31)) == [
        "vat:2026-09/10",
        "advances:2026-09/10",
        "vat:2026-11/12",
        "advances:2026-11/12",
        "annual_individual:2026",
    ]


def test_a_monthly_company_with_employees_also_owes_withholding() -> None:
    profile = ReportingProfile(vat_frequency=MONTHLY, has_employees=True, is_company=True)
    assert _labels(profile, date(2026, 11, 5), date(2026, 12, 5)) == [
        "vat:2026-11",
        "advances:2026-11",
        "withholding:2026-11",
        "vat:2026-12",
        "advances:2026-12",
        "withholding:2026-12",
        "annual_company:2026",
    ]


def test_a_detailed_reporter_files_pcn874_instead_of_the_plain_vat_report() -> None:
    profile = ReportingProfile(detailed_vat=True)
    kinds = {o.kind for o in obligations_between(profile, date(2026, 3, 1), date(2026, 3, 31))}
    assert kinds == {ReportKind.VAT_DETAILED, ReportKind.ADVANCES, ReportKind.ANNUAL_INDIVIDUAL}


def test_advances_may_have_their_own_frequency() -> None:
    profile = ReportingProfile(vat_frequency=BIMONTHLY, advances_frequency=MONTHLY)
    found = obligations_between(profile, date(2026, 3, 1), date(2026, 4, 30))
    assert Obligation(Period.month(2026, 3), ReportKind.ADVANCES) in found
    assert Obligation(Period.bimonth(2026, 3), ReportKind.VAT) in found
    assert Obligation(Period.bimonth(2026, 3), ReportKind.ADVANCES) not in found


def test_a_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError):
        obligations_between(ReportingProfile(), date(2026, 2, 1), date(2026, 1, 1))
