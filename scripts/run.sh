#!/usr/bin/env bash
# Installs what is missing, then runs the bot (SQLite in ./var by default; settings in .env).
# With no TAYUK_TELEGRAM_TOKEN (environment or .env) it runs the demo in the browser instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! .venv/bin/python -c "import sys; from bot.settings import TelegramSettings as T; \
t = T().token; sys.exit(0 if t and t.get_secret_value().strip() else 1)"; then
  echo "No TAYUK_TELEGRAM_TOKEN: starting the demo (no Telegram account needed)."
  exec .venv/bin/tayuk demo "$@"
fi
exec .venv/bin/tayuk run "$@"
