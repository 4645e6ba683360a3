from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select, update

from core.domain import Job, JobState
from storage import tables
from storage.repositories.base import Repository

_j = tables.jobs.c
_d = tables.documents.c
# How far back a job counts towards its organization's turn (see `claim`).
FAIR_WINDOW = timedelta(hours=1)


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
        self,
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
        kinds: list[str] | None = None,
        fair_window: timedelta = FAIR_WINDOW,
        fair: bool = True,
    ) -> Job | None:
        """Take a runnable job, or one whose lease ran out with attempts left, for `lease`.

        Fair across organizations: a job's turn is its place among its organization's jobs
        still waiting or created in the last `fair_window`, lower turns first, then the
        oldest. A client who sent 300 photos has their 2nd read after every other
        organization's 1st, their 3rd after every 2nd, and so on.

        `fair=False`: simply the oldest runnable job, one indexed look-up. For jobs with no
        document (a kept mail: its organization is known only once it is parsed), where
        the turns would rank every recent job on each claim for nothing.
        """
        runnable = or_(
            (_j.state == JobState.QUEUED.value)
            & (or_(_j.run_after.is_(None), _j.run_after <= now)),
            (_j.state == JobState.RUNNING.value)
            & (_j.lease_until < now)
            & (_j.attempts < _j.max_attempts),
        )
        any_runnable = select(_j.id).where(runnable).limit(1)
        if kinds:
            any_runnable = any_runnable.where(_j.kind.in_(kinds))
        if await self.session.scalar(any_runnable) is None:
            return None  # the idle poll stays one indexed look-up
        if not fair:
            oldest = select(_j.id).where(runnable).order_by(_j.id).limit(1)
            if kinds:
                oldest = oldest.where(_j.kind.in_(kinds))
            return await self._take(oldest, worker=worker, now=now, lease=lease)
        organization = func.coalesce(_d.organization_id, 0)
        recent = (
            select(
                _j.id.label("id"),
                func.row_number().over(partition_by=organization, order_by=_j.id).label("turn"),
            )
            .select_from(tables.jobs.outerjoin(tables.documents, _d.id == _j.document_id))
            .where(
                or_(
                    _j.created_at >= now - fair_window,
                    _j.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
                )
            )
        )
        if kinds:
            recent = recent.where(_j.kind.in_(kinds))
        turns = recent.subquery("turns")
        candidate = (
            select(_j.id)
            .select_from(tables.jobs.join(turns, turns.c.id == _j.id))
            .where(runnable)
            .order_by(turns.c.turn, _j.id)
            .limit(1)
        )
        if kinds:
            candidate = candidate.where(_j.kind.in_(kinds))
        return await self._take(candidate, worker=worker, now=now, lease=lease)

    async def _take(
        self, candidate: Select[tuple[int]], *, worker: str, now: datetime, lease: timedelta
    ) -> Job | None:
        if self.session.get_bind().dialect.name == "postgresql":
            # Several workers never wait on or take the same row.
            candidate = candidate.with_for_update(skip_locked=True, of=tables.jobs)
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

    async def take_exhausted(
        self, *, now: datetime, error: str, kinds: list[str] | None = None
    ) -> list[Job]:
        """Jobs whose holder died on their last attempt (the lease ran out, no attempts left):
        failed for good here, since no worker will ever finish or fail them."""
        exhausted = select(_j.id).where(
            _j.state == JobState.RUNNING.value,
            _j.lease_until < now,
            _j.attempts >= _j.max_attempts,
        )
        if kinds:
            exhausted = exhausted.where(_j.kind.in_(kinds))
        if self.session.get_bind().dialect.name == "postgresql":
            exhausted = exhausted.with_for_update(skip_locked=True)
        ids = list(await self.session.scalars(exhausted))
        if not ids:
            return []
        await self.session.execute(
            update(tables.jobs)
            .where(_j.id.in_(ids))
            .values(
                state=JobState.FAILED.value,
                lease_until=None,
                last_error=error[:2000],
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        result = await self.session.scalars(
            select(Job)
            .where(_j.id.in_(ids))
            .order_by(_j.id)
            .execution_options(populate_existing=True)
        )
        return list(result)

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
