"""The web pages' keys and addresses, from the settings."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from bot.settings import Settings
from core.web_access import WebLinks


def master_key(settings: Settings) -> bytes:
    if settings.web.secret is not None and settings.web.secret.get_secret_value():
        return settings.web.secret.get_secret_value().encode()
    token = settings.telegram.token.get_secret_value() if settings.telegram.token else ""
    if not token:
        raise SystemExit("TAYUK_WEB_SECRET or TAYUK_TELEGRAM_TOKEN must be set for web pages")
    return hmac.new(token.encode(), b"tayuk-web-master", hashlib.sha256).digest()


def web_links(settings: Settings) -> WebLinks | None:
    """None when no public address is set: the bot then offers no page."""
    if not settings.web.base_url:
        return None
    return WebLinks(
        settings.web.base_url,
        master_key(settings),
        timedelta(minutes=settings.web.link_minutes),
    )
