"""`kb serve --workers 2` answers searches from several processes (fake embedder, loopback)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.load import stop_server
from kb.cli import main
from kb.settings import Settings

RUN_KB = "import sys; from kb.cli import main; sys.exit(main(sys.argv[1:]))"
FAQ_CSV = """id,question,answer,department,category,published
F1,住民票の写しはどこで取れますか。,市民課の窓口またはコンビニで取れます。,市民課,届出,true
F2,粗大ごみの出し方を知りたい。,電話で申し込み、処理券を貼って出してください。,ごみ減量推進課,ごみ,true
"""


def _free_port() -> int:
    for port in range(8350, 8400):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 8350-8399")


def test_serve_with_two_workers(tmp_path: Path) -> None:
    src = tmp_path / "faq.csv"
    src.write_text(FAQ_CSV, encoding="utf-8")
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "--model", "fake", "ingest", str(src)]) == 0
    from kb.security.keys import KeyStore

    keys = KeyStore(Settings(data_dir=data).keys_path)
    _, key = keys.create("workers-test", "staff")
    keys.close()

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_KB, "--data-dir", str(data), "--model", "fake", "serve",
         "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        ready = False
        with httpx.Client(base_url=base, timeout=10) as client:
            while time.monotonic() < deadline and not ready:
                try:
                    ready = client.get("/readyz").status_code == 200
                except httpx.HTTPError:
                    time.sleep(0.3)
            assert ready, "kb serve --workers 2 never became ready"
            for _ in range(20):
                r = client.get(
                    "/api/v1/search",
                    params={"q": "粗大ごみの出し方"},
                    headers={"Authorization": f"Bearer {key}", "Connection": "close"},
                )
                assert r.status_code == 200
                assert r.json()["faqs"][0]["id"] == "F2"
            assert client.get("/api/v1/search", params={"q": "x"}).status_code == 401
    finally:
        stop_server(proc)
    # uvicorn's supervisor started two worker processes.
    log = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert log.count("Started server process") >= 2, log[-2000:]
