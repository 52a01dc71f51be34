#!/usr/bin/env bash
# Start kb on the demo corpus: set up .venv, ingest corpus/ and build the index on the first run,
# then serve on http://127.0.0.1:8000 (staff search: /api/v1/search?q=..., API docs: /docs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kb serve --bootstrap corpus "$@"
