"""Who is at the web pages: the bot's signed links, session tokens, and their rules.

A link the bot gives opens the upload page or the review screen in an ordinary browser. It
is signed (HMAC), short-lived, for one person and one use (the used ones are in the
database: `storage.used_links`); it is exchanged for a session
token kept in a cookie. Telegram's Mini App init data is checked in `bot.webapp.auth`
(it needs aiogram); its freshness rule is here.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import NotAllowed

PURPOSES = ("upload", "review")
LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)
INIT_DATA_MAX_AGE = timedelta(hours=1)
# Telegram's clock and ours differ a little; init data "from the future" beyond this is forged.
CLOCK_SKEW = timedelta(minutes=5)


@functools.lru_cache(maxsize=16)  # every request checks its session (and its CSRF token)
def derive_secret(master: bytes, purpose: str) -> bytes:
    """One key per use, so a session token can never pass for a link or the other way."""
    return hmac.new(master, b"tayuk-web:" + purpose.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def _verified(key: bytes, token: str, error: str) -> list[str]:
    body, dot, mac = token.rpartition(".")
    if not dot or len(token) > 400 or not hmac.compare_digest(_sign(key, body), mac):
        raise NotAllowed(error)
    try:
        return _unb64(body).decode().split(":")
    except (ValueError, UnicodeDecodeError):
        raise NotAllowed(error) from None


@dataclass(frozen=True)
class LinkClaim:
    person_id: int
    purpose: str
    expires: int  # seconds since the epoch
    nonce: str


def sign_link(
    master: bytes, person_id: int, purpose: str, now: datetime, ttl: timedelta = LINK_TTL
) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    expires = int((now + ttl).timestamp())
    body = _b64(f"{person_id}:{purpose}:{expires}:{secrets.token_hex(8)}".encode())
    return f"{body}.{_sign(derive_secret(master, 'link'), body)}"


def read_link(master: bytes, token: str, now: datetime) -> LinkClaim:
    parts = _verified(derive_secret(master, "link"), token, "web.link_invalid")
    try:
        person, purpose, expires, nonce = parts
        claim = LinkClaim(int(person), purpose, int(expires), nonce)
    except ValueError:
        raise NotAllowed("web.link_invalid") from None
    if claim.purpose not in PURPOSES:
        raise NotAllowed("web.link_invalid")
    if now.timestamp() > claim.expires:
        raise NotAllowed("web.link_expired")
    return claim


@dataclass(frozen=True)
class Session:
    person_id: int
    expires: int
    sid: str


def sign_session(
    master: bytes, person_id: int, now: datetime, ttl: timedelta = SESSION_TTL
) -> str:
    expires = int((now + ttl).timestamp())
    body = _b64(f"{person_id}:{expires}:{secrets.token_hex(16)}".encode())
    return f"{body}.{_sign(derive_secret(master, 'session'), body)}"


def read_session(master: bytes, token: str, now: datetime) -> Session:
    parts = _verified(derive_secret(master, "session"), token, "web.session_invalid")
    try:
        person, expires, sid = parts
        session = Session(int(person), int(expires), sid)
    except ValueError:
        raise NotAllowed("web.session_invalid") from None
    if now.timestamp() > session.expires:
        raise NotAllowed("web.session_expired")
    return session


def csrf_token(master: bytes, session: Session) -> str:
    """Tied to the session: a page of another site cannot read it, so cannot send it."""
    return _sign(derive_secret(master, "csrf"), session.sid)


def check_csrf(master: bytes, session: Session, given: str | None) -> None:
    if not given or not hmac.compare_digest(csrf_token(master, session), given):
        raise NotAllowed("web.csrf")


def init_data_fresh(
    auth_date: datetime, now: datetime, max_age: timedelta = INIT_DATA_MAX_AGE
) -> None:
    """Telegram signs init data once, when the Mini App opens; replayed later it is stale."""
    if auth_date > now + CLOCK_SKEW or now - auth_date > max_age:
        raise NotAllowed("web.init_data_expired")


@dataclass(frozen=True)
class WebLinks:
    """What the bot needs to offer the pages: the public address and the signing key."""

    base_url: str
    master: bytes
    link_ttl: timedelta = LINK_TTL

    @property
    def mini_app(self) -> bool:
        # Telegram opens a Mini App only from an https address.
        return self.base_url.startswith("https://")

    def page(self, purpose: str) -> str:
        return f"{self.base_url.rstrip('/')}/app/{purpose}"

    def signed(self, person_id: int, purpose: str, now: datetime) -> str:
        token = sign_link(self.master, person_id, purpose, now, self.link_ttl)
        return f"{self.base_url.rstrip('/')}/app/login?t={token}"
