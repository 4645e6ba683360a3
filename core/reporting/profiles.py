"""An organization's reporting profile and an office's schedule, as the calendar wants them."""

from __future__ import annotations

from datetime import time

from core.deadlines import (
    DigestSettings,
    Obligation,
    QuietHours,
    ReminderPolicy,
    ReportingProfile,
    ReportKind,
)
from core.domain import DealerType, OfficeSchedule, Organization, ReportingSettings

VAT_KINDS = (ReportKind.VAT, ReportKind.VAT_DETAILED)


def profile_of(org: Organization, settings: ReportingSettings | None) -> ReportingProfile:
    """The settings row where the accountant filled it in, the dealer type otherwise."""
    is_company = settings.is_company if settings and settings.is_company is not None else None
    if is_company is None:
        is_company = org.dealer_type is DealerType.COMPANY
    return ReportingProfile(
        vat_frequency=org.vat_frequency,
        detailed_vat=bool(settings and settings.detailed_vat),
        has_employees=bool(settings and settings.has_employees),
        is_company=is_company,
    )


def owes(org: Organization, obligation: Obligation) -> bool:
    # An exempt dealer (עוסק פטור) files no periodic VAT report, only a yearly declaration.
    return not (org.dealer_type is DealerType.EXEMPT and obligation.kind in VAT_KINDS)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_of(schedule: OfficeSchedule | None) -> QuietHours:
    schedule = schedule or OfficeSchedule(office_id=0)
    return QuietHours(
        night_start=_clock(schedule.quiet_from), night_end=_clock(schedule.quiet_until)
    )


def policy_of(schedule: OfficeSchedule | None) -> ReminderPolicy:
    schedule = schedule or OfficeSchedule(office_id=0)
    offsets = tuple(int(part) for part in schedule.reminder_offsets.split(",") if part.strip())
    return ReminderPolicy(
        cutoff_days=schedule.cutoff_days,
        offsets=offsets,
        send_at=_clock(schedule.reminder_at),
        quiet=quiet_of(schedule),
    )


def digest_settings_of(schedule: OfficeSchedule | None) -> DigestSettings:
    return DigestSettings(send_at=_clock((schedule or OfficeSchedule(office_id=0)).digest_at))
