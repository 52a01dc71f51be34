#!/usr/bin/env bash
# Start kb on the demo corpus: set up .venv, ingest corpus/ and build the index on the first run,
# then serve on http://127.0.0.1:8000 (staff console: /staff, with the key printed on the first
# start; API docs: /docs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Secure by default: the console and /api/v1 need a key. On the very first start only, create
# one staff key for the demo and print it once (kb keys list / kb keys revoke demo-staff).
.venv/bin/kb keys create --role staff --name demo-staff --if-none
exec .venv/bin/kb serve --bootstrap corpus "$@"
