"""Demo mode keeps away from real data and from the outside world."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.demo import runner
from bot.demo.web import SAMPLES, STATIC


def test_the_demo_ignores_the_settings_that_reach_real_data_or_the_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAYUK_DATABASE_URL", "postgresql+asyncpg://real@db.example/tayuk")
    monkeypatch.setenv("TAYUK_DATA_DIR", "/srv/tayuk")
    monkeypatch.setenv("TAYUK_TELEGRAM_TOKEN", "111:real-token")
    monkeypatch.setenv("TAYUK_TELEGRAM_API_URL", "https://api.telegram.org")
    monkeypatch.setenv("TAYUK_TELEGRAM_WEBHOOK_URL", "https://bot.example/telegram/webhook")
    monkeypatch.setenv("TAYUK_SMTP_HOST", "smtp.example")
    settings = runner.demo_settings(tmp_path / "demo", "http://127.0.0.1:9", "127.0.0.1", 8090)
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path / 'demo' / 'tayuk.db'}"
    assert settings.data_dir == tmp_path / "demo"
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == runner.DEMO_TOKEN
    assert settings.telegram.api_url == "http://127.0.0.1:9"
    assert settings.telegram.webhook_url is None
    assert settings.smtp.host is None
    assert settings.http.host == "127.0.0.1"


def test_only_a_folder_the_demo_made_is_wiped(tmp_path: Path) -> None:
    precious = tmp_path / "var"
    precious.mkdir()
    (precious / "tayuk.db").write_text("a real bot's data")
    with pytest.raises(SystemExit, match="not made by the demo"):
        runner.prepare_folder(precious)
    assert (precious / "tayuk.db").read_text() == "a real bot's data"

    demo = tmp_path / "demo"
    runner.prepare_folder(demo)
    (demo / "tayuk.db").write_text("yesterday's demo")
    runner.prepare_folder(demo)
    assert sorted(p.name for p in demo.iterdir()) == [runner.MARKER]


def test_the_page_loads_nothing_from_outside() -> None:
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", text), path.name
        assert "@import" not in text and "url(http" not in text, path.name
        assert not re.search(r"fetch\(\s*[\"'`]https?:", text), path.name


def test_page_texts_have_the_same_keys_in_hebrew_and_english() -> None:
    catalog = json.loads((STATIC / "texts.json").read_text(encoding="utf-8"))
    assert set(catalog["he"]) == set(catalog["en"])
    assert len(catalog["he"]["tour"]) == len(catalog["en"]["tour"])
    for name in (p.name for p in SAMPLES.iterdir() if p.suffix in (".jpg", ".pdf")):
        assert f"sample.{name}" in catalog["he"], name
