#!/usr/bin/env bash
# Installs what is missing, then runs the linter, the formatter's check, the type checker
# and the whole test suite.
# PostgreSQL tests run when TAYUK_TEST_DATABASE_URL is set, or when a server answers on
# 127.0.0.1:5432 (database "test").
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser tests (tests/browser) drive Debian's headless chromium (emoji font for screenshots).
# The replica tests (tests/scale) use a real Redis.
TAYUK_EXTRA_APT_PACKAGES="chromium chromium-driver fonts-noto-color-emoji redis-server" \
  bash scripts/setup.sh
if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes
fi
if [ -z "${TAYUK_TEST_DATABASE_URL:-}" ] && command -v pg_isready >/dev/null \
   && pg_isready -q -h 127.0.0.1 -p 5432; then
  export TAYUK_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Types: strict for core/ and storage/, lighter for handlers/, bot/ and local_api/ ([tool.mypy]).
.venv/bin/mypy
# Two test processes (pytest-xdist): much of the suite waits on servers and subprocesses, so two
# keep both cores busy; each has its own scratch PostgreSQL and Redis database.
# TAYUK_TEST_PROCESSES=0 runs everything in this one process.
exec .venv/bin/pytest -q -n "${TAYUK_TEST_PROCESSES:-2}" --dist worksteal "$@"
