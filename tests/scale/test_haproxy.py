"""``kb serve --ray --ray-ingress haproxy``: a local Ray instance with HAProxy in front of two
replicas that answer HTTP themselves.

The command runs as a city would run it (its own process, its own local Ray instance on
loopback), next to the tests' two-node cluster: answers equal ``kb serve``'s (the same app in
this process); HAProxy listens on the asked address and port only for the app, its two replicas
on loopback; no file of HAProxy's holds a search's words; SIGTERM to the process group (as
systemd and Ctrl-C stop it) stops it all, HAProxy included.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.index.update import rebuild
from kb.scale.cluster import temp_dir
from tests.api.conftest import create_key
from tests.scale.conftest import data_dir_with, free_port
from tests.scale.test_serve import QUERIES

pytestmark = pytest.mark.ray

RUN_KB = "import sys; from kb.cli import main; sys.exit(main(sys.argv[1:]))"


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "took_ms"}


def test_kb_serve_on_ray_behind_haproxy(demo_store: Path, tmp_path: Path) -> None:
    settings = data_dir_with(demo_store, tmp_path / "data")
    rebuild(settings)
    key = create_key(settings, "staff", "haproxy-test")
    headers = {"Authorization": f"Bearer {key}"}
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", "RAY_"))}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_KB, "--data-dir", str(settings.data_dir), "--model", "fake",
         "serve", "--ray", "--ray-ingress", "haproxy", "--replicas", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    folder = temp_dir() / f"haproxy-{proc.pid}"
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        ready = False
        with httpx.Client(base_url=base, timeout=30) as remote:
            while time.monotonic() < deadline and not ready and proc.poll() is None:
                try:
                    ready = remote.get("/readyz").status_code == 200
                except httpx.HTTPError:
                    time.sleep(0.5)
            assert ready, "kb serve --ray --ray-ingress haproxy never became ready"
            app = create_app(settings, load_in_background=False)
            with TestClient(app) as local:
                for query in QUERIES[:40]:
                    mine = local.get("/api/v1/search", params={"q": query}, headers=headers)
                    theirs = remote.get("/api/v1/search", params={"q": query}, headers=headers)
                    assert mine.status_code == theirs.status_code == 200, (query, theirs.text)
                    assert _stable(theirs.json()) == _stable(mine.json()), query
            assert remote.get("/api/v1/search", params={"q": "x"}).status_code == 401

        configs = list(folder.glob("*/haproxy.cfg"))
        assert len(configs) == 1, sorted(folder.rglob("*"))
        text = configs[0].read_text("utf-8")
        assert re.search(rf"^\s*bind\s+127\.0\.0\.1:{port}\s*$", text, re.M), text
        # Every server HAProxy sends to is on loopback: the two replicas, and Serve's proxy
        # actor as a backup for when no replica is up.
        servers = re.findall(r"^\s*server\s+(\S+)\s+(\S+):\d+", text, re.M)
        assert {host for _, host in servers} == {"127.0.0.1"}, text
        assert sum(name.startswith("SERVE_REPLICA") for name, _ in servers) == 2, text
        assert "bind *:8404" not in text  # a port of its own, not Ray's fixed default
        assert "127.0.0.1:514" not in text  # no access log to syslog
        assert folder.stat().st_mode & 0o777 == 0o700
        # No file HAProxy wrote holds what was searched.
        words = "住民票"
        assert any(words in q for q in QUERIES[:40])
        encoded = b"%E4%BD%8F%E6%B0%91%E7%A5%A8"
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert words.encode() not in data, path
                assert encoded not in data.upper(), path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            pytest.fail(f"kb serve --ray did not stop on SIGTERM:\n{out[-3000:]}")
    assert proc.returncode == 0, out[-3000:]
    # Nothing of HAProxy is left: no process (it runs in a session of its own, so the signal
    # to the command's process group does not reach it), no folder, no port.
    left = [
        entry.name
        for entry in Path("/proc").glob("[0-9]*")
        if _reads(entry / "cmdline", str(folder).encode())
    ]
    assert not left, left
    assert not folder.exists()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{base}/healthz", timeout=5)


def _reads(path: Path, needle: bytes) -> bool:
    try:
        return needle in path.read_bytes()
    except OSError:
        return False
