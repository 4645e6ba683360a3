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
    # PostgreSQL connections each process keeps, and how many more it may open at a peak
    # (SQLite always uses one). Keep processes x (pool_size + max_overflow) under the
    # server's max_connections (100 by default): a bot, a worker and the mail receiver on
    # a 2-core machine take 60. deploy/compose.yaml runs more processes with 5 + 5 each.
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)


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


class IntakeSettings(BaseSettings):
    model_config = _section("TAYUK_INTAKE_")

    # Files downloaded, checked and written at the same moment (each up to 20 MB in memory).
    downloads: int = 4
    # A client's files go in at once up to `burst`, then at `per_minute`; faster ones wait
    # their turn (none is refused).
    burst: int = 60
    per_minute: float = 30.0


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
    # Updates handled at the same moment (chats beyond wait their turn in memory). Keep it
    # under the PostgreSQL pool (10 + 10 overflow): each handler holds a connection at times.
    concurrency: int = Field(default=16, ge=1)


class OcrSettings(BaseSettings):
    model_config = _section("TAYUK_OCR_")

    # Pages that are not Hebrew print: RapidOCR reads their digits and dates better than
    # Tesseract (falls back to Tesseract, with a warning, when it is not installed).
    latin_engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    # Bounds on one reading process (issue 10: a 529-byte PDF took one to 2.1 GB). A normal
    # read peaks at about 840 MB of address space with RapidOCR loaded, 350 MB resident.
    memory_mb: int = 1536  # RLIMIT_AS of each reading process and its Tesseract; 0: none
    # Reading processes (and their Tesseract) run this much nicer than the bot: on a shared
    # machine the bot's answers come first and reading takes the CPU left (issue 16: with
    # two readers at the bot's priority, 1,000 clients waited 29 s for an answer).
    nice: int = Field(default=10, ge=0, le=19)
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


class ExportSettings(BaseSettings):
    model_config = _section("TAYUK_EXPORT_")

    # Hashavshevet MOVEIN.DAT: published descriptions disagree on its first and last records
    # ("none", "count" or "zero_nines"); the office checks a golden file and picks one.
    movein_convention: Literal["none", "count", "zero_nines"] = "none"


class MailSettings(BaseSettings):
    """Documents by e-mail (issue 14): the forwarding domain and how mail reaches Tayuk."""

    model_config = _section("TAYUK_MAIL_")

    # The office's mail domain: every organization gets <name>-<random>@<domain>.
    domain: str | None = None
    # Tayuk's own SMTP receiver (`tayuk mail`), behind the office's MX or a relay.
    smtp_enabled: bool = True
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    max_message_mb: int = 30
    # How the sender is proven: dkim (own receiver), authres (a provider's
    # Authentication-Results from `authserv_id` only), or none (a trusted relay checks).
    auth: Literal["dkim", "authres", "none"] = "dkim"
    authserv_id: str | None = None
    # With `dkim`: forwarders whose ARC seal is trusted (comma-separated sealing domains,
    # e.g. "google.com"): a message they changed on the way still proves its sender by
    # what they recorded when it reached them.
    arc_forwarders: str = ""
    # Days a rotated address still answers with a polite bounce.
    grace_days: int = 30
    # Seconds a receiver holds a mail's job; a killed one's mails are taken over after this.
    lease_seconds: int = 120
    # Mails filed at once: each loop claims its own job; while one waits on the disk, the
    # database or a parse in a thread, the others go on.
    processors: int = Field(default=4, ge=1, le=32)
    # A hosted mailbox polled over IMAP instead of (or besides) the SMTP receiver.
    imap_host: str | None = None
    imap_port: int = 993
    imap_ssl: bool = True
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"


class RedisSettings(BaseSettings):
    """Shared short-lived state for several bot replicas (issue 16); unset: in memory."""

    model_config = _section("TAYUK_REDIS_")

    # redis://host:6379/0: conversation state, album parts, per-chat and scheduler locks.
    url: SecretStr | None = None  # may carry a password
    # A replica holds a chat for this long unless it renews; a killed one's chats are taken
    # over by another replica after this.
    chat_lease_seconds: float = Field(default=30.0, gt=0)
    # Connections to Redis per process. A call waits up to `pool_timeout` seconds for a free
    # one (1,000 chats at once each ask for their lease), rather than fail at once.
    max_connections: int = Field(default=50, ge=1)
    pool_timeout: float = Field(default=20.0, gt=0)


class FilesSettings(BaseSettings):
    """Where documents' files live: a folder on disk, or S3-compatible object storage."""

    model_config = _section("TAYUK_FILES_")

    backend: Literal["disk", "s3"] = "disk"
    # While `tayuk files migrate` copies, reads that miss fall back to the other store.
    fallback: Literal["none", "disk", "s3"] = "none"
    s3_bucket: str | None = None
    s3_prefix: str = "files/"
    s3_endpoint_url: str | None = None  # MinIO or another S3-compatible server; None: AWS
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    # Server-side encryption asked of the store ("none" where it offers none, e.g. MinIO
    # without a KMS).
    s3_encryption: Literal["AES256", "aws:kms", "none"] = "AES256"
    s3_kms_key_id: str | None = None


class WebSettings(BaseSettings):
    """The upload page and the review screen (issue 15), served by the HTTP app."""

    model_config = _section("TAYUK_WEB_")

    # The address people reach the HTTP app at; unset: the bot offers no page. With https
    # the bot opens it as a Telegram Mini App, else it gives a signed browser link.
    base_url: str | None = None
    # Signs links and sessions; unset: derived from the bot token (rotating it logs all out).
    secret: SecretStr | None = None
    link_minutes: int = 15
    session_hours: int = 12
    init_data_max_age_minutes: int = 60
    # Session cookies are `Secure`; only for tests on 127.0.0.1 over plain http may they not be.
    allow_http_loopback: bool = False


class Settings(BaseSettings):
    model_config = _section("TAYUK_")

    data_dir: Path = Path("var")
    default_language: str = "he"
    invite_ttl_days: int = 14
    log_level: str = "INFO"
    # "json": one JSON object a line with a request id (for a log collector); "text": plain.
    log_format: Literal["text", "json"] = "text"
    # A stretch of work that holds the event loop (and so every chat) longer than this is
    # logged with the code that held it; 0: the loop is not watched (bot/loop_watch.py).
    loop_held_warn_ms: int = Field(default=250, ge=0)

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    files: FilesSettings = Field(default_factory=FilesSettings)
    web: WebSettings = Field(default_factory=WebSettings)

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
