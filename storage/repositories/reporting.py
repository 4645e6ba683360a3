"""Reporting profiles, due-date overrides, filed reports, office schedules and the log of
sent reminders and digests. Bulk queries: the scheduler's tick reads every organization."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from core.domain import (
    AccessLevel,
    DocumentState,
    DueDateOverride,
    FiledReport,
    OfficeSchedule,
    Organization,
    Recipient,
    ReportingSettings,
    SentNotice,
)
from storage import tables
from storage.repositories.base import Repository

_CLAIM_CHUNK = 500  # rows per INSERT: well under every dialect's bound-parameter limit
# Who gets client reminders: people who may send documents.
_SENDERS = [level.value for level in AccessLevel if level.at_least(AccessLevel.UPLOADER)]


class ReportingRepository(Repository):
    async def settings_for(self, organization_ids: list[int]) -> dict[int, ReportingSettings]:
        c = tables.reporting_settings.c
        result = await self.session.scalars(
            select(ReportingSettings).where(c.organization_id.in_(organization_ids))
        )
        return {row.organization_id: row for row in result}

    async def save_settings(self, settings: ReportingSettings) -> None:
        self.session.add(settings)
        await self.session.flush()

    async def overrides_for(self, organization_ids: list[int]) -> list[DueDateOverride]:
        c = tables.due_date_overrides.c
        result = await self.session.scalars(
            select(DueDateOverride).where(c.organization_id.in_(organization_ids))
        )
        return list(result)

    async def add_override(self, override: DueDateOverride) -> None:
        self.session.add(override)
        await self.session.flush()

    async def override(
        self, organization_id: int, kind: str, period: str
    ) -> DueDateOverride | None:
        c = tables.due_date_overrides.c
        result = await self.session.scalars(
            select(DueDateOverride).where(
                c.organization_id == organization_id, c.kind == kind, c.period == period
            )
        )
        return result.first()

    async def remove_override(self, override: DueDateOverride) -> None:
        await self.session.delete(override)
        await self.session.flush()

    async def filed_for(self, organization_ids: list[int]) -> list[FiledReport]:
        c = tables.filed_reports.c
        result = await self.session.scalars(
            select(FiledReport).where(c.organization_id.in_(organization_ids))
        )
        return list(result)

    async def add_filed(self, report: FiledReport) -> bool:
        """False when this report was already marked filed (two presses at once)."""
        try:
            async with self.session.begin_nested():
                self.session.add(report)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def schedules_for(self, office_ids: list[int]) -> dict[int, OfficeSchedule]:
        c = tables.office_schedules.c
        result = await self.session.scalars(
            select(OfficeSchedule).where(c.office_id.in_(office_ids))
        )
        return {row.office_id: row for row in result}

    async def save_schedule(self, schedule: OfficeSchedule) -> None:
        self.session.add(schedule)
        await self.session.flush()

    async def sent_keys(self, since: datetime) -> set[str]:
        c = tables.sent_notices.c
        return set(await self.session.scalars(select(c.key).where(c.sent_at >= since)))

    async def claim(self, notices: list[SentNotice]) -> set[str]:
        """Inserts the keys not yet taken and returns those: the caller sends only these.

        ON CONFLICT DO NOTHING (the same on PostgreSQL and SQLite) makes a key that another
        process took first simply not come back, without failing the whole batch.
        """
        if not notices:
            return set()
        dialect = self.session.get_bind().dialect.name
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = tables.sent_notices
        claimed: set[str] = set()
        for start in range(0, len(notices), _CLAIM_CHUNK):
            rows = [
                {
                    "key": n.key,
                    "person_id": n.person_id,
                    "organization_id": n.organization_id,
                    "sent_at": n.sent_at,
                }
                for n in notices[start : start + _CLAIM_CHUNK]
            ]
            statement = (
                insert(table)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(table.c.key)
            )
            claimed |= set((await self.session.execute(statement)).scalars())
        return claimed

    async def unclaim(self, keys: list[str]) -> None:
        """Gives keys back after a failed send, so the next tick tries again."""
        if keys:
            c = tables.sent_notices.c
            await self.session.execute(delete(tables.sent_notices).where(c.key.in_(keys)))

    async def client_recipients(
        self, organization_ids: list[int] | None = None
    ) -> list[Recipient]:
        """Reachable clients who may send documents to an organization an office serves."""
        m, p, i, a = (
            tables.organization_members.c,
            tables.people.c,
            tables.identities.c,
            tables.office_access.c,
        )
        served = select(a.organization_id).where(a.revoked_at.is_(None))
        rows = await self.session.execute(
            select(m.organization_id, p.id, i.chat_id, p.language)
            .join(tables.people, p.id == m.person_id)
            .join(tables.identities, i.person_id == p.id)
            .where(
                m.removed_at.is_(None),
                m.access.in_(_SENDERS),
                p.reachable.is_(True),
                i.platform == "telegram",
                m.organization_id.in_(served),
            )
            .where(
                m.organization_id.in_(organization_ids) if organization_ids is not None else true()
            )
            .order_by(m.organization_id, p.id, i.id)
        )
        found: dict[tuple[int, int], Recipient] = {}
        for org_id, person_id, chat_id, language in rows:
            # One chat per person and organization: the first identity.
            recipient = Recipient(person_id, chat_id, language, organization_id=org_id)
            found.setdefault((org_id, person_id), recipient)
        return list(found.values())

    async def office_recipients(self) -> list[Recipient]:
        o, p, i = tables.office_members.c, tables.people.c, tables.identities.c
        rows = await self.session.execute(
            select(o.office_id, p.id, i.chat_id, p.language)
            .join(tables.people, p.id == o.person_id)
            .join(tables.identities, i.person_id == p.id)
            .where(o.removed_at.is_(None), p.reachable.is_(True), i.platform == "telegram")
            .order_by(o.office_id, p.id, i.id)
        )
        found: dict[tuple[int, int], Recipient] = {}
        for office_id, person_id, chat_id, language in rows:
            recipient = Recipient(person_id, chat_id, language, office_id=office_id)
            found.setdefault((office_id, person_id), recipient)
        return list(found.values())

    async def office_organizations(
        self, organization_ids: list[int] | None = None
    ) -> dict[int, list[Organization]]:
        """Each office's organizations, by the grants in force."""
        a = tables.office_access.c
        rows = await self.session.execute(
            select(a.office_id, Organization)
            .join(Organization, tables.organizations.c.id == a.organization_id)
            .where(a.revoked_at.is_(None))
            .where(
                a.organization_id.in_(organization_ids) if organization_ids is not None else true()
            )
            .order_by(a.office_id, tables.organizations.c.name, tables.organizations.c.id)
        )
        found: dict[int, list[Organization]] = {}
        for office_id, org in rows:
            if org not in found.setdefault(office_id, []):
                found[office_id].append(org)
        return found

    async def document_counts(
        self, organization_ids: list[int], since: datetime | None = None
    ) -> dict[tuple[int, DocumentState], int]:
        d = tables.documents.c
        query: Any = (
            select(d.organization_id, d.state, func.count())
            .where(d.organization_id.in_(organization_ids))
            .group_by(d.organization_id, d.state)
        )
        if since is not None:
            query = query.where(d.created_at >= since)
        rows = await self.session.execute(query)
        return {(org, DocumentState(state)): count for org, state, count in rows}

    async def returned_before(
        self, organization_ids: list[int], before: datetime
    ) -> dict[int, int]:
        """Returned documents per organization that have waited for the client since `before`.

        `updated_at` is when the document was last touched, which for a returned document is
        when it went back to the client: the client's answer moves it out of RETURNED.
        """
        d = tables.documents.c
        rows = await self.session.execute(
            select(d.organization_id, func.count())
            .where(
                d.organization_id.in_(organization_ids),
                d.state == DocumentState.RETURNED.value,
                d.updated_at <= before,
            )
            .group_by(d.organization_id)
        )
        return {org: count for org, count in rows}
