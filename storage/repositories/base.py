from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class Repository:
    """Repositories add and query; they never commit (the unit of work does)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
