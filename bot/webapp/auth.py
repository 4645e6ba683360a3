"""Every web request says who it is: Telegram's init data, or the session cookie."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiogram.utils.web_app import safe_parse_webapp_init_data
from fastapi import Request

from core import web_access
from core.domain import Person
from core.errors import NotAllowed
from core.ports import UnitOfWork

COOKIE = "tayuk_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Unauthenticated(NotAllowed):
    """Nobody known: the page says to open it from the bot again (HTTP 401)."""


@dataclass(frozen=True)
class Caller:
    person: Person
    session: web_access.Session | None  # None inside Telegram (init data on every call)


@dataclass
class WebAuth:
    bot_token: str
    master: bytes
    init_data_max_age: timedelta = web_access.INIT_DATA_MAX_AGE
    session_ttl: timedelta = web_access.SESSION_TTL
    allow_http_loopback: bool = False

    def telegram_user(self, init_data: str, now: datetime) -> int:
        """The Telegram user id the init data proves; checked with the bot token and its age
        (aiogram's check does not look at the age)."""
        try:
            parsed = safe_parse_webapp_init_data(self.bot_token, init_data)
        except ValueError:
            raise Unauthenticated("web.init_data_invalid") from None
        auth_date = parsed.auth_date
        if auth_date.tzinfo is None:
            auth_date = auth_date.replace(tzinfo=UTC)
        try:
            web_access.init_data_fresh(auth_date, now, self.init_data_max_age)
        except NotAllowed as error:
            raise Unauthenticated(error.key) from None
        if parsed.user is None:
            raise Unauthenticated("web.init_data_invalid")
        return parsed.user.id

    async def caller(self, request: Request, uow: UnitOfWork, now: datetime) -> Caller:
        header = request.headers.get("Authorization", "")
        session: web_access.Session | None = None
        if header.startswith("tma "):
            user_id = self.telegram_user(header[4:], now)
            found = await uow.people.by_identity("telegram", user_id)
            if found is None:
                raise Unauthenticated("web.unknown_person")
            return Caller(found[0], None)
        token = request.cookies.get(COOKIE)
        if not token:
            raise Unauthenticated("web.open_from_bot")
        try:
            session = web_access.read_session(self.master, token, now)
        except NotAllowed as error:
            raise Unauthenticated(error.key) from None
        if request.method not in SAFE_METHODS:
            # The cookie goes with any request the browser makes; the token only with ours.
            web_access.check_csrf(self.master, session, request.headers.get(CSRF_HEADER))
        person = await uow.people.get(session.person_id)
        if person is None:
            raise Unauthenticated("web.unknown_person")
        return Caller(person, session)

    def secure_cookie(self, request: Request) -> bool:
        """Always Secure, except on plain http to 127.0.0.1 when the settings allow it."""
        if not self.allow_http_loopback or request.url.scheme == "https":
            return True
        host = request.url.hostname or ""
        try:
            return not (host == "localhost" or ipaddress.ip_address(host).is_loopback)
        except ValueError:
            return True
