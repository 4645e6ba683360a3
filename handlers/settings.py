"""The settings values handlers use, given to them by `bot/` as dispatcher data.

Handlers never read `bot.settings` (a test keeps them apart): the composition root copies
what they need into `HandlerSettings` at start-up, as the dispatcher's `handler_settings`.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.mail import DEFAULT_GRACE


@dataclass(frozen=True)
class HandlerSettings:
    invite_ttl_days: int = 14
    mail_domain: str | None = None  # None: documents by e-mail are off
    mail_grace_days: int = DEFAULT_GRACE.days
    movein_convention: str = "none"  # how a Movein export marks its rows


HANDLER_DEFAULTS = HandlerSettings()
