from __future__ import annotations

from sqlalchemy import select

from core.domain import Identity, Person
from storage import tables
from storage.repositories.base import Repository


class PeopleRepository(Repository):
    async def get(self, person_id: int) -> Person | None:
        return await self._get(Person, person_id)

    async def by_identity(self, platform: str, external_id: int) -> tuple[Person, Identity] | None:
        row = (
            await self.session.execute(
                select(Person, Identity)
                .join(Identity, tables.identities.c.person_id == tables.people.c.id)
                .where(
                    tables.identities.c.platform == platform,
                    tables.identities.c.external_id == external_id,
                )
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def add(self, person: Person, identity: Identity | None = None) -> Person:
        self.session.add(person)
        await self.session.flush()
        if identity is not None:
            assert person.id is not None
            identity.person_id = person.id
            self.session.add(identity)
            await self.session.flush()
        return person

    async def identities(self, person_id: int) -> list[Identity]:
        result = await self.session.scalars(
            select(Identity)
            .where(tables.identities.c.person_id == person_id)
            .order_by(tables.identities.c.id)
        )
        return list(result)
