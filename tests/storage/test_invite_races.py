"""Invites under pressure on the real databases: ten people opening one single-use link at
the same moment (each on its own connection), a self-join link opened again and again,
and a person trying token after token."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core import access, invites
from core.domain import AccessLevel, InviteKind, OfficeMember, OfficeRole
from core.errors import InviteError
from storage.database import create_engine, session_factory
from storage.uow import SqlUnitOfWorkFactory
from tests import scenario
from tests.scenario import NOW

PEOPLE = 10


async def one_person_opens(database_url: str, person_id: int, token: str) -> bool:
    # Its own engine: its own connection, as ten bot processes or ten pooled sessions.
    engine = create_engine(database_url)
    try:
        async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
            person = await uow.people.get(person_id)
            assert person is not None
            try:
                await invites.redeem(uow, person, token, NOW)
            except InviteError as error:
                assert error.key == "invite.used"
                return False
            return True
    finally:
        await engine.dispose()


@pytest.mark.parametrize("kind", [InviteKind.ORG_MEMBER, InviteKind.OFFICE_MEMBER])
async def test_ten_people_opening_a_single_use_invite_at_once_let_exactly_one_in(
    uow_factory: SqlUnitOfWorkFactory, database_url: str, kind: InviteKind
) -> None:
    office = await scenario.office(uow_factory)
    org = await scenario.organization(uow_factory, office.id or 0)
    people = [await scenario.person(uow_factory, 100 + n, f"P{n}") for n in range(PEOPLE)]
    async with uow_factory() as uow:
        issued = await invites.issue(
            uow,
            kind=kind,
            now=NOW,
            office_id=office.id,
            organization_id=org.id if kind is InviteKind.ORG_MEMBER else None,
            access=AccessLevel.FULL,
            role=OfficeRole.ADMIN,
        )
        await uow.commit()
    joined = await asyncio.gather(
        *(one_person_opens(database_url, p.id or 0, issued.token) for p in people)
    )
    print(f"\n{kind.value}: {sum(joined)} of {PEOPLE} joined")
    assert sum(joined) == 1
    async with uow_factory() as uow:
        members = [
            p
            for p in people
            if (
                await uow.organizations.membership(org.id or 0, p.id or 0)
                if kind is InviteKind.ORG_MEMBER
                else await uow.offices.membership(office.id or 0, p.id or 0)
            )
        ]
        assert len(members) == 1
        invite = await uow.invites.get(issued.invite.id or 0)
        assert invite is not None and invite.uses == 1


async def test_a_self_join_link_makes_one_organization_per_person(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    office = await scenario.office(uow_factory)
    owner = await scenario.person(uow_factory, 1, "Alice")
    client = await scenario.person(uow_factory, 2, "Dana")
    other = await scenario.person(uow_factory, 3, "Moshe")
    async with uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=office.id or 0, person_id=owner.id or 0, role=OfficeRole.OWNER)
        )
        await uow.commit()
    async with uow_factory() as uow:
        link = await access.self_join_link(
            uow, actor_id=owner.id or 0, office_id=office.id or 0, now=NOW, ttl=timedelta(days=7)
        )

    async def join(person_id: int, name: str, number: str) -> None:
        async with uow_factory() as uow:
            person = await uow.people.get(person_id)
            assert person is not None
            joined = await invites.redeem(uow, person, link.token, NOW)
            assert joined.needs_answers
            await access.self_join(
                uow,
                None,
                person=person,
                token=link.token,
                name=name,
                business_number=number,
                dealer_type=None,
                now=NOW,
            )

    await join(client.id or 0, "Falafel Ltd", "515303055")
    # Opening the link again is refused at once, and so is finishing a flow begun earlier.
    with pytest.raises(InviteError) as again:
        await join(client.id or 0, "Falafel 2 Ltd", "514713288")
    assert again.value.key == "invite.self_join_done"
    async with uow_factory() as uow:
        person = await uow.people.get(client.id or 0)
        assert person is not None
        with pytest.raises(InviteError) as finish:
            await access.self_join(
                uow,
                None,
                person=person,
                token=link.token,
                name="Falafel 3 Ltd",
                business_number="514713288",
                dealer_type=None,
                now=NOW,
            )
        assert finish.value.key == "invite.self_join_done"
    # The link stays good for everyone else.
    await join(other.id or 0, "Hummus Ltd", "514713288")
    async with uow_factory() as uow:
        assert len(await uow.organizations.through_offices(owner.id or 0)) == 2


async def test_too_many_refused_invite_attempts_stop_lookups_for_that_person_only(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    office = await scenario.office(uow_factory)
    org = await scenario.organization(uow_factory, office.id or 0)
    guesser = await scenario.person(uow_factory, 1, "Eve")
    honest = await scenario.person(uow_factory, 2, "Dana")
    async with uow_factory() as uow:
        good = await invites.issue(
            uow, kind=InviteKind.ORG_MEMBER, now=NOW, organization_id=org.id, reusable=True
        )
        await uow.commit()

    async def open_(person_id: int, token: str, when: timedelta = timedelta()) -> str:
        async with uow_factory() as uow:
            person = await uow.people.get(person_id)
            assert person is not None
            try:
                await invites.redeem(uow, person, token, NOW + when)
            except InviteError as error:
                return error.key
            return "joined"

    for n in range(invites.MAX_REFUSED_ATTEMPTS):
        assert await open_(guesser.id or 0, f"guess-{n:02d}-xxxxxxxxxxxxxxx") == "invite.unknown"
    assert await open_(guesser.id or 0, good.token) == "invite.too_many_attempts"
    assert await open_(honest.id or 0, good.token) == "joined"
    # After the window the person may try again.
    later = invites.ATTEMPT_WINDOW + timedelta(minutes=1)
    assert await open_(guesser.id or 0, good.token, later) == "joined"
