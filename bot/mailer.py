"""E-mail over SMTP (stdlib smtplib, in a thread so the event loop never waits on it)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage

from bot.settings import SmtpSettings
from core.errors import MailFailed, MailNotConfigured

log = logging.getLogger(__name__)


class SmtpMailer:
    def __init__(self, settings: SmtpSettings, timeout: float = 20.0) -> None:
        self.settings = settings
        self.timeout = timeout

    async def send(
        self,
        to: str,
        subject: str,
        body: str,
        *,
        headers: Mapping[str, str] | None = None,
        attachments: Sequence[tuple[str, str, bytes]] = (),
    ) -> None:
        if not self.settings.host:
            raise MailNotConfigured()
        message = EmailMessage()
        message["From"] = self.settings.sender or self.settings.username or "tayuk@localhost"
        message["To"] = to
        message["Subject"] = subject
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        for filename, mime, data in attachments:
            maintype, _, subtype = mime.partition("/")
            message.add_attachment(
                data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
            )
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as error:
            # The body holds an invite link: log the failure, never the message.
            log.warning("mail to %s failed: %s", to, type(error).__name__)
            raise MailFailed() from error

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        assert s.host is not None
        with smtplib.SMTP(s.host, s.port, timeout=self.timeout) as smtp:
            if s.starttls:
                smtp.starttls()
            if s.username and s.password is not None:
                smtp.login(s.username, s.password.get_secret_value())
            smtp.send_message(message)
