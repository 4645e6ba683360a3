"""What e-mail intake keeps (issue 14): forwarding addresses, allowed senders, received
messages, and the port that stores them. Apart from `core.mail` so that `core.ports` can
name the port without importing the mail use cases (which import the ports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class MailState(StrEnum):
    RECEIVED = "received"  # kept raw, waiting to be processed
    HELD = "held"  # the sender is not known (or not proven): the office decides
    DONE = "done"
    REJECTED = "rejected"  # the office refused a held message
    BOUNCED = "bounced"  # sent to a retired or unknown address
    FAILED = "failed"  # could not be processed; kept for the office


@dataclass(eq=False)
class MailAddress:
    organization_id: int
    local_part: str
    created_by: int | None = None
    retired_at: datetime | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class MailSender:
    organization_id: int
    address: str
    person_id: int | None = None
    added_by: int | None = None
    id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False)
class InboundMail:
    channel: str  # "smtp" or "imap"
    raw_sha256: str
    size: int
    recipient: str
    state: str = MailState.RECEIVED.value
    external_key: str | None = None  # an IMAP message's mailbox, UIDVALIDITY and UID
    envelope_from: str | None = None
    organization_id: int | None = None
    sender: str | None = None
    subject: str | None = None
    auth: str | None = None
    reason: str | None = None
    documents: int = 0
    decided_by: int | None = None
    id: int | None = None
    created_at: datetime | None = None
    processed_at: datetime | None = None


class MailPort(Protocol):
    async def address_by_local_part(self, local_part: str) -> MailAddress | None: ...
    async def current_address(self, organization_id: int) -> MailAddress | None: ...
    async def add_address(self, address: MailAddress) -> MailAddress: ...
    async def senders(self, organization_id: int) -> list[MailSender]: ...
    async def sender(self, organization_id: int, address: str) -> MailSender | None: ...
    async def add_sender(self, sender: MailSender) -> MailSender: ...
    async def add_inbound(self, mail: InboundMail) -> InboundMail: ...
    async def inbound(self, mail_id: int) -> InboundMail | None: ...
    async def inbound_by_key(self, external_key: str) -> InboundMail | None: ...
    async def held(self, organization_ids: list[int]) -> list[InboundMail]: ...
