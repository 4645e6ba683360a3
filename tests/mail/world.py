"""A mail world for the tests: the real bot on the local Bot API server, Tayuk's SMTP
receiver on a free loopback port, the processing loop, and a real SMTP sink for replies."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import socket
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.message import Message as AnyMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import dkim
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from bot.mail.auth import DkimAuthenticator
from bot.mail.notices import ChatOrMailNotices
from bot.mail.render import render_html
from bot.mail.service import MailProcessor
from bot.mail.smtp import IntakeHandler, serve_smtp
from bot.mailer import SmtpMailer
from bot.settings import MailSettings, SmtpSettings
from core import mail
from core.mail_parts import parse_mail
from storage import tables
from tests.e2e.harness import Harness, running_bot

DOMAIN = "docs.cohen.test"
CLIENT_DOMAIN = "falafel.test"
HERE = Path(__file__).parent
KEY = (HERE / "dkim_test_key.pem").read_bytes()
PUBLIC = (HERE / "dkim_test_key.pub.b64").read_bytes().strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dns(name: bytes, timeout: int = 5) -> bytes | None:
    """The DNS answers the tests inject: one DKIM key for the client's domain."""
    if name == f"sel._domainkey.{CLIENT_DOMAIN}.".encode():
        return b"v=DKIM1; k=rsa; p=" + PUBLIC
    return None


def signed(message: EmailMessage, domain: str = CLIENT_DOMAIN) -> bytes:
    raw = message.as_bytes(policy=policy.SMTP)
    signature = dkim.sign(
        raw, b"sel", domain.encode(), KEY, include_headers=[b"from", b"to", b"subject"]
    )
    return signature + raw


def message(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str = "Attached.",
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    html: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash((subject, sender)))}@{CLIENT_DOMAIN}>"
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class ReplySink:
    """A real SMTP server that keeps what Tayuk mails back to senders."""

    def __init__(self) -> None:
        self.messages: list[AnyMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return "250 OK"


@dataclass
class MailWorld:
    harness: Harness
    port: int
    processor: MailProcessor
    handler: IntakeHandler
    notices: ChatOrMailNotices
    replies: ReplySink

    @property
    def uow_factory(self) -> Any:
        return self.harness.app.uow_factory

    async def address(self, org_id: int) -> str:
        async with self.uow_factory() as uow:
            found = await mail.address_for(uow, org_id)
            await uow.commit()
        return mail.full_address(found.local_part, DOMAIN)

    async def allow(self, org_id: int, address: str, person_id: int | None = None) -> None:
        async with self.uow_factory() as uow:
            await uow.mail.add_sender(mail.MailSender(org_id, address.lower(), person_id))
            await uow.commit()

    def send_now(self, raw: bytes, sender: str, to: list[str]) -> dict[str, Any]:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            return smtp.sendmail(sender, to, raw)

    async def send(self, raw: bytes | EmailMessage, sender: str, to: str) -> None:
        data = raw.as_bytes(policy=policy.SMTP) if isinstance(raw, EmailMessage) else raw
        await asyncio.to_thread(self.send_now, data, sender, [to])

    async def settle(self, seconds: float = 20.0) -> None:
        """Waits until every queued mail job ran."""
        for _ in range(int(seconds / 0.05)):
            async with self.uow_factory() as uow:
                left = await uow.session.scalar(
                    select(func.count())
                    .select_from(tables.jobs)
                    .where(
                        tables.jobs.c.kind == mail.MAIL_JOB,
                        tables.jobs.c.state.in_(["queued", "running"]),
                    )
                )
            if not left:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("mail jobs did not finish")

    async def mails(self) -> list[mail.InboundMail]:
        async with self.uow_factory() as uow:
            result = await uow.session.scalars(
                select(mail.InboundMail).order_by(tables.inbound_mails.c.id)
            )
            return list(result)

    async def documents(self, org_id: int) -> list[Any]:
        async with self.uow_factory() as uow:
            rows = await uow.session.execute(
                select(
                    tables.documents,
                    tables.stored_files.c.original_name,
                    tables.stored_files.c.mime_type,
                )
                .join(
                    tables.stored_files, tables.stored_files.c.document_id == tables.documents.c.id
                )
                .where(tables.documents.c.organization_id == org_id)
                .order_by(tables.documents.c.id)
            )
            return list(rows)


@contextlib.asynccontextmanager
async def mail_world(tmp_path: Path, database_url: str) -> AsyncIterator[MailWorld]:
    sink = ReplySink()
    sink_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
    controller.start()
    try:
        async with running_bot(tmp_path, database_url) as harness:
            app = harness.app
            app.settings.mail = MailSettings(_env_file=None, domain=DOMAIN)  # type: ignore[call-arg]
            mailer = SmtpMailer(
                SmtpSettings(
                    _env_file=None,
                    host="127.0.0.1",
                    port=sink_port,  # type: ignore[call-arg]
                    starttls=False,
                    sender=f"tayuk@{DOMAIN}",
                )
            )
            notices = ChatOrMailNotices(app.bot, app.uow_factory, mailer)
            intake = mail.MailIntake(
                files=app.files,
                parse=lambda raw: parse_mail(raw, render=render_html),
                authenticate=DkimAuthenticator(dnsfunc=dns),
                domain=DOMAIN,
                notices=notices,
            )
            processor = MailProcessor(app.uow_factory, intake, app.clock, idle_sleep=0.2)
            handler = IntakeHandler(
                app.uow_factory,
                app.files,
                app.clock,
                domain=DOMAIN,
                on_kept=processor.kick,
            )
            port = free_port()
            server = await serve_smtp(handler, "127.0.0.1", port, max_bytes=5 * 1024 * 1024)
            task = asyncio.create_task(processor.run_forever())
            try:
                yield MailWorld(harness, port, processor, handler, notices, sink)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                server.close()
                await server.wait_closed()
    finally:
        controller.stop()
