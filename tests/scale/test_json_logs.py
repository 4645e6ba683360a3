"""JSON log lines carry the request id and never a secret from the settings."""

from __future__ import annotations

import io
import json
import logging

from pydantic import SecretStr

from bot import log_redaction
from bot.logs import REQUEST_ID, RequestIdFilter, json_formatter, secrets_of
from bot.settings import FilesSettings, RedisSettings, Settings, TelegramSettings

TOKEN = "123456:AAE-the-bots-token"


def test_a_json_log_line_has_the_request_id_and_no_secret() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram=TelegramSettings(_env_file=None, token=SecretStr(TOKEN)),  # type: ignore[call-arg]
        redis=RedisSettings(_env_file=None, url=SecretStr("redis://:redis-pass@cache:6379/0")),  # type: ignore[call-arg]
        files=FilesSettings(_env_file=None, s3_secret_access_key=SecretStr("s3-secret")),  # type: ignore[call-arg]
    )
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.json_logs")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)  # where install() puts the redaction filter
    try:
        log_redaction.install(*secrets_of(settings))
        token = REQUEST_ID.set("u4242")
        try:
            logger.warning("fetching https://api/file/bot%s/photo.jpg", TOKEN)
            try:
                raise RuntimeError("redis://:redis-pass@cache:6379/0 refused, key s3-secret")
            except RuntimeError:
                logger.exception("could not connect")
        finally:
            REQUEST_ID.reset(token)
        logger.info("outside any update")
    finally:
        root.removeHandler(handler)
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["level"], r["logger"], r["request_id"]) for r in lines] == [
        ("WARNING", "tests.json_logs", "u4242"),
        ("ERROR", "tests.json_logs", "u4242"),
        ("INFO", "tests.json_logs", None),
    ]
    assert "<redacted>" in lines[0]["message"] and "timestamp" in lines[0]
    assert "RuntimeError" in lines[1]["exc_info"]
    text = out.getvalue()
    for secret in (TOKEN, "redis-pass", "s3-secret"):
        assert secret not in text
