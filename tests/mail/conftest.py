from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.mail.world import MailWorld, mail_world


@pytest.fixture
async def world(tmp_path: Path, database_url: str) -> AsyncIterator[MailWorld]:
    async with mail_world(tmp_path, database_url) as running:
        yield running
