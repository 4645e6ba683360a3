"""Every role against every action, on its own organization and on another, on the real
database. The table below is the whole access model: a change to it must be deliberate."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.domain import AccessLevel, Document, DocumentState, OfficeMember, OfficeRole
from core.errors import NotAllowed
from core.permissions import Action, may, may_in_office
from core.review import returned_for_client
from core.team import remove_member
from storage.uow import SqlUnitOfWorkFactory
from tests import scenario

A = Action
OFFICE_WORK = {
    *(A.VIEW, A.UPLOAD, A.UPLOAD_INCOME, A.REVIEW, A.APPROVE, A.RETURN, A.INVITE),
    *(A.EXPORT, A.CLOSE_PERIOD),
}
LEADS = OFFICE_WORK | {A.MANAGE_TEAM, A.REOPEN_PERIOD}
NOTHING: set[Action] = set()

# role -> (allowed on its own organization/office, allowed on the other one)
EXPECTED: dict[str, tuple[set[Action], set[Action]]] = {
    "office owner": (LEADS, NOTHING),
    "office admin": (LEADS, NOTHING),
    "office staff": (OFFICE_WORK, NOTHING),
    "removed staff": (NOTHING, NOTHING),
    "client viewer": ({A.VIEW}, NOTHING),
    "client uploader": ({A.VIEW, A.UPLOAD}, NOTHING),
    "client income": ({A.VIEW, A.UPLOAD, A.UPLOAD_INCOME}, NOTHING),
    "client full": ({A.VIEW, A.UPLOAD, A.UPLOAD_INCOME, A.INVITE, A.REVOKE_ACCESS}, NOTHING),
    # The owner of office B: everything on B's client, nothing on A's.
    "another office": (NOTHING, LEADS),
    "stranger": (NOTHING, NOTHING),
}


@dataclass
class World:
    people: dict[str, int]
    own_org: int
    other_org: int
    own_office: int
    other_office: int


async def build_world(uow_factory: SqlUnitOfWorkFactory) -> World:
    office_a = await scenario.office(uow_factory, "Cohen CPA")
    office_b = await scenario.office(uow_factory, "Levi & Co")
    assert office_a.id and office_b.id
    org_a = await scenario.organization(uow_factory, office_a.id, "Falafel Ltd")
    org_b = await scenario.organization(uow_factory, office_b.id, "Hummus Ltd", "514713288")
    assert org_a.id and org_b.id
    people: dict[str, int] = {}
    for n, role in enumerate(EXPECTED, start=1):
        created = await scenario.person(uow_factory, 7_000 + n, role)
        assert created.id
        people[role] = created.id
    office_roles = {
        "office owner": (office_a.id, OfficeRole.OWNER),
        "office admin": (office_a.id, OfficeRole.ADMIN),
        "office staff": (office_a.id, OfficeRole.STAFF),
        "removed staff": (office_a.id, OfficeRole.STAFF),
        "another office": (office_b.id, OfficeRole.OWNER),
    }
    async with uow_factory() as uow:
        for role, (office_id, office_role) in office_roles.items():
            await uow.offices.add_member(
                OfficeMember(office_id=office_id, person_id=people[role], role=office_role)
            )
        await uow.commit()
    for level in AccessLevel:
        await scenario.client(uow_factory, org_a.id, people[f"client {level.value}"], level)
    async with uow_factory() as uow:
        await remove_member(
            uow,
            actor_id=people["office admin"],
            office_id=office_a.id,
            person_id=people["removed staff"],
            now=scenario.NOW,
        )
    return World(people, org_a.id, org_b.id, office_a.id, office_b.id)


async def allowed(
    uow_factory: SqlUnitOfWorkFactory, person_id: int, organization_id: int, office_id: int
) -> set[Action]:
    found = set()
    async with uow_factory() as uow:
        for action in Action:
            if action is Action.MANAGE_TEAM:
                # The team belongs to the office serving the organization.
                ok = await may_in_office(uow, person_id, action, office_id)
            else:
                ok = await may(uow, person_id, action, organization_id)
            if ok:
                found.add(action)
    return found


async def test_every_role_may_do_exactly_what_the_table_says(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    world = await build_world(uow_factory)
    actual = {
        role: (
            await allowed(uow_factory, pid, world.own_org, world.own_office),
            await allowed(uow_factory, pid, world.other_org, world.other_office),
        )
        for role, pid in world.people.items()
    }
    assert actual == EXPECTED


@pytest.mark.parametrize("role", ["office owner", "office staff"])
async def test_an_office_grant_reaches_future_members_and_its_revocation_reaches_all(
    uow_factory: SqlUnitOfWorkFactory, role: str
) -> None:
    from core.access import revoke_office

    world = await build_world(uow_factory)
    newcomer = await scenario.person(uow_factory, 9_999, "Newcomer")
    assert newcomer.id
    async with uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=world.own_office, person_id=newcomer.id, role=OfficeRole.STAFF)
        )
        await uow.commit()
    assert Action.REVIEW in await allowed(uow_factory, newcomer.id, world.own_org, 0)
    async with uow_factory() as uow:
        await revoke_office(
            uow,
            actor_id=world.people["client full"],
            organization_id=world.own_org,
            office_id=world.own_office,
            now=scenario.NOW,
        )
    for pid in (newcomer.id, world.people[role]):
        assert await allowed(uow_factory, pid, world.own_org, 0) == NOTHING
    # The clients themselves keep their own access.
    assert Action.UPLOAD in await allowed(
        uow_factory, world.people["client uploader"], world.own_org, 0
    )


async def test_a_returned_document_is_answered_only_by_its_sender_while_they_may_upload(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """Every role against the client's answers to a returned document (explain, new photo,
    withdraw: one rule), on a document they sent and on one someone else sent."""
    world = await build_world(uow_factory)
    documents: dict[str, int] = {}
    async with uow_factory() as uow:
        for n, (role, pid) in enumerate(world.people.items()):
            created = await uow.documents.add(
                Document(
                    uploaded_by=pid,
                    batch=f"m{n}",
                    source_platform="telegram",
                    source_chat_id=pid,
                    source_message_id=n,
                    organization_id=world.own_org,
                    state=DocumentState.RETURNED,
                    created_at=scenario.NOW,
                    updated_at=scenario.NOW,
                )
            )
            documents[role] = created.id or 0
        await uow.commit()
    someone_else = documents["client full"]
    for role, pid in world.people.items():
        async with uow_factory() as uow:
            try:
                await returned_for_client(uow, pid, documents[role])
                own = True
            except NotAllowed:
                own = False
        assert own == (A.UPLOAD in EXPECTED[role][0]), role
        if role == "client full":
            continue
        async with uow_factory() as uow:
            with pytest.raises(NotAllowed):
                await returned_for_client(uow, pid, someone_else)
