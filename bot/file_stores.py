"""The file store the settings choose: a folder on disk or S3, and a fallback while moving."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import FilesSettings, Settings
from storage.files import DiskFileStore, FallbackFileStore, StoredFiles

if TYPE_CHECKING:
    from storage.object_store import S3FileStore


def s3_store(files: FilesSettings) -> S3FileStore:
    from storage.object_store import S3FileStore  # the S3 client: only when S3 is chosen

    if not files.s3_bucket:
        raise SystemExit("TAYUK_FILES_S3_BUCKET is not set: the S3 file store needs a bucket.")
    secret = files.s3_secret_access_key
    return S3FileStore(
        files.s3_bucket,
        prefix=files.s3_prefix,
        endpoint_url=files.s3_endpoint_url,
        region=files.s3_region,
        access_key_id=files.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        encryption=files.s3_encryption,
        kms_key_id=files.s3_kms_key_id,
    )


def store_of(kind: str, files: FilesSettings, files_dir: Path) -> StoredFiles:
    return s3_store(files) if kind == "s3" else DiskFileStore(files_dir)


def build_file_store(settings: Settings) -> StoredFiles:
    files = settings.files
    store = store_of(files.backend, files, settings.files_dir)
    if files.fallback not in ("none", files.backend):
        return FallbackFileStore(store, store_of(files.fallback, files, settings.files_dir))
    return store
