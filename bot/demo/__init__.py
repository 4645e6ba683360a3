"""Demo mode: the real bot and the local Bot API server, with a web page that plays both
Telegram users (a client and an accountant). `tayuk demo`; `scripts/run.sh` with no token."""

from __future__ import annotations

import argparse
from pathlib import Path

LANGUAGES = ("he", "en")
BOT_USERNAME = "tayuk_demo_bot"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`tayuk demo`'s options (kept here: building the CLI parser must stay light)."""
    parser.add_argument("--host", default="127.0.0.1", help="listen address (loopback)")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--data-dir", type=Path, default=Path("var/demo"))
    parser.add_argument("--language", choices=LANGUAGES, default="he")
