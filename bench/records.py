"""Consultation records on the demo corpus: how long from closing a record to finding it.

Usage::

    .venv/bin/kb --data-dir /tmp/records-data ingest corpus      # once (builds the index)
    .venv/bin/python bench/records.py --data-dir /tmp/records-data [--closes 5] [--json PATH]

It works on a *copy* of the data directory (the original is left as it was) and, through the
staff API (in-process ASGI client, the real model), starts ``--closes`` records and closes
each one. For each it measures the close request (mask, store the case, incremental build
with the embedding cache, switch to the new index) and whether the next staff search for the
record's words finds the new case first. Prints one JSON object (seconds: median and max).

The process's CPU seconds during the close are printed too: on a machine shared with other
work the wall time stretches by the load, the CPU time does not (the build is single-threaded,
so on an otherwise idle machine wall time is close to it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.security.keys import KeyStore
from kb.settings import Settings

RECORDS = [
    ("隣家のソーラーパネルの反射光がまぶしくて眠れない", "環境保全課"),
    ("自治会の回覧板を外国籍の住民にも読めるようにしたい", "国際交流課"),
    ("公園の遊具のボルトが外れかけていて子どもが危ない", "公園緑地課"),
    ("空き家の庭木が道路にはみ出して通学路をふさいでいる", "建築指導課"),
    ("選挙の投票所にスロープがなく車椅子で入れなかった", "選挙管理委員会事務局"),
    ("市営住宅の上の階からの水漏れで天井にしみができた", "住宅課"),
    ("防災無線の放送が家の中では聞き取れない", "防災危機管理課"),
    ("バス停の時刻表が古いままで通院に困っている", "交通政策課"),
]


def working_copy(data_dir: Path, prefix: str) -> Path:
    """A temporary data folder with ``data_dir``'s store, embedding cache and index builds, and
    its model cache linked (not copied), so a bench writes nothing into ``data_dir``."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    for name in ("kb.sqlite", "embeddings.sqlite"):
        shutil.copy(data_dir / name, work / name)
    shutil.copytree(data_dir / "indexes", work / "indexes")
    models = data_dir / "models"
    if models.exists():
        (work / "models").symlink_to(models.resolve())
    return work


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="an ingested data dir")
    parser.add_argument(
        "--closes", type=int, default=5, help=f"records to close (<= {len(RECORDS)})"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    work = working_copy(args.data_dir, "kb-records-bench-")
    try:
        settings = Settings(data_dir=work)
        keys = KeyStore(settings.keys_path)
        _, key = keys.create("bench-records", "staff")
        keys.close()
        closes: list[float] = []
        cpu: list[float] = []
        served: list[float] = []
        found_first = 0
        with TestClient(create_app(settings, load_in_background=False)) as client:
            client.headers["Authorization"] = "Bearer " + key
            for words, department in RECORDS[: args.closes]:
                assert client.get("/api/v1/search", params={"q": words}).status_code == 200
                body = {"citizen_words": words, "channel": "窓口", "departments": [department]}
                record = client.post("/api/v1/records", json=body).json()
                t0 = time.perf_counter()
                c0 = time.process_time()
                r = client.post(
                    f"/api/v1/records/{record['id']}/close",
                    json={"actions": f"{department}の担当者につなぎ、対応を依頼した"},
                )
                assert r.status_code == 200, r.text
                cpu.append(time.process_time() - c0)
                hits = client.get("/api/v1/search", params={"q": words}).json()["cases"]
                wall = time.perf_counter() - t0
                closes.append(r.json()["seconds"])
                served.append(wall)
                # The case a record becomes: case:desk-R000001 (its pane shows the local id).
                case = r.json()["record"]["case_id"].partition(":")[2]
                found_first += bool(hits) and hits[0]["id"] == case
                print(
                    f"{record['id']}: closed in {r.json()['seconds']:.2f} s "
                    f"({r.json()['embedded']} chunk embedded, {r.json()['cached']} cached); "
                    f"CPU {cpu[-1]:.2f} s; close + next search {wall:.2f} s; "
                    f"top case {hits[0]['id'] if hits else '-'}",
                    flush=True,
                )
        figures = {
            "closes": len(closes),
            "close_seconds_median": round(statistics.median(closes), 2),
            "close_seconds_max": round(max(closes), 2),
            "close_cpu_seconds_median": round(statistics.median(cpu), 2),
            "close_to_found_seconds_median": round(statistics.median(served), 2),
            "close_to_found_seconds_max": round(max(served), 2),
            "found_first": found_first,
            "load_average_1min": round(os.getloadavg()[0], 1),
        }
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        print(json.dumps(figures))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
