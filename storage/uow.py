"""The unit of work: one transaction's worth of repositories, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage.repositories.audit import AuditRepository
from storage.repositories.books import BooksRepository
from storage.repositories.categories import CategoryRepository
from storage.repositories.documents import DocumentRepository
from storage.repositories.filing import FilingRepository
from storage.repositories.invites import InviteRepository
from storage.repositories.jobs import JobRepository
from storage.repositories.mail import MailRepository
from storage.repositories.offices import OfficeRepository
from storage.repositories.organizations import OrganizationRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.reporting import ReportingRepository


class SqlUnitOfWork:
    people: PeopleRepository
    offices: OfficeRepository
    organizations: OrganizationRepository
    invites: InviteRepository
    documents: DocumentRepository
    jobs: JobRepository
    audit: AuditRepository
    reporting: ReportingRepository
    categories: CategoryRepository
    filing: FilingRepository
    books: BooksRepository
    mail: MailRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        session = self._sessions()
        self.session = session
        self.people = PeopleRepository(session)
        self.offices = OfficeRepository(session)
        self.organizations = OrganizationRepository(session)
        self.invites = InviteRepository(session)
        self.documents = DocumentRepository(session)
        self.jobs = JobRepository(session)
        self.audit = AuditRepository(session)
        self.reporting = ReportingRepository(session)
        self.categories = CategoryRepository(session)
        self.books = BooksRepository(session)
        self.mail = MailRepository(session)
        self.filing = FilingRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.session is not None
        # Closing rolls back whatever was not committed. Unlike rollback() it does not
        # expire the loaded objects, so callers may still read what they got.
        await self.session.close()
        self.session = None

    async def commit(self) -> None:
        assert self.session is not None
        await self.session.commit()

    def holds_unsaved_writes(self) -> bool:
        session = self.session
        if session is None:
            return False
        return bool(
            session.new
            or session.dirty
            or session.deleted
            or session.sync_session.info.get("flushed")
        )

    async def release_if_clean(self) -> None:
        """Ends a transaction that only read, so no lock is held across a network call."""
        session = self.session
        if session is not None and session.in_transaction() and not self.holds_unsaved_writes():
            await session.commit()

    async def release(self) -> None:
        """End the current transaction without writing, before slow I/O such as a download.

        SQLite holds its write lock for a whole transaction; a download inside one would
        make every other update wait.
        """
        assert self.session is not None
        session = self.session
        if self.holds_unsaved_writes():
            raise RuntimeError("release() with unsaved changes: commit them first")
        # A commit of nothing: unlike rollback it leaves loaded objects usable
        # (expire_on_commit is off), and it ends the transaction all the same.
        await session.commit()


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions)


# Remember that a transaction has written (flushed) something, until it ends.
@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info["flushed"] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop("flushed", None)
