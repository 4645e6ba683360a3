#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks: system packages and the Python environment.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-heb tesseract-ocr-script-hebr
              tesseract-ocr-osd poppler-utils fonts-dejavu-core python3-venv
              libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
# scripts/test.sh adds what only the tests need (the browser tests' chromium).
read -r -a extra <<< "${TAYUK_EXTRA_APT_PACKAGES:-}"
APT_PACKAGES+=("${extra[@]}")
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  # Exactly what CI tested (requirements.lock, refreshed by scripts/lock.sh), hashes checked;
  # then the project itself, whose dependencies the lockfile already holds.
  .venv/bin/pip install -q --require-hashes -r requirements.lock
  .venv/bin/pip install -q --no-deps -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi
