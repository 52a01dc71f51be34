"""Where MeCab crashes, and what the adapter's pieces cost: the figures behind ``MAX_TAGGER_CHARS``.

Each probe tags one text in a fresh interpreter, so a segmentation fault ends the probe, not
this script: ``raw`` gives the whole text to a fugashi ``Tagger`` (what kb did before its
adapter cut texts into pieces), ``adapter`` gives it to :class:`kb.text.mecab.MeCabTokenizer`.
A probe that takes longer than ``--timeout`` seconds is reported as such (MeCab's time grows
with the square of a run of one character class). Then, in process, the time of one tagger
call per piece size for the worst texts (runs of one class) and for ordinary Japanese.

Prints JSON. Several minutes on 2 cores with the default sizes (the raw probes of 150,000-
200,000 ASCII letters take a minute each before they crash).

    .venv/bin/python bench/mecab_limits.py [--timeout 120] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SENTENCE = "転入届を出したいです。"
KINDS = {
    "ascii": "'x' * n",
    "digits": "'1' * n",
    "symbols": "'-' * n",
    "fullwidth": "'Ｘ' * n",
    "cyrillic": "'д' * n",
    "kana": "'あ' * n",
    "japanese": f"({SENTENCE!r} * (n // {len(SENTENCE)} + 1))[:n]",
}
SIZES = {
    "ascii": [100_000, 150_000, 200_000, 250_000],
    "digits": [100_000, 200_000],
    "symbols": [120_000, 135_000, 150_000],
    "fullwidth": [150_000, 200_000],
    "cyrillic": [200_000, 300_000],
    "kana": [300_000],
    "japanese": [400_000, 1_000_000],
}
_PROBE = {
    "raw": "import fugashi; t = fugashi.Tagger(); n = {n}; print(len(t({text})))",
    "adapter": (
        "from kb.text.mecab import MeCabTokenizer; n = {n}; "
        "print(len(MeCabTokenizer().terms({text})))"
    ),
}


def probe(how: str, kind: str, n: int, timeout: float) -> dict[str, Any]:
    """Tag ``n`` characters of ``kind`` in a new interpreter; its outcome and time."""
    script = _PROBE[how].format(n=n, text=KINDS[kind])
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"how": how, "kind": kind, "chars": n, "outcome": f"over {timeout:.0f} s"}
    seconds = round(time.perf_counter() - started, 1)
    outcome = {0: "ok", -11: "segfault", 139: "segfault"}.get(proc.returncode, "error")
    return {"how": how, "kind": kind, "chars": n, "outcome": outcome, "seconds": seconds}


def piece_costs() -> dict[str, dict[int, float]]:
    """Milliseconds per 1,000 characters of one tagger call, by piece size and text."""
    import fugashi

    tagger = fugashi.Tagger()
    texts = {"ascii": "x", "digits": "1", "symbols": "-", "kana": "あ", "japanese": SENTENCE}
    out: dict[str, dict[int, float]] = {}
    for name, unit in texts.items():
        out[name] = {}
        for size in (250, 500, 1_000, 2_000, 4_000, 16_000):
            text = (unit * (size // len(unit) + 1))[:size]
            calls = max(1, 64_000 // size)
            started = time.perf_counter()
            for _ in range(calls):
                tagger(text)
            seconds = time.perf_counter() - started
            out[name][size] = round(seconds * 1000 / (calls * size / 1000), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args()
    probes = [
        probe(how, kind, n, args.timeout)
        for kind, sizes in SIZES.items()
        for n in sizes
        for how in ("raw", "adapter")
    ]
    result = {"probes": probes, "ms_per_1000_chars": piece_costs()}
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
