"""Keeps the bot token out of every log line (file URLs carry it)."""

from __future__ import annotations

import logging
import re


class RedactSecrets(logging.Filter):
    def __init__(self, *secrets: str) -> None:
        super().__init__()
        words = [re.escape(s) for s in secrets if s]
        self.pattern = re.compile("|".join(words)) if words else None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.pattern is None:
            return True
        message = record.getMessage()
        if self.pattern.search(message):
            record.msg = self.pattern.sub("<redacted>", message)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if self.pattern.search(text):
                record.exc_text = self.pattern.sub("<redacted>", text)
        return True


def install(*secrets: str) -> None:
    redactor = RedactSecrets(*secrets)
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(redactor)


class RedactLinkTokens(logging.Filter):
    """The web pages' sign-in links carry their token in the query (`/app/login?t=...`):
    a server's access log would otherwise keep a link anyone reading it could still open.
    Redacts inside the record's arguments, whose shape uvicorn's access formatter needs."""

    pattern = re.compile(r"([?&]t=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub(r"\1<redacted>", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = self.pattern.sub(r"\1<redacted>", record.msg)
        return True


def redact_access_log(logger: str = "uvicorn.access") -> None:
    """On the logger itself, so it holds whichever handlers uvicorn's config sets up."""
    access = logging.getLogger(logger)
    if not any(isinstance(f, RedactLinkTokens) for f in access.filters):
        access.addFilter(RedactLinkTokens())
