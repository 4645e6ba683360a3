"""Domain errors. Each carries a locale key so the messaging layer can explain it."""

from __future__ import annotations

from typing import Any


class TayukError(Exception):
    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)


class InviteError(TayukError):
    key = "invite.unknown"


class FileRejected(TayukError):
    key = "file.unsupported"


class NotAllowed(TayukError):
    key = "error.not_allowed"


class NotFound(TayukError):
    key = "error.not_found"


class Conflict(TayukError):
    """The same thing was written twice at once, e.g. one message delivered twice."""

    key = "error.stale"


class MailNotConfigured(TayukError):
    key = "mail.not_configured"


class MailFailed(TayukError):
    key = "mail.failed"
