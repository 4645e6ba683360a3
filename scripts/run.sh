#!/usr/bin/env bash
# Installs what is missing, then runs the bot (SQLite in ./var by default; settings in .env).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/tayuk run "$@"
