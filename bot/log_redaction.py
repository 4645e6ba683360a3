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
