"""Settings from the environment (prefix TAYUK_), built once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from core.reading.pipeline import ReadLimits


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


class OcrSettings(BaseSettings):
    model_config = _section("TAYUK_OCR_")

    # Pages that are not Hebrew print: RapidOCR reads their digits and dates better than
    # Tesseract (falls back to Tesseract, with a warning, when it is not installed).
    latin_engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    # Bounds on one reading process (issue 10: a 529-byte PDF took one to 2.1 GB). A normal
    # read peaks at about 840 MB of address space with RapidOCR loaded, 350 MB resident.
    memory_mb: int = 1536  # RLIMIT_AS of each reading process and its Tesseract; 0: none
    job_seconds: int = 180  # a read still running after this is killed (keep under the lease)
    max_pages: int = 10  # pages read of one PDF or TIFF; the rest is reported as not read
    max_page_pixels: int = 12_000_000  # a PDF page is rendered at most this large
    max_image_pixels: int = 40_000_000  # a picture larger than this is refused, not decoded

    def read_limits(self) -> ReadLimits:
        from core.reading.pipeline import ReadLimits

        return ReadLimits(
            max_pages=self.max_pages,
            max_page_pixels=self.max_page_pixels,
            max_image_pixels=self.max_image_pixels,
        )


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

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"
