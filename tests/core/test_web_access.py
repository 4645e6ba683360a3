"""The web pages' sign-in rules: links, sessions, CSRF and the init data's age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import web_access
from core.errors import NotAllowed

KEY = b"k" * 32
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def refused(key: str, call: object, *args: object) -> None:
    with pytest.raises(NotAllowed) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.key == key


def test_a_link_is_for_one_person_and_a_short_while() -> None:
    token = web_access.sign_link(KEY, 7, "review", NOW)
    claim = web_access.read_link(KEY, token, NOW + timedelta(minutes=14))
    assert (claim.person_id, claim.purpose) == (7, "review")
    refused("web.link_expired", web_access.read_link, KEY, token, NOW + timedelta(minutes=16))
    refused("web.link_invalid", web_access.read_link, b"other" * 8, token, NOW)
    mac = token.rpartition(".")[2]
    other = web_access.sign_link(KEY, 8, "review", NOW).rpartition(".")[0]
    refused("web.link_invalid", web_access.read_link, KEY, f"{other}.{mac}", NOW)


def test_a_session_is_not_a_link_and_its_csrf_token_is_its_own() -> None:
    session_token = web_access.sign_session(KEY, 7, NOW)
    refused("web.link_invalid", web_access.read_link, KEY, session_token, NOW)
    link = web_access.sign_link(KEY, 7, "upload", NOW)
    refused("web.session_invalid", web_access.read_session, KEY, link, NOW)
    session = web_access.read_session(KEY, session_token, NOW)
    another = web_access.read_session(KEY, web_access.sign_session(KEY, 7, NOW), NOW)
    web_access.check_csrf(KEY, session, web_access.csrf_token(KEY, session))
    refused("web.csrf", web_access.check_csrf, KEY, session, web_access.csrf_token(KEY, another))
    refused("web.csrf", web_access.check_csrf, KEY, session, None)
    refused(
        "web.session_expired", web_access.read_session, KEY, session_token, NOW + timedelta(days=1)
    )


def test_init_data_older_than_an_hour_or_from_the_future_is_refused() -> None:
    web_access.init_data_fresh(NOW - timedelta(minutes=59), NOW)
    refused("web.init_data_expired", web_access.init_data_fresh, NOW - timedelta(hours=2), NOW)
    refused("web.init_data_expired", web_access.init_data_fresh, NOW + timedelta(hours=1), NOW)
