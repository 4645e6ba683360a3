#!/usr/bin/env bash
# Refreshes requirements.lock: exact versions with hashes of every dependency, the test
# extras included, for CPython 3.11 on Linux x86_64 (what CI and the server run).
# Run after changing the dependencies in pyproject.toml, then `bash scripts/setup.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install -q "uv==0.13.8"
.venv/bin/uv pip compile pyproject.toml --extra test --generate-hashes \
  --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  --custom-compile-command "bash scripts/lock.sh" --quiet -o requirements.lock "$@"
