from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from core.domain import Job, JobState
from storage import tables
from storage.repositories.base import Repository

_j = tables.jobs.c


class JobRepository(Repository):
    """A durable queue in the database: the jobs survive restarts and crashes."""

    async def enqueue(self, job: Job) -> Job:
        # Written with the rest at commit (or at the next query): one flush, not one each.
        self.session.add(job)
        return job

    async def get(self, job_id: int) -> Job | None:
        return await self.session.get(Job, job_id)

    async def for_document(self, document_id: int) -> list[Job]:
        result = await self.session.scalars(
            select(Job).where(_j.document_id == document_id).order_by(_j.id)
        )
        return list(result)

    async def claim(
        self, *, worker: str, now: datetime, lease: timedelta, kinds: list[str] | None = None
    ) -> Job | None:
        """Take the oldest runnable job, or one whose lease ran out, for `lease`."""
        runnable = or_(
            (_j.state == JobState.QUEUED.value)
            & (or_(_j.run_after.is_(None), _j.run_after <= now)),
            (_j.state == JobState.RUNNING.value) & (_j.lease_until < now),
        )
        candidate = select(_j.id).where(runnable).order_by(_j.id).limit(1)
        if kinds:
            candidate = candidate.where(_j.kind.in_(kinds))
        if self.session.bind.dialect.name == "postgresql":
            # Several workers never wait on or take the same row.
            candidate = candidate.with_for_update(skip_locked=True)
        # On SQLite the transaction holds the write lock (BEGIN IMMEDIATE), so this is atomic.
        job_id = await self.session.scalar(candidate)
        if job_id is None:
            return None
        await self.session.execute(
            update(tables.jobs)
            .where(_j.id == job_id)
            .values(
                state=JobState.RUNNING.value,
                lease_until=now + lease,
                leased_by=worker,
                attempts=_j.attempts + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        job = await self.session.get(Job, job_id, populate_existing=True)
        return job

    async def count(self, state: JobState) -> int:
        return int(
            await self.session.scalar(select(func.count()).where(_j.state == state.value)) or 0
        )

    async def complete(self, job_id: int, *, worker: str, now: datetime) -> bool:
        """Marks the job done only if this worker still holds it; False if the lease was lost."""
        result = await self.session.execute(
            update(tables.jobs)
            .where(_j.id == job_id, _j.leased_by == worker, _j.state == JobState.RUNNING.value)
            .values(state=JobState.DONE.value, lease_until=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def fail(
        self, job_id: int, *, worker: str, now: datetime, error: str, retry_at: datetime | None
    ) -> bool:
        """Back to the queue at `retry_at`, or failed for good when it is None."""
        values: dict[str, object] = {
            "last_error": error[:2000],
            "lease_until": None,
            "updated_at": now,
        }
        if retry_at is None:
            values["state"] = JobState.FAILED.value
        else:
            values.update(state=JobState.QUEUED.value, run_after=retry_at)
        result = await self.session.execute(
            update(tables.jobs)
            .where(_j.id == job_id, _j.leased_by == worker, _j.state == JobState.RUNNING.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
