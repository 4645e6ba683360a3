"""The settings values handlers use, given to them by `bot/` as dispatcher data.

Handlers never read `bot.settings` (a test keeps them apart): the composition root hands
them a `HandlerSettings`, the dispatcher's `handler_settings`, that reads the values from
the bot's settings when asked (so settings changed after start-up, as tests do, count).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.mail import DEFAULT_GRACE


class HandlerSettings(Protocol):
    @property
    def invite_ttl_days(self) -> int: ...

    @property
    def mail_domain(self) -> str | None:
        """None: documents by e-mail are off."""
        ...

    @property
    def mail_grace_days(self) -> int: ...

    @property
    def movein_convention(self) -> str:
        """How a Movein export marks its rows."""
        ...


@dataclass(frozen=True)
class FixedSettings:
    """Settings that do not come from the bot's: the defaults, or a test's own."""

    invite_ttl_days: int = 14
    mail_domain: str | None = None
    mail_grace_days: int = DEFAULT_GRACE.days
    movein_convention: str = "none"


HANDLER_DEFAULTS: HandlerSettings = FixedSettings()
