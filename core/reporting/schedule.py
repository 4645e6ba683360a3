"""The office's schedule: the clients' cutoff and the night's quiet hours."""

from __future__ import annotations

from core.domain import AuditEntry, OfficeSchedule
from core.errors import TayukError
from core.permissions import Action, may_in_office, require_in_office
from core.ports import UnitOfWork

CUTOFF_DAYS_MAX = 20


async def offices_to_schedule(uow: UnitOfWork, person_id: int) -> list[int]:
    """Offices whose schedule the person may change (owners and admins)."""
    return [
        m.office_id
        for m in await uow.offices.memberships(person_id)
        if await may_in_office(uow, person_id, Action.MANAGE_TEAM, m.office_id)
    ]


async def office_schedule(uow: UnitOfWork, person_id: int, office_id: int) -> OfficeSchedule:
    """The office's schedule as in force: the saved row, or the defaults."""
    await require_in_office(uow, person_id, Action.MANAGE_TEAM, office_id)
    saved = (await uow.reporting.schedules_for([office_id])).get(office_id)
    return saved or OfficeSchedule(office_id=office_id)


def parse_clock(text: str) -> str | None:
    """ "21:00", "21.00" or "7:30" as "HH:MM"; None otherwise."""
    parts = text.strip().replace(".", ":").split(":")
    if len(parts) != 2 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        return None
    hours, minutes = int(parts[0]), int(parts[1])
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


async def update_office_schedule(
    uow: UnitOfWork,
    person_id: int,
    office_id: int,
    *,
    cutoff_days: int | None = None,
    quiet_from: str | None = None,
    quiet_until: str | None = None,
) -> OfficeSchedule:
    """Changes the cutoff and the night's quiet hours of one office. Commits."""
    await require_in_office(uow, person_id, Action.MANAGE_TEAM, office_id)
    if cutoff_days is not None and not 0 <= cutoff_days <= CUTOFF_DAYS_MAX:
        raise TayukError("schedule.bad_cutoff", most=CUTOFF_DAYS_MAX)
    night = [parse_clock(t) if t is not None else None for t in (quiet_from, quiet_until)]
    if (quiet_from is None) != (quiet_until is None) or (
        quiet_from is not None and (None in night or night[0] == night[1])
    ):
        raise TayukError("schedule.bad_quiet")
    saved = (await uow.reporting.schedules_for([office_id])).get(office_id)
    schedule = saved or OfficeSchedule(office_id=office_id)
    changes: dict[str, object] = {}
    if cutoff_days is not None and cutoff_days != schedule.cutoff_days:
        changes["cutoff_days"] = [schedule.cutoff_days, cutoff_days]
        schedule.cutoff_days = cutoff_days
    if night[0] is not None and night[1] is not None:
        if (night[0], night[1]) != (schedule.quiet_from, schedule.quiet_until):
            changes["quiet"] = [
                f"{schedule.quiet_from}-{schedule.quiet_until}",
                f"{night[0]}-{night[1]}",
            ]
        schedule.quiet_from, schedule.quiet_until = night[0], night[1]
    if not changes:
        return schedule
    await uow.reporting.save_schedule(schedule)
    await uow.audit.add(
        AuditEntry(
            action="office.schedule_changed",
            actor_id=person_id,
            office_id=office_id,
            details=changes,
        )
    )
    await uow.commit()
    return schedule
