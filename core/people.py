"""Who is writing to us: a person found, or created, from a messaging identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from core.domain import Identity, Person
from core.ports import UnitOfWork

LANGUAGES = ("he", "en")
DEFAULT_LANGUAGE = "he"


@dataclass(frozen=True)
class Sender:
    platform: str
    external_id: int
    chat_id: int
    display_name: str
    username: str | None = None
    language_code: str | None = None


def language_for(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    # Hebrew first: only a client whose app speaks English starts in English.
    if code and code.lower().startswith("en"):
        return "en"
    return default


class KnownPerson(Person):
    """A person read from the store, or just added to it: their id is known.

    The same object as the `Person` it was read as (see `known`); only its type says that
    `id` is set, so code past the update middleware needs no `assert person.id`.
    """

    id: int


def known(person: Person) -> KnownPerson:
    if person.id is None:
        raise ValueError("a person not yet stored has no id")
    return cast(KnownPerson, person)


async def identify(uow: UnitOfWork, sender: Sender) -> tuple[KnownPerson, bool]:
    """The person behind a sender, created on first contact. Returns (person, is_new)."""
    found = await uow.people.by_identity(sender.platform, sender.external_id)
    if found is not None:
        person, identity = found
        if identity.chat_id != sender.chat_id or identity.username != sender.username:
            identity.chat_id = sender.chat_id
            identity.username = sender.username
        return known(person), False
    person = Person(
        display_name=sender.display_name[:200] or "?", language=language_for(sender.language_code)
    )
    identity = Identity(
        person_id=0,
        platform=sender.platform,
        external_id=sender.external_id,
        chat_id=sender.chat_id,
        username=sender.username,
    )
    await uow.people.add(person, identity)
    return known(person), True


async def telegram_chats(uow: UnitOfWork, person_id: int) -> list[int]:
    """The person's Telegram chats, oldest identity first (the one to write to is the first)."""
    return [i.chat_id for i in await uow.people.identities(person_id) if i.platform == "telegram"]


async def set_language(uow: UnitOfWork, person: Person, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(language)
    person.language = language
    await uow.commit()


async def mark_unreachable(uow: UnitOfWork, person_id: int) -> None:
    person = await uow.people.get(person_id)
    if person is not None and person.reachable:
        person.reachable = False
        await uow.commit()
