from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from PIL import Image

from local_api.client import LocalApiClient, TgUser
from local_api.testing import DEFAULT_TOKEN, aiogram_bot, local_api


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, LocalApiClient]]:
    async with local_api() as pair:
        yield pair


@pytest.fixture
def client(api: tuple[str, LocalApiClient]) -> LocalApiClient:
    return api[1]


@pytest.fixture
async def bot(api: tuple[str, LocalApiClient]) -> AsyncIterator[Bot]:
    async with aiogram_bot(api[0], DEFAULT_TOKEN) as tg_bot:
        yield tg_bot


@pytest.fixture
def dana() -> TgUser:
    return TgUser(id=7_000_000_001, first_name="דנה", username="dana_cpa", language_code="he")


def make_jpeg(width: int = 1000, height: int = 700, color: str = "orange") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def jpeg() -> bytes:
    return make_jpeg()
