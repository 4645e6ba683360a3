"""Log set-up: plain text for a person at a terminal, or one JSON object a line (with the
request id of the update or HTTP request being handled) for a log collector.

Secrets are kept out by `bot.log_redaction`, installed on the same handlers.
"""

from __future__ import annotations

import logging
import secrets
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from bot.settings import Settings

# "u<update id>" while an update is handled, "h<random>" for an HTTP request.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id(prefix: str = "h") -> str:
    return f"{prefix}{secrets.token_hex(6)}"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class TayukJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        # The redaction filter leaves a cleaned traceback in exc_text; use that one rather
        # than formatting the exception again (with the secret in it).
        if record.exc_text and record.exc_info:
            saved = record.exc_info
            record.exc_info = None
            try:
                return super().format(record)
            finally:
                record.exc_info = saved
        return super().format(record)


def json_formatter() -> logging.Formatter:
    return TayukJsonFormatter(
        "%(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
    )


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the settings hold, for the redaction filter (and each URL's password)."""
    values: list[Any] = [
        settings.telegram.token,
        settings.telegram.webhook_secret,
        settings.smtp.password,
        settings.mail.imap_password,
        settings.files.s3_secret_access_key,
    ]
    found = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
    from sqlalchemy import make_url

    for url in (settings.database.url, _plain(settings.redis.url)):
        if url:
            try:
                password = make_url(url).password
            except Exception:
                password = None
            if password:
                found.append(str(password))
    return found


def _plain(secret: Any) -> str | None:
    return secret.get_secret_value() if secret is not None else None
