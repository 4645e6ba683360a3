"""Every action on a document asks for the person's current permission, uploader or not:
an office that lost its grant, and a colleague with a forged button, are refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core import intake, review, status
from core.access import revoke_office
from core.domain import AccessLevel, Document, DocumentState, OfficeMember, OfficeRole, Return
from core.errors import NotAllowed
from storage.uow import SqlUnitOfWorkFactory
from tests import scenario
from tests.scenario import NOW


@dataclass
class World:
    office: int
    org: int
    owner: int  # the client with full access
    alice: int  # an accountant of the office, who uploaded for the client
    carol: int  # an uploader-level colleague of the client


async def world(uow_factory: SqlUnitOfWorkFactory) -> World:
    office = await scenario.office(uow_factory)
    org = await scenario.organization(uow_factory, office.id or 0)
    owner = await scenario.person(uow_factory, 1, "Dana")
    alice = await scenario.person(uow_factory, 2, "Alice")
    carol = await scenario.person(uow_factory, 3, "Carol")
    await scenario.client(uow_factory, org.id or 0, owner.id or 0, AccessLevel.FULL)
    await scenario.client(uow_factory, org.id or 0, carol.id or 0, AccessLevel.UPLOADER)
    async with uow_factory() as uow:
        await uow.offices.add_member(
            OfficeMember(office_id=office.id or 0, person_id=alice.id or 0, role=OfficeRole.STAFF)
        )
        await uow.commit()
    return World(office.id or 0, org.id or 0, owner.id or 0, alice.id or 0, carol.id or 0)


async def returned_document(uow_factory: SqlUnitOfWorkFactory, org: int, by: int, n: int) -> int:
    async with uow_factory() as uow:
        created = await uow.documents.add(
            Document(
                uploaded_by=by,
                batch=f"b{n}",
                source_platform="telegram",
                source_chat_id=by,
                source_message_id=n,
                organization_id=org,
                state=DocumentState.RETURNED,
                last_return=Return(reason="unreadable"),
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await uow.commit()
        return created.id or 0


async def test_an_office_member_who_uploaded_loses_the_document_with_the_grant(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w = await world(uow_factory)
    first = await returned_document(uow_factory, w.org, w.alice, 1)
    second = await returned_document(uow_factory, w.org, w.alice, 2)
    async with uow_factory() as uow:
        # While the office holds the grant, the uploader sees and answers.
        assert [d.id for d in await review.returned_to_me(uow, w.alice)] == [first, second]
        person = await uow.people.get(w.alice)
        assert person is not None
        seen = await status.month_status(uow, person, NOW)
        assert [s.organization_id for s in seen] == [w.org]
        await review.answer_text(uow, w.alice, first, "here it is", NOW)
    async with uow_factory() as uow:
        await revoke_office(
            uow, actor_id=w.owner, organization_id=w.org, office_id=w.office, now=NOW
        )
    async with uow_factory() as uow:
        assert await review.returned_to_me(uow, w.alice) == []
        person = await uow.people.get(w.alice)
        assert person is not None
        assert await status.month_status(uow, person, NOW) == []
    for act in (
        lambda uow: review.answer_text(uow, w.alice, second, "still me", NOW),
        lambda uow: review.withdraw(uow, w.alice, second, NOW),
        lambda uow: review.returned_for_client(uow, w.alice, second),
    ):
        async with uow_factory() as uow:
            with pytest.raises(NotAllowed):
                await act(uow)
    async with uow_factory() as uow:
        document = await uow.documents.get(second)
        assert document is not None and document.state is DocumentState.RETURNED


async def test_a_colleague_cannot_withdraw_or_answer_anothers_returned_document(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w = await world(uow_factory)
    theirs = await returned_document(uow_factory, w.org, w.owner, 1)
    for act in (
        lambda uow: review.withdraw(uow, w.carol, theirs, NOW),
        lambda uow: review.answer_text(uow, w.carol, theirs, "not mine", NOW),
    ):
        async with uow_factory() as uow:
            with pytest.raises(NotAllowed):
                await act(uow)
    async with uow_factory() as uow:
        assert await review.returned_to_me(uow, w.carol) == []
        withdrawn = await review.withdraw(uow, w.owner, theirs, NOW)
        assert withdrawn.state is DocumentState.WITHDRAWN


async def test_joining_pages_needs_the_current_permission(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    w = await world(uow_factory)
    async with uow_factory() as uow:
        for n in (1, 2):
            await uow.documents.add(
                Document(
                    uploaded_by=w.alice,
                    batch="album",
                    source_platform="telegram",
                    source_chat_id=w.alice,
                    source_message_id=n,
                    organization_id=w.org,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        await uow.commit()
    async with uow_factory() as uow:
        await revoke_office(
            uow, actor_id=w.owner, organization_id=w.org, office_id=w.office, now=NOW
        )
    async with uow_factory() as uow:
        person = await uow.people.get(w.alice)
        assert person is not None
        with pytest.raises(NotAllowed):
            await intake.join_as_pages(uow, person, "album", NOW)
