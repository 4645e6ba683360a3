"""The IMAP path against a real IMAP server (pymap, pure Python, run by the test):
plus-addressing, kept before \\Seen, IDLE, and Authentication-Results from our server only."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from email.policy import SMTP
from pathlib import Path

from imap_tools import AND, MailBoxUnencrypted
from pydantic import SecretStr

from bot.mail.auth import AuthResultsAuthenticator
from bot.mail.imap import ImapPoller
from bot.settings import MailSettings
from core import mail
from tests import images
from tests.mail.world import CLIENT_DOMAIN, DOMAIN, MailWorld, free_port, message

DANA_MAIL = f"dana@{CLIENT_DOMAIN}"
PYMAP = Path(sys.executable).with_name("pymap")


@contextlib.contextmanager
def imap_server() -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(PYMAP),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-tls",
            "dict",
            "--demo-data",
            "--demo-user",
            "tayuk",
            "--demo-password",
            "secret",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None:
                raise AssertionError("pymap did not start")
            import time

            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def deliver(port: int, raw: bytes) -> None:
    """What the provider does when mail arrives: the message lands in the mailbox."""
    with MailBoxUnencrypted("127.0.0.1", port).login("tayuk", "secret", "INBOX") as box:
        box.client.append("INBOX", None, None, raw)


def mailbox_settings(port: int) -> MailSettings:
    """Tayuk's settings for the test server's mailbox."""
    return MailSettings(
        _env_file=None,  # type: ignore[call-arg]
        domain=DOMAIN,
        imap_host="127.0.0.1",
        imap_port=port,
        imap_ssl=False,
        imap_user="tayuk",
        imap_password=SecretStr("secret"),
    )


def unseen(port: int) -> list[str]:
    with MailBoxUnencrypted("127.0.0.1", port).login("tayuk", "secret", "INBOX") as box:
        return list(box.uids(AND(seen=False)))


async def test_a_hosted_mailbox_is_polled_over_imap(world: MailWorld) -> None:
    h = world.harness
    _, org_id = await h.office_and_org()
    async with h.app.uow_factory() as uow:
        organization = await uow.organizations.get(org_id)
        assert organization is not None
        organization.email = DANA_MAIL
        local = (await mail.address_for(uow, org_id)).local_part
        await uow.commit()
    # Behind a provider: its Authentication-Results, and only those of its own server.
    world.processor.intake.authenticate = AuthResultsAuthenticator("mx.cohen.test")
    plus = f"tayuk+{local}@{DOMAIN}"
    with imap_server() as port:
        demo = unseen(port)  # the server's demo messages: not for any organization
        verified = message(
            sender=DANA_MAIL,
            to=plus,
            subject="Invoice by IMAP",
            attachments=[("imap.pdf", images.pdf(label="imap"), "application/pdf")],
        ).as_bytes(policy=SMTP)
        deliver(
            port,
            b"Authentication-Results: mx.cohen.test; dkim=pass header.d=falafel.test\r\n"
            + verified,
        )
        settings = mailbox_settings(port)
        poller = ImapPoller(
            settings,
            h.app.uow_factory,
            h.app.files,
            DOMAIN,
            on_kept=world.processor.kick,
            idle_seconds=0.5,
            poll_seconds=0.2,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run_forever(stop))
        try:
            for _ in range(200):
                if poller.kept >= len(demo) + 1:
                    break
                await asyncio.sleep(0.05)
            await world.settle()
            # Kept first, then marked seen on the server.
            assert unseen(port) == []
            assert poller.idling  # pymap offers IDLE: the next mail is awaited, not polled
            forged = message(
                sender=DANA_MAIL,
                to=plus,
                subject="Forged",
                attachments=[("forged.pdf", images.pdf(label="forged"), "application/pdf")],
            ).as_bytes(policy=SMTP)
            deliver(
                port,
                b"Authentication-Results: evil.test; dkim=pass header.d=falafel.test\r\n" + forged,
            )
            for _ in range(200):
                if poller.kept >= len(demo) + 2:
                    break
                await asyncio.sleep(0.05)
            await world.settle()
        finally:
            stop.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 15)
    documents = await world.documents(org_id)
    assert [d.original_name for d in documents] == ["imap.pdf"]
    kept = await world.mails()
    by_subject = {m.subject: m for m in kept}
    assert by_subject["Invoice by IMAP"].state == "done"
    assert by_subject["Invoice by IMAP"].external_key.startswith("imap:INBOX:")
    assert by_subject["Forged"].state == "held" and by_subject["Forged"].auth == "none"
    # The demo messages were for no organization: kept and marked bounced, not dropped.
    assert sum(1 for m in kept if m.state == "bounced") == len(demo)
    assert len(kept) == len(demo) + 2


async def test_stopping_during_idle_ends_at_once(world: MailWorld) -> None:
    """Cancelled while its thread waits in IDLE, the poller closes the socket under the
    thread instead of logging out beside it, so neither waits on the other's answer."""
    h = world.harness
    with imap_server() as port:
        settings = mailbox_settings(port)
        poller = ImapPoller(
            settings, h.app.uow_factory, h.app.files, DOMAIN, idle_seconds=600, command_seconds=600
        )
        task = asyncio.create_task(poller.run_forever())
        for _ in range(400):
            if poller.idling and unseen(port) == []:
                break
            await asyncio.sleep(0.05)
        assert poller.idling
        await asyncio.sleep(0.5)  # in IDLE now, for up to ten minutes
        started = asyncio.get_running_loop().time()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        # The thread that was idling is gone too, or the loop's shutdown would wait for it.
        for _ in range(100):
            if not poller._in_command.locked():
                break
            await asyncio.sleep(0.05)
        assert not poller._in_command.locked()
        assert asyncio.get_running_loop().time() - started < 10
