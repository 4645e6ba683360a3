"""Documents by e-mail (issue 14): forwarding addresses, who may send, and one mail's intake.

A received message is kept raw (file store + an `InboundMail` row, with a queued job) before
the receiver acknowledges it; `process` then turns it into documents through
`core.intake.receive`, the chat's own path. Nothing here speaks SMTP or IMAP.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from core import intake, review
from core.domain import AuditEntry, Document, Job, Person
from core.errors import Conflict, FileRejected, NotAllowed, NotFound, TayukError
from core.mail_parts import ParsedMail
from core.mail_records import InboundMail as InboundMail
from core.mail_records import MailAddress as MailAddress
from core.mail_records import MailPort as MailPort
from core.mail_records import MailSender as MailSender
from core.mail_records import MailState as MailState
from core.organizations import normalise_email
from core.permissions import Action, may
from core.ports import FileStore, UnitOfWork

MAIL_JOB = "mail_intake"
PLATFORM = "email"
# How long a rotated address still answers, with a polite bounce naming no new address.
DEFAULT_GRACE = timedelta(days=30)
_SUFFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud safely
_SUFFIX_LENGTH = 8  # 40 bits: not guessable, still easy to type


class AuthVerdict(StrEnum):
    PASS = "pass"  # the sender's domain vouches for the message
    FAIL = "fail"  # a signature is there and does not hold: tampered or spoofed
    NONE = "none"  # nothing proves or disproves the sender
    SKIPPED = "skipped"  # the office chose not to check (a trusted relay in front)


class MailUnitOfWork(UnitOfWork, Protocol):
    @property
    def mail(self) -> MailPort: ...


class Authenticator(Protocol):
    """Says whether the message really comes from the domain of its From address."""

    def __call__(self, raw: bytes, sender: str) -> AuthVerdict: ...


Renderer = Callable[[str, dict[str, bytes]], bytes]  # HTML and cid: images -> PDF bytes


class MailNotices(Protocol):
    """Tells people what became of a mail: in their chat, or by e-mail when they have none."""

    async def to_sender(
        self, mail: InboundMail, person: Person | None, outcome: Outcome
    ) -> None: ...

    async def held(self, mail: InboundMail) -> None: ...

    async def client_answered(
        self, accountant_id: int, *, client: str, number: int, organization: str
    ) -> None: ...


# --- addresses -----------------------------------------------------------------------------


def slug(name: str) -> str:
    """The Latin letters and digits of a name, for a readable start of the address."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    return "-".join(words)[:20].strip("-") or "org"


def new_local_part(name: str) -> str:
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(_SUFFIX_LENGTH))
    return f"{slug(name)}-{suffix}"


_RETURN_ID = re.compile(r"^<tayuk-return-(\d{1,18})-[0-9a-f]{12}@", re.I)


def return_message_id(document_id: int, domain: str) -> str:
    """The Message-ID of a return sent by e-mail: the client's reply names it, and so
    finds the document (the reply still has to come from the document's sender)."""
    return f"<tayuk-return-{document_id}-{secrets.token_hex(6)}@{domain}>"


def returned_document_in(replies_to: Sequence[str]) -> int | None:
    for message_id in replies_to:
        found = _RETURN_ID.match(message_id)
        if found:
            return int(found.group(1))
    return None


def full_address(local_part: str, domain: str) -> str:
    return f"{local_part}@{domain}"


def local_part_of(recipient: str, domain: str) -> str | None:
    """The organization's part of a recipient at our domain (plus-addressing is allowed)."""
    local, _, host = recipient.strip().strip("<>").rpartition("@")
    if not local or host.lower() != domain.lower():
        return None
    # A hosted mailbox with plus-addressing: tayuk+falafel-7k3q9xab@office.example
    if "+" in local:
        local = local.split("+", 1)[1]
    return local.lower()


async def address_for(
    uow: MailUnitOfWork, organization_id: int, *, created_by: int | None = None
) -> MailAddress:
    """The organization's current address, made on first use."""
    current = await uow.mail.current_address(organization_id)
    if current is not None:
        return current
    organization = await uow.organizations.get(organization_id)
    if organization is None:
        raise NotFound()
    return await uow.mail.add_address(
        MailAddress(organization_id, new_local_part(organization.name), created_by)
    )


async def rotate(
    uow: MailUnitOfWork, actor_id: int, organization_id: int, now: datetime
) -> MailAddress:
    """The office replaces the address; the old one bounces politely for a grace period."""
    if not await may(uow, actor_id, Action.REVIEW, organization_id):
        raise NotAllowed()
    current = await uow.mail.current_address(organization_id)
    if current is not None:
        current.retired_at = now
    organization = await uow.organizations.get(organization_id)
    assert organization is not None
    fresh = await uow.mail.add_address(
        MailAddress(organization_id, new_local_part(organization.name), actor_id)
    )
    await uow.audit.add(
        AuditEntry(
            action="mail.address_rotated",
            actor_id=actor_id,
            organization_id=organization_id,
            details={"old": current.local_part if current else None, "new": fresh.local_part},
        )
    )
    await uow.commit()
    return fresh


class RecipientKind(StrEnum):
    CURRENT = "current"
    RETIRED = "retired"  # within the grace period: a polite bounce
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    address: MailAddress | None = None


async def resolve_recipient(
    uow: MailUnitOfWork, recipient: str, domain: str, now: datetime, grace: timedelta
) -> Recipient:
    local = local_part_of(recipient, domain)
    if local is None:
        return Recipient(RecipientKind.UNKNOWN)
    address = await uow.mail.address_by_local_part(local)
    if address is None:
        return Recipient(RecipientKind.UNKNOWN)
    if address.retired_at is None:
        return Recipient(RecipientKind.CURRENT, address)
    if now - address.retired_at <= grace:
        return Recipient(RecipientKind.RETIRED, address)
    return Recipient(RecipientKind.UNKNOWN)


# --- who may send --------------------------------------------------------------------------


def normal_address(raw: str) -> str:
    return normalise_email(raw).lower()


async def allowed_senders(uow: MailUnitOfWork, organization_id: int) -> list[str]:
    organization = await uow.organizations.get(organization_id)
    listed = [s.address for s in await uow.mail.senders(organization_id)]
    invited = [organization.email.lower()] if organization and organization.email else []
    return list(dict.fromkeys(invited + listed))


async def add_sender(
    uow: MailUnitOfWork, actor: Person, organization_id: int, raw: str
) -> MailSender:
    """A client adds their own address (it becomes theirs), or the office adds a client's."""
    assert actor.id is not None
    if not await may(uow, actor.id, Action.UPLOAD, organization_id):
        raise NotAllowed()
    address = normal_address(raw)
    existing = await uow.mail.sender(organization_id, address)
    client = (await uow.organizations.membership(organization_id, actor.id)) is not None
    if existing is not None:
        if client and existing.person_id is None:
            existing.person_id = actor.id
        await uow.commit()
        return existing
    sender = await uow.mail.add_sender(
        MailSender(
            organization_id, address, person_id=actor.id if client else None, added_by=actor.id
        )
    )
    await uow.audit.add(
        AuditEntry(
            action="mail.sender_added",
            actor_id=actor.id,
            organization_id=organization_id,
            details={"address": address},
        )
    )
    await uow.commit()
    return sender


# --- receiving -----------------------------------------------------------------------------


async def keep_raw(
    uow: MailUnitOfWork,
    files: FileStore,
    *,
    channel: str,
    raw: bytes,
    recipient: str,
    envelope_from: str | None,
    organization_id: int | None = None,
    external_key: str | None = None,
) -> InboundMail:
    """Writes the message to disk and queues its processing, in one commit.

    Called before the receiver acknowledges the message: once this returns, a crash cannot
    lose it. A message seen again (same IMAP key) is not kept twice.
    """
    # The bytes reach the disk first (content-addressed: writing twice is harmless), so no
    # transaction is open while they are flushed.
    sha256 = await files.put(raw)
    if external_key is not None:
        existing = await uow.mail.inbound_by_key(external_key)
        if existing is not None:
            return existing
    mail = await uow.mail.add_inbound(
        InboundMail(
            channel=channel,
            raw_sha256=sha256,
            size=len(raw),
            recipient=recipient[:320],
            envelope_from=(envelope_from or "")[:320] or None,
            organization_id=organization_id,
            external_key=external_key,
        )
    )
    await uow.jobs.enqueue(Job(kind=MAIL_JOB, payload={"mail_id": mail.id}))
    await uow.commit()
    return mail


@dataclass
class Outcome:
    """What became of one mail, for the sender's notice and the office."""

    state: MailState
    subject: str = ""
    stored: int = 0
    duplicates: int = 0
    already: int = 0
    refused: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # name, key
    reason: str | None = None
    sender_person: Person | None = None
    organization_name: str | None = None
    # The returned document this mail answered with a new file: its number, for the notice.
    answered: int | None = None
    # ... or with the text the client wrote (no file attached).
    answered_text: int | None = None


@dataclass
class MailIntake:
    """Processes kept mails; one instance serves a receiver process."""

    files: FileStore
    parse: Callable[[bytes], ParsedMail]
    authenticate: Authenticator
    domain: str
    grace: timedelta = DEFAULT_GRACE
    notices: MailNotices | None = None

    async def process(
        self, uow: MailUnitOfWork, mail_id: int, now: datetime, *, accepted_by: int | None = None
    ) -> Outcome:
        """Turns one kept mail into documents, exactly once however often it is run."""
        mail = await uow.mail.inbound(mail_id)
        if mail is None:
            raise NotFound()
        finished = {MailState.DONE, MailState.REJECTED, MailState.BOUNCED}
        if MailState(mail.state) in finished:
            return Outcome(MailState(mail.state), mail.subject or "", already=mail.documents)
        await uow.release()
        raw = await self.files.get(mail.raw_sha256)
        # Parsing (and drawing an HTML receipt) is real work: off the event loop, with no
        # transaction open.
        parsed = await asyncio.to_thread(self.parse, raw)
        # So is checking and writing the files: all of them at once, still with no
        # transaction open (a held mail's files wait in the store for the office's word).
        files = self._uploads(mail, parsed)
        kept = await intake.keep_all(self.files, [(upload, data) for _, upload, data in files])
        mail.sender = parsed.sender[:320] if parsed.sender else None
        mail.subject = parsed.subject[:300] if parsed.subject else None
        recipient = await resolve_recipient(uow, mail.recipient, self.domain, now, self.grace)
        if recipient.kind is not RecipientKind.CURRENT:
            return await self._finish(uow, mail, MailState.BOUNCED, now, reason=recipient.kind)
        assert recipient.address is not None
        mail.organization_id = recipient.address.organization_id
        if accepted_by is None:
            held = await self._hold_reason(uow, mail, raw)
            if held is not None:
                if mail.state != MailState.HELD.value:
                    outcome = await self._finish(uow, mail, MailState.HELD, now, reason=held)
                    if self.notices is not None:
                        await self.notices.held(mail)
                    return outcome
                return Outcome(MailState.HELD, mail.subject or "", reason=held)
        else:
            mail.decided_by = accepted_by
        person = await self._sender_person(uow, mail)
        # From here the mail is one transaction, committed with its "done" below.
        outcome = Outcome(MailState.DONE, mail.subject or "", sender_person=person)
        outcome.refused += [(p.name or "", p.refused, {}) for p in parsed.parts if p.refused]
        pending = [(upload, found) for (_, upload, _), found in zip(files, kept, strict=True)]
        returned_id = returned_document_in(parsed.replies_to)
        answered: Document | None = None
        if returned_id is not None:
            pending, answered = await self._answer_return(
                uow, mail, person, returned_id, pending, parsed.text, outcome, now
            )
        results = await intake.receive_all(
            uow,
            person=person,
            organization_id=mail.organization_id,
            parts=pending,
            batch=f"mail{mail.id}"[:32],
            now=now,
        )
        for (upload, _), received in zip(pending, results, strict=True):
            if received.outcome is intake.ReceiveOutcome.STORED:
                outcome.stored += 1
            elif received.outcome is intake.ReceiveOutcome.DUPLICATE:
                outcome.duplicates += 1
            elif received.outcome is intake.ReceiveOutcome.ALREADY_HAVE:
                outcome.already += 1
            else:
                assert received.reason is not None
                outcome.refused.append((upload.file_name or "", received.reason, received.params))
        if not parsed.parts and outcome.answered is None and outcome.answered_text is None:
            outcome.reason = "mail.nothing_attached"
        mail.state = MailState.DONE.value
        mail.processed_at = now
        mail.documents = outcome.stored + outcome.duplicates + outcome.already
        mail.documents += 1 if outcome.answered is not None else 0
        mail.reason = outcome.reason or (None if not outcome.refused else "mail.some_refused")
        await uow.audit.add(
            AuditEntry(
                action="mail.processed",
                actor_id=person.id,
                organization_id=mail.organization_id,
                details={
                    "mail_id": mail.id,
                    "stored": outcome.stored,
                    "duplicates": outcome.duplicates,
                    "refused": len(outcome.refused),
                },
            )
        )
        organization = await uow.organizations.get(mail.organization_id)
        outcome.organization_name = organization.name if organization else None
        await uow.commit()
        if self.notices is not None:
            await self.notices.to_sender(mail, person, outcome)
            if answered is not None:
                await self._tell_returner(uow, person, answered, now)
        return outcome

    def _uploads(
        self, mail: InboundMail, parsed: ParsedMail
    ) -> list[tuple[int, intake.Upload, bytes]]:
        """The mail's usable parts as uploads, by their place in the mail (the key that
        makes filing them again a no-op)."""
        assert mail.id is not None
        caption = _caption(parsed.subject, parsed.sender)
        return [
            (
                index,
                intake.Upload(
                    platform=PLATFORM,
                    chat_id=mail.id,
                    message_id=index,
                    file_id=f"mail:{mail.id}:{index}",
                    file_unique_id=None,
                    file_size=len(part.data),
                    mime_type=part.mime_type,
                    file_name=part.name,
                    caption=caption,
                ),
                part.data,
            )
            for index, part in enumerate(parsed.parts)
            if part.refused is None
        ]

    async def _tell_returner(
        self, uow: MailUnitOfWork, client: Person, document: Document, now: datetime
    ) -> None:
        """The accountant who returned the document hears the client answered, as when
        the answer comes in the chat; in their quiet hours the scheduler's tick tells them
        later (it finds the answer in the audit log)."""
        assert self.notices is not None
        accountant = await review.returner_to_tell(uow, document, now)
        if accountant is None or document.organization_id is None:
            return
        organization = await uow.organizations.get(document.organization_id)
        await uow.release()
        await self.notices.client_answered(
            accountant,
            client=client.display_name,
            number=int(getattr(document, "number", None) or document.id or 0),
            organization=organization.name if organization else "?",
        )

    async def _hold_reason(self, uow: MailUnitOfWork, mail: InboundMail, raw: bytes) -> str | None:
        assert mail.organization_id is not None
        if not mail.sender:
            return "mail.held_unknown_sender"
        if mail.sender.lower() not in await allowed_senders(uow, mail.organization_id):
            return "mail.held_unknown_sender"
        verdict = self.authenticate(raw, mail.sender)
        mail.auth = verdict.value
        if verdict in (AuthVerdict.PASS, AuthVerdict.SKIPPED):
            return None
        return "mail.held_not_proven"

    async def _sender_person(self, uow: MailUnitOfWork, mail: InboundMail) -> Person:
        """The person a mail's documents are from: the client who owns the address, or one
        standing for the address itself (made once, with no chat)."""
        assert mail.organization_id is not None
        address = (mail.sender or mail.envelope_from or "unknown").lower()[:320]
        sender = await uow.mail.sender(mail.organization_id, address)
        if sender is not None and sender.person_id is not None:
            person = await uow.people.get(sender.person_id)
            if person is not None:
                return person
        person = await uow.people.add(Person(display_name=address[:200], reachable=False))
        if sender is None:
            sender = await uow.mail.add_sender(
                MailSender(mail.organization_id, address, added_by=mail.decided_by)
            )
        sender.person_id = person.id
        return person

    async def _answer_return(
        self,
        uow: MailUnitOfWork,
        mail: InboundMail,
        person: Person,
        document_id: int,
        pending: list[tuple[intake.Upload, intake.KeptFile | FileRejected]],
        text: str,
        outcome: Outcome,
        now: datetime,
    ) -> tuple[list[tuple[intake.Upload, intake.KeptFile | FileRejected]], Document | None]:
        """A reply to a return sent by e-mail answers it as the chat does: its first usable
        file joins the returned document (the others are filed as usual); with no file, what
        the client wrote above the quote is a text answer. Only the document's own sender
        may answer (`review.returned_for_client` checks); the answer commits.

        Returns the files left to file, and the document answered (None if not)."""
        assert person.id is not None
        # Only a mail that passed the allowed list and its authentication (or that the
        # office accepted) gets this far.
        if pending:
            _, kept = pending[0]
            if isinstance(kept, FileRejected):
                return pending, None  # refused with its reason by the usual filing
            try:
                document = await review.answer_file(
                    uow, person.id, document_id, kept.attach(document_id), now, sender_vouched=True
                )
            except Conflict:
                # Run again after a crash: the answer is in already, not a new document.
                pages = await uow.documents.files(document_id)
                if not any(page.sha256 == kept.sha256 for page in pages):
                    return pending, None
                found = await uow.documents.get(document_id)
                if found is None:
                    return pending, None
                document = found
            except (NotFound, NotAllowed):
                return pending, None  # not theirs to answer: filed as a new document
            assert document is not None
            outcome.answered = int(getattr(document, "number", None) or document_id)
            return pending[1:], document
        if not text:
            return pending, None
        try:
            document = await review.answer_text(
                uow, person.id, document_id, text, now, sender_vouched=True
            )
        except Conflict:
            # Run again after a crash: the same explanation is in already.
            again = await uow.documents.get(document_id)
            if again is None or not any(
                a.kind == "text" and a.text == text for a in again.answers
            ):
                return pending, None
            document = again
        except (NotFound, NotAllowed):
            return pending, None
        assert document is not None
        outcome.answered_text = int(getattr(document, "number", None) or document_id)
        return pending, document

    async def _finish(
        self,
        uow: MailUnitOfWork,
        mail: InboundMail,
        state: MailState,
        now: datetime,
        *,
        reason: str | None,
    ) -> Outcome:
        mail.state = state.value
        mail.reason = reason
        if state is not MailState.HELD:
            mail.processed_at = now
        await uow.audit.add(
            AuditEntry(
                action=f"mail.{state.value}",
                organization_id=mail.organization_id,
                details={"mail_id": mail.id, "reason": reason},
            )
        )
        await uow.commit()
        return Outcome(state, mail.subject or "", reason=reason)


def _caption(subject: str | None, sender: str | None) -> str:
    # The subject and sender stay with each document, where the chat keeps a caption.
    return f"✉ {(subject or '')[:300]} — {(sender or '')[:320]}".strip()[:1000]


async def decide_held(
    uow: MailUnitOfWork, actor_id: int, mail_id: int, accept: bool, now: datetime
) -> InboundMail:
    """The office accepts a held mail (it is processed as from an allowed sender) or rejects
    it (kept, marked rejected)."""
    mail = await uow.mail.inbound(mail_id)
    if mail is None or mail.organization_id is None:
        raise NotFound()
    if not await may(uow, actor_id, Action.REVIEW, mail.organization_id):
        raise NotAllowed()
    if mail.state != MailState.HELD.value:
        raise TayukError("mail.already_decided")
    mail.decided_by = actor_id
    if accept:
        mail.state = MailState.RECEIVED.value
        await uow.jobs.enqueue(
            Job(kind=MAIL_JOB, payload={"mail_id": mail.id, "accepted_by": actor_id})
        )
    else:
        mail.state = MailState.REJECTED.value
        mail.processed_at = now
    await uow.audit.add(
        AuditEntry(
            action="mail.accepted" if accept else "mail.rejected",
            actor_id=actor_id,
            organization_id=mail.organization_id,
            details={"mail_id": mail.id},
        )
    )
    await uow.commit()
    return mail
