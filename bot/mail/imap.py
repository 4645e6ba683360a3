"""Polling a hosted mailbox over IMAP (imap-tools), with IDLE where the server offers it.

A message is kept raw and queued first, and only then flagged \\Seen: a crash in between
fetches it again, and its mailbox/UIDVALIDITY/UID key keeps it from being kept twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from email import message_from_bytes, policy
from email.utils import getaddresses
from typing import Any

from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessageFlags

from bot.settings import MailSettings
from core import mail
from core.ports import FileStore
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
BATCH = 50
# Headers that may name the address the message was delivered to, most reliable first.
_RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")


def recipient_of(raw: bytes, domain: str) -> str | None:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][: 256 * 1024]
    message = message_from_bytes(head, policy=policy.compat32)
    for name in _RECIPIENT_HEADERS:
        for _, address in getaddresses([str(v) for v in message.get_all(name) or []]):
            if mail.local_part_of(address, domain) is not None:
                return address
    return None


class ImapPoller:
    def __init__(
        self,
        settings: MailSettings,
        uow_factory: SqlUnitOfWorkFactory,
        files: FileStore,
        domain: str,
        *,
        on_kept: Callable[[int], Any] | None = None,
        idle_seconds: float = 60.0,
        poll_seconds: float = 30.0,
    ) -> None:
        self.settings = settings
        self.uow_factory = uow_factory
        self.files = files
        self.domain = domain
        self.on_kept = on_kept
        self.idle_seconds = idle_seconds
        self.poll_seconds = poll_seconds
        self.kept = 0
        self.idling = False

    def _connect(self) -> MailBox:
        s = self.settings
        assert s.imap_host and s.imap_user and s.imap_password is not None
        box: MailBox = (
            MailBox(s.imap_host, s.imap_port)
            if s.imap_ssl
            else MailBoxUnencrypted(s.imap_host, s.imap_port)  # type: ignore[assignment]
        )
        box.login(s.imap_user, s.imap_password.get_secret_value(), s.imap_folder)
        return box

    @staticmethod
    def _offers_idle(box: MailBox) -> bool:
        # Asked after login: imaplib keeps only the greeting's list, which servers often
        # give before authentication without IDLE.
        typ, data = box.client.capability()
        words = b" ".join(d for d in data if isinstance(d, bytes)).upper().split()
        return typ == "OK" and b"IDLE" in words

    @staticmethod
    def _unseen(box: MailBox) -> tuple[str, list[tuple[str, bytes]]]:
        status = box.folder.status(box.folder.get(), ["UIDVALIDITY"])
        validity = str(status.get("UIDVALIDITY", "0"))
        found: list[tuple[str, bytes]] = []
        for uid in box.uids(AND(seen=False))[:BATCH]:
            typ, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
            if typ != "OK":
                continue
            for item in data:
                if isinstance(item, tuple) and isinstance(item[1], bytes):
                    found.append((uid, item[1]))
                    break
        return validity, found

    async def poll_once(self, box: MailBox) -> int:
        validity, found = await asyncio.to_thread(self._unseen, box)
        done: list[str] = []
        for uid, raw in found:
            recipient = recipient_of(raw, self.domain) or ""
            key = f"imap:{self.settings.imap_folder}:{validity}:{uid}"[:200]
            async with self.uow_factory() as uow:
                kept = await mail.keep_raw(
                    uow,
                    self.files,
                    channel="imap",
                    raw=raw,
                    recipient=recipient,
                    envelope_from=None,
                    external_key=key,
                )
            done.append(uid)
            self.kept += 1
            if self.on_kept is not None and kept.id is not None:
                self.on_kept(kept.id)
        if done:
            # Only now, with every message kept, does the mailbox hear that they were seen.
            await asyncio.to_thread(box.flag, done, MailMessageFlags.SEEN, True)
        return len(done)

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            box = None
            try:
                box = await asyncio.to_thread(self._connect)
                idle = await asyncio.to_thread(self._offers_idle, box)
                self.idling = idle
                while not stop.is_set():
                    if await self.poll_once(box):
                        continue
                    if idle:
                        await asyncio.to_thread(box.idle.wait, self.idle_seconds)
                    else:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("IMAP polling failed; connecting again shortly")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 5)
            finally:
                if box is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(box.logout)
