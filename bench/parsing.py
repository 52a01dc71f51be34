"""Time the manual and HTML parsers on long runs of one character, at two lengths.

    .venv/bin/python bench/parsing.py [--run-chars 20000] [--json PATH]

Each case is a text a pasted log or a stuck key makes. The time at ``--run-chars`` and at four
times that is printed with how much it grew: a pattern tried from every character of a run to
its end grows with the square of the length (16 times for four times the text), one that reads
each character once about 4 times (small times grow less evenly).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb.ingest.markdown import parse_markdown, parse_plain_text  # noqa: E402
from kb.text.markup import html_to_text  # noqa: E402


def _markdown(text: str) -> None:
    parse_markdown(text, source="bench.md", stem="bench")


def _plain(text: str) -> None:
    parse_plain_text(text, source="bench.txt", stem="bench")


CASES: dict[str, tuple[Callable[[str], None], Callable[[int], str]]] = {
    "md_heading_spaces": (_markdown, lambda n: "# a" + " " * n + "b\n本文"),
    "md_heading_hashes": (_markdown, lambda n: "# a " + "#" * n + "b\n本文"),
    "md_setext": (_markdown, lambda n: "題\n" + "=" * n + "x\n本文"),
    "txt_spaces": (_plain, lambda n: "題\n1." + " " * n + "x\n本文"),
    "html_spaces": (html_to_text, lambda n: "<p>a" + " " * n + "b</p>"),
    "html_blank_lines": (html_to_text, lambda n: "<p>a\n" + " \n" * n + "b</p>"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-chars", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    out: dict[str, dict[str, float]] = {}
    short, long = args.run_chars, 4 * args.run_chars
    for label, (parse, make) in CASES.items():
        seconds = []
        for n in (short, long):
            text = make(n)
            t0 = time.perf_counter()
            parse(text)
            seconds.append(time.perf_counter() - t0)
        growth = seconds[1] / max(seconds[0], 1e-6)
        out[label] = {
            "short_s": round(seconds[0], 4),
            "long_s": round(seconds[1], 4),
            "growth": round(growth, 1),
        }
        print(
            f"{label:<18} {short:,} chars {seconds[0]:.3f} s, {long:,} chars "
            f"{seconds[1]:.3f} s: x{growth:.1f}"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
