"""Cost of access control per staff request: a key check, and masking + a chained SQLite append.

Usage: .venv/bin/python bench/audit.py [--n 300] [--data-dir DIR]
Prints p50/p95 of AuditLog.append for a search event (masked query + 20 ids) and of a
key check (KeyStore.check), on this machine's disk.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from kb.security.audit import AuditLog
from kb.security.keys import KeyStore

QUERIES = [
    "母が認知症で一人暮らしが心配",
    "090-1234-5678 から電話があった山田様の件",
    "引っ越してきたので手続きを知りたい",
    "hanako@example.jp に連絡してほしいと言われた",
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.data_dir) as tmp:
        # Key and anchor inside the temporary folder too (by default they sit beside it).
        secrets_dir = Path(tmp) / "audit"
        log = AuditLog(
            Path(tmp) / "audit.sqlite",
            key_file=secrets_dir / "audit.key",
            anchor=secrets_dir / "audit.anchor",
        )
        keys = KeyStore(Path(tmp) / "keys.sqlite")
        _, secret = keys.create("bench", "staff")
        ids = [f"case:C{i:04d}" for i in range(20)]
        log.append("search", actor="bench", role="staff", query="warm up", ids=ids)
        append_ms, check_ms = [], []
        for i in range(args.n):
            t = time.perf_counter()
            log.append("search", actor="bench", role="staff", query=QUERIES[i % 4], ids=ids)
            append_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            keys.check(secret)
            check_ms.append((time.perf_counter() - t) * 1000)
        assert log.verify().ok
        print(
            "audit append (mask + HMAC chain + anchor line + WAL commit): p50 "
            f"{statistics.median(append_ms):.2f} ms, p95 {pct(append_ms, 0.95):.2f} ms "
            f"over {args.n}"
        )
        print(
            f"key check (sha256 + compare_digest + SQLite read): p50 "
            f"{statistics.median(check_ms):.3f} ms, p95 {pct(check_ms, 0.95):.3f} ms"
        )
        log.close()
        keys.close()


if __name__ == "__main__":
    main()
