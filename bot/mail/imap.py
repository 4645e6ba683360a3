"""Polling a hosted mailbox over IMAP (imap-tools), with IDLE where the server offers it.

A message is kept raw and queued first, and only then flagged \\Seen: a crash in between
fetches it again, and its mailbox/UIDVALIDITY/UID key keeps it from being kept twice.

imaplib is blocking, so every command runs in a thread. Two rules keep that from hanging:
- the socket has a timeout, so no read waits forever on a silent server;
- one connection never runs two commands at once. A task cancelled while a command runs in
  its thread (an IDLE, usually) leaves that thread going; logging out beside it would mix two
  conversations on one socket and each could wait for the other's answer. So the socket is
  closed instead, which ends the thread's command at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.utils import getaddresses
from typing import Any, TypeVar

from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessageFlags

from bot.settings import MailSettings
from core import mail
from core.ports import FileStore
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
BATCH = 50
T = TypeVar("T")
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
        command_seconds: float = 60.0,
    ) -> None:
        self.settings = settings
        self.uow_factory = uow_factory
        self.files = files
        self.domain = domain
        self.on_kept = on_kept
        self.idle_seconds = idle_seconds
        self.poll_seconds = poll_seconds
        # The longest a command may wait on the server (an IDLE sets its own wait meanwhile).
        self.command_seconds = command_seconds
        self.kept = 0
        self.idling = False
        # Held by the thread running a command on the connection.
        self._in_command = threading.Lock()

    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        def guarded() -> T:
            with self._in_command:
                return call(*args)

        return await asyncio.to_thread(guarded)

    def _close(self, box: MailBox) -> None:
        """Log out if the connection is idle; otherwise close its socket under the command."""
        if self._in_command.acquire(blocking=False):
            try:
                box.logout()
            finally:
                self._in_command.release()
        else:
            # Wakes the thread's read with an end of stream; closing the file under it
            # would wait for the read's own lock instead.
            with contextlib.suppress(OSError):
                box.client.sock.shutdown(socket.SHUT_RDWR)

    def _connect(self) -> MailBox:
        s = self.settings
        assert s.imap_host and s.imap_user and s.imap_password is not None
        box: MailBox = (
            MailBox(s.imap_host, s.imap_port, timeout=self.command_seconds)
            if s.imap_ssl
            else MailBoxUnencrypted(  # type: ignore[assignment]
                s.imap_host, s.imap_port, timeout=self.command_seconds
            )
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
        validity, found = await self._run(self._unseen, box)
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
            await self._run(box.flag, done, MailMessageFlags.SEEN, True)
        return len(done)

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            box = None
            try:
                box = await self._run(self._connect)
                idle = await self._run(self._offers_idle, box)
                self.idling = idle
                while not stop.is_set():
                    if await self.poll_once(box):
                        continue
                    if idle:
                        await self._run(box.idle.wait, self.idle_seconds)
                    else:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(self.poll_seconds):
                                await stop.wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("IMAP polling failed; connecting again shortly")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(5):
                        await stop.wait()
            finally:
                if box is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(self._close, box)
