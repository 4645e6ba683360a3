"""Settings from the environment (prefix TAYUK_), built once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _section(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")


class TelegramSettings(BaseSettings):
    model_config = _section("TAYUK_TELEGRAM_")

    token: SecretStr | None = None
    # A Bot API server other than Telegram's, e.g. the local one: http://127.0.0.1:8081
    api_url: str | None = None
    bot_username: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None


class DatabaseSettings(BaseSettings):
    model_config = _section("TAYUK_DATABASE_")

    url: str = "sqlite+aiosqlite:///var/tayuk.db"
    echo: bool = False


class SmtpSettings(BaseSettings):
    model_config = _section("TAYUK_SMTP_")

    host: str | None = None
    port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    sender: str | None = None
    starttls: bool = True


class HttpSettings(BaseSettings):
    model_config = _section("TAYUK_HTTP_")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8080


class WorkerSettings(BaseSettings):
    model_config = _section("TAYUK_WORKER_")

    enabled: bool = True  # read documents inside the bot process
    processes: int = 0  # 0: one per core
    lease_seconds: int = 300
    max_attempts: int = 5


class InboxSettings(BaseSettings):
    model_config = _section("TAYUK_INBOX_")

    # On a stop (SIGTERM), how long the updates already taken may take to finish; what is
    # left then runs at the next start.
    drain_seconds: float = 20.0
    # An update whose handling never finished (it took the process down) is tried again
    # this many times at the following starts, then given up.
    max_attempts: int = 3
    # Finished updates are kept this long (Telegram redelivers for at most a day).
    keep_days: int = 7
    polling_timeout: int = 10


class OcrSettings(BaseSettings):
    model_config = _section("TAYUK_OCR_")

    # Pages that are not Hebrew print: RapidOCR reads their digits and dates better than
    # Tesseract (falls back to Tesseract, with a warning, when it is not installed).
    latin_engine: Literal["rapidocr", "tesseract"] = "rapidocr"


class Settings(BaseSettings):
    model_config = _section("TAYUK_")

    data_dir: Path = Path("var")
    default_language: str = "he"
    invite_ttl_days: int = 14
    log_level: str = "INFO"

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"


def webhook_secret(telegram: TelegramSettings) -> SecretStr | None:
    """The secret the webhook needs, or None in polling mode; stops a webhook without one.

    Without a secret anyone who finds the URL could post updates "from" any user.
    """
    if not telegram.webhook_url:
        return None
    secret = telegram.webhook_secret
    if secret is None or not secret.get_secret_value():
        raise SystemExit(
            "TAYUK_TELEGRAM_WEBHOOK_URL is set but TAYUK_TELEGRAM_WEBHOOK_SECRET is not: "
            "a webhook without a secret accepts forged updates. Set a long random secret "
            "(1-256 characters: A-Z a-z 0-9 _ -), or unset the URL to use long polling."
        )
    return secret
