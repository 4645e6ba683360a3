"""Tayuk's own SMTP receiver (aiosmtpd): mail for known addresses only, kept before "250".

Runs on the application's event loop (not aiosmtpd's threaded Controller), so the database
connections it shares with the processing loop stay on one loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from core import mail
from core.ports import Clock, FileStore
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 20
# A rotated address starts bouncing at most this long after the rotation.
RECIPIENT_MEMORY = timedelta(seconds=30)
RELAY_DENIED = "550 5.7.1 Relaying denied: this server only receives mail for its own addresses"
NO_MAILBOX = "550 5.1.1 No such mailbox here"
# A rotated address, within its grace period: the sender's server turns this into a bounce.
MOVED = (
    "550 5.1.6 This forwarding address is no longer in use. Please ask the business you are "
    "writing to for its new address. Thank you"
)
TRY_LATER = "451 4.3.0 Could not keep the message just now; please try again later"


class IntakeHandler:
    """aiosmtpd's handler: the RCPT check, and keeping each message raw before "250"."""

    def __init__(
        self,
        uow_factory: SqlUnitOfWorkFactory,
        files: FileStore,
        clock: Clock,
        *,
        domain: str,
        grace: timedelta = mail.DEFAULT_GRACE,
        on_kept: Callable[[int], Any] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.files = files
        self.clock = clock
        self.domain = domain
        self.grace = grace
        self.on_kept = on_kept
        self.kept = 0
        self.receiving = 0  # messages between their DATA and its answer
        self._known: dict[str, tuple[mail.Recipient, datetime]] = {}

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if mail.local_part_of(address, self.domain) is None:
            return RELAY_DENIED
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        found = await self._resolve(address)
        if found.kind is mail.RecipientKind.RETIRED:
            return MOVED
        if found.kind is mail.RecipientKind.UNKNOWN:
            return NO_MAILBOX
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def _resolve(self, address: str) -> mail.Recipient:
        """The address's standing, remembered briefly: a busy sender's every message would
        otherwise wait for the database before its DATA."""
        key = address.lower()
        now = self.clock.now()
        cached = self._known.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        async with self.uow_factory() as uow:
            found = await mail.resolve_recipient(uow, address, self.domain, now, self.grace)
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[key] = (found, now + RECIPIENT_MEMORY)
        return found

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        kept: list[int] = []
        try:
            for recipient in envelope.rcpt_tos:
                found = await self._resolve(recipient)
                async with self.uow_factory() as uow:
                    inbound = await mail.keep_raw(
                        uow,
                        self.files,
                        channel="smtp",
                        raw=raw,
                        recipient=recipient,
                        envelope_from=envelope.mail_from,
                        # Known at once, so even a mail that later fails shows under it.
                        organization_id=found.address.organization_id if found.address else None,
                    )
                assert inbound.id is not None
                kept.append(inbound.id)
        except Exception:
            # Not kept, so not acknowledged: the sending server keeps it and tries again.
            log.exception("could not keep a message")
            return TRY_LATER
        self.kept += 1
        if self.on_kept is not None:
            for mail_id in kept:
                self.on_kept(mail_id)
        return "250 2.0.0 Message accepted"


class _CountingSMTP(SMTP):
    """Counts the messages being received, from DATA to the answer, on the handler: the
    filing loops give way to them (`MailProcessor.yield_to`)."""

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.event_handler
        counting = isinstance(handler, IntakeHandler)
        if counting:
            handler.receiving += 1
        try:
            await super().smtp_DATA(arg)
        finally:
            if counting:
                handler.receiving -= 1


async def serve_smtp(
    handler: IntakeHandler, host: str, port: int, *, max_bytes: int, hostname: str | None = None
) -> asyncio.Server:
    """Listens on the running loop; the caller closes the returned server."""
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return _CountingSMTP(
            handler,
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
            hostname=hostname,
            timeout=60,
            command_call_limit=200,
        )

    return await loop.create_server(factory, host=host, port=port)
