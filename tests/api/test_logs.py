"""The served access log keeps neither query strings (citizens' words) nor keys."""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import uvicorn

from kb.api.app import create_app
from kb.api.logs import DropQueryString, uvicorn_log_config
from kb.embed.embedder import FakeEmbedder
from kb.search.service import SearchService
from kb.settings import Settings
from tests.api.conftest import create_key
from tests.e2e.conftest import free_port


def test_filter_drops_the_query_string_only() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/search?q=090-1234-5678", "1.1", 200),
        None,
    )
    assert DropQueryString().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/v1/search?… HTTP/1.1" 200'
    plain = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("a", "GET", "/healthz"), None
    )
    DropQueryString().filter(plain)
    assert plain.getMessage() == "a GET /healthz"
    # A 60 KB path, sent with no key by the thousand, is cut.
    long = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("a", "GET", "/x" * 30_000), None
    )
    DropQueryString().filter(long)
    assert long.getMessage() == "a GET " + ("/x" * 100) + "…"
    handlers = uvicorn_log_config()["handlers"]
    assert handlers["access"]["filters"] == ["kb_drop_query"]


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/v1/cases/%E5%B1%B1%E7%94%B0%E8%8A%B1%E5%AD%90_090-1234-5678", "/api/v1/cases/[…]"),
        ("/api/v1/records/09012345678", "/api/v1/records/[…]"),
        ("/api/v1/records/AB12345678CD", "/api/v1/records/[…]"),
        ("/api/v1/records/192.168.10.23/close", "/api/v1/records/[…]/close"),
        ("/api/v1/records/03-1234-5678", "/api/v1/records/[…]"),
        ("/api/v1/records/19800101", "/api/v1/records/[…]"),
        ("/api/v1/records/R000173", "/api/v1/records/R000173"),
        ("/api/v1/cases/2024040001", "/api/v1/cases/2024040001"),
        ("/api/v1/faq/faq:F0001", "/api/v1/faq/faq:F0001"),
        ("/public/widget.js", "/public/widget.js"),
    ],
)
def test_the_access_log_keeps_no_path_segment_that_could_be_personal(
    path: str, logged: str
) -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("a", "GET", path), None
    )
    DropQueryString().filter(record)
    assert record.getMessage() == f"a GET {logged}"


def test_kb_serve_access_log_has_paths_but_no_queries_or_keys(
    index_root: Path, fake_embedder: FakeEmbedder, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=index_root.parent)
    key = create_key(settings, "staff")
    app = create_app(settings, service_factory=lambda: SearchService(index_root, fake_embedder))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=uvicorn_log_config())
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        url = base + "/api/v1/search?q=%E6%AF%8D%E3%81%AE090-1234-5678&k=1"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 200
    finally:
        server.should_exit = True
        thread.join(10)
    out, err = capfd.readouterr()
    logged = out + err
    assert "GET /api/v1/search?… HTTP/1.1" in logged
    assert "090-1234-5678" not in logged
    assert "%E6%AF%8D" not in logged.upper()
    assert key[12:] not in logged


def _access(client: str, status: int) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (client, "GET", "/public/v1/faq/search?…", "1.1", status),
        None,
    )


def test_refusals_are_logged_once_a_minute_per_client(caplog: pytest.LogCaptureFixture) -> None:
    from kb.api.logs import ThrottleRefusals

    now = [1000.0]
    throttle = ThrottleRefusals(clock=lambda: now[0])
    kept = [throttle.filter(_access(f"203.0.113.7:{5000 + i}", 429)) for i in range(50)]
    assert kept == [True] + [False] * 49
    assert throttle.filter(_access("203.0.113.8:5000", 429))  # another address
    assert throttle.filter(_access("203.0.113.7:6000", 503))  # another status
    assert throttle.filter(_access("203.0.113.7:6000", 200))  # answers are always logged
    assert throttle.filter(_access("203.0.113.7:6000", 401))
    now[0] += 61
    with caplog.at_level(logging.WARNING, logger="uvicorn.error"):
        assert throttle.filter(_access("203.0.113.7:7000", 429))
    assert "49 more 429 answers to 203.0.113.7 were not logged" in caplog.text
    config = uvicorn_log_config()
    assert config["loggers"]["uvicorn.access"]["filters"] == ["kb_throttle_refusals"]
