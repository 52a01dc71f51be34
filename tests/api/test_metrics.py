"""``/metrics``: Prometheus text format, admin key or an allowed scraper address."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from kb.api.app import create_app
from kb.api.metrics import UNMATCHED, RouteTemplates, index_age
from kb.embed.embedder import FakeEmbedder
from kb.index.folder import IndexFolder, current_index
from kb.search.config import SearchConfig
from kb.search.service import SearchService
from kb.settings import Settings
from kb.store import Store
from tests.api.conftest import MakeClient, create_key

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    """``{(sample name, sorted labels): value}`` of one scrape (parsed, so it is valid)."""
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def admin(make_client: MakeClient) -> TestClient:
    return make_client(role="admin")


def test_metrics_need_an_admin_key(make_client: MakeClient) -> None:
    anonymous = make_client(role=None)
    r = anonymous.get("/metrics")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    for role in ("staff", "trainer"):
        assert make_client(role=role).get("/metrics").status_code == 403
    assert make_client(role="admin").get("/metrics").status_code == 200


def _client_from(
    address: str, index_root: Path, fake_embedder: FakeEmbedder, **overrides: Any
) -> Iterator[TestClient]:
    settings = Settings(data_dir=index_root.parent, **overrides)
    app = create_app(
        settings,
        service_factory=lambda: SearchService(
            index_root, fake_embedder, SearchConfig.from_settings(settings)
        ),
        load_in_background=False,
    )
    with TestClient(app, client=(address, 40000)) as client:
        yield client


def test_allowed_scraper_needs_no_key(index_root: Path, fake_embedder: FakeEmbedder) -> None:
    allow = {"metrics_allow_ips": "10.1.2.0/24, 192.0.2.9"}
    for client in _client_from("10.1.2.77", index_root, fake_embedder, **allow):
        assert client.get("/metrics").status_code == 200
        # The allow-list opens /metrics only, nothing else.
        assert client.get("/api/v1/departments").status_code == 401
    for client in _client_from("10.1.3.1", index_root, fake_embedder, **allow):
        assert client.get("/metrics").status_code == 401


def test_metrics_allow_ips_setting_is_validated() -> None:
    assert Settings(metrics_allow_ips="10.0.0.5, 10.0.1.0/24").metrics_allow_ips == [
        "10.0.0.5/32",
        "10.0.1.0/24",
    ]
    with pytest.raises(ValueError, match="Prometheus"):
        Settings(metrics_allow_ips="*")
    with pytest.raises(ValueError, match="not an IP address"):
        Settings(metrics_allow_ips="prometheus.local")


def admin_headers(client: TestClient) -> dict[str, str]:
    """An admin key for the app behind ``client`` (each test client has its own app)."""
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return {"Authorization": "Bearer " + create_key(settings, "admin")}


def test_requests_are_counted_by_route_template_and_status(make_client: MakeClient) -> None:
    staff = make_client(role="staff")
    for faq_id in ("F1", "F2", "NOPE"):
        staff.get(f"/api/v1/faq/{faq_id}")
    staff.get("/api/v1/search", params={"q": "住民票"})
    staff.get("/no/such/page")
    staff.get("/api/v1/departments", headers={"Authorization": "Bearer kb_00000000_" + "A" * 43})
    staff_key = staff.headers["Authorization"].removeprefix("Bearer ")
    headers = admin_headers(staff)
    samples = scrape(staff, **headers)

    def requests(route: str, status: str) -> float:
        return value(samples, "kb_http_requests_total", method="GET", route=route, status=status)

    route = "/api/v1/faq/{faq_id}"
    assert (requests(route, "200"), requests(route, "404")) == (2.0, 1.0)
    assert requests("/api/v1/search", "200") == 1.0
    assert requests(UNMATCHED, "404") == 1.0
    # A refused request counts under the route it asked for.
    assert requests("/api/v1/departments", "401") == 1.0
    # The latency histogram of the same route.
    count = value(samples, "kb_http_request_duration_seconds_count", method="GET", route=route)
    assert count == 3.0
    inf = value(
        samples, "kb_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf"
    )
    assert inf == 3.0
    # No raw id, query, path or key ever becomes a label.
    text = staff.get("/metrics", headers=headers).text
    for secret in ("NOPE", "住民票", "no/such", staff_key, headers["Authorization"][7:]):
        assert secret not in text


def test_odd_methods_do_not_become_labels(admin: TestClient) -> None:
    for n in range(3):
        admin.request(f"BREW{n}", "/healthz")
    samples = scrape(admin)
    methods = {dict(labels).get("method") for (name, labels) in samples if "http" in name}
    assert not any(m and m.startswith("BREW") for m in methods)
    other = value(samples, "kb_http_requests_total", method="other", route="/healthz", status="405")
    assert other == 3.0


def test_searches_answered_and_refused(admin: TestClient) -> None:
    before = scrape(admin)
    assert value(before, "kb_searches_total", surface="public", outcome="refused") == 0.0
    admin.get("/api/v1/search", params={"q": "住民票の写しが欲しい"})
    admin.get("/public/v1/faq/search", params={"q": "住民票の写しが欲しい"})
    admin.get("/public/v1/faq/search", params={"q": "zzzzzz"})
    samples = scrape(admin)
    staff = sum(
        value(samples, "kb_searches_total", surface="staff", outcome=o)
        for o in ("answered", "refused")
    )
    assert staff == 1.0
    assert value(samples, "kb_searches_total", surface="public", outcome="refused") >= 1.0
    public = sum(
        value(samples, "kb_searches_total", surface="public", outcome=o)
        for o in ("answered", "refused")
    )
    assert public == 2.0


def test_index_and_document_gauges(admin: TestClient, index_root: Path) -> None:
    samples = scrape(admin)
    assert value(samples, "kb_ready") == 1.0
    assert 0.0 <= value(samples, "kb_index_age_seconds") < 600
    ready = admin.get("/readyz").json()
    serving = current_index(index_root)
    assert value(samples, "kb_index_chunks") == IndexFolder(serving).manifest().chunks
    assert value(samples, "kb_index_info", index=serving.name, model=ready["model"]) == 1.0
    store = Store(serving / "docs.sqlite", read_only=True)
    try:
        counts = store.counts()
    finally:
        store.close()
    for kind in ("faq", "case", "manual"):
        assert value(samples, "kb_documents", kind=kind) == counts.get(kind, 0), kind
    assert value(samples, "kb_documents", kind="faq") > 0
    assert any(name == "kb_build_info" for (name, _) in samples)


def test_index_age() -> None:
    now = dt.datetime(2025, 4, 1, 12, 0, tzinfo=dt.UTC)
    assert index_age("2025-04-01T11:00:00+00:00", now) == 3600.0
    assert index_age("2025-04-01T11:59:30", now) == 30.0
    assert index_age("not a time", now) == 0.0
    assert index_age("2025-04-01T13:00:00+00:00", now) == 0.0


def test_route_templates_cover_mounts_and_unknown_paths(admin: TestClient) -> None:
    templates = RouteTemplates(admin.app.router.routes)  # type: ignore[attr-defined]
    assert templates.template("/api/v1/faq/F1") == "/api/v1/faq/{faq_id}"
    assert templates.template("/static/console.js").startswith("/static")
    assert templates.template("/nothing/here") == UNMATCHED


RUN_KB = "import sys; from kb.cli import main; sys.exit(main(sys.argv[1:]))"
FAQ_CSV = """id,question,answer,department,category,published
F1,住民票の写しはどこで取れますか。,市民課の窓口またはコンビニで取れます。,市民課,届出,true
F2,粗大ごみの出し方を知りたい。,電話で申し込み、処理券を貼って出してください。,ごみ減量推進課,ごみ,true
"""


def _worker_searches(folder: Path, tmp: Path) -> list[float]:
    """Staff searches each worker counted: its own file, read alone (public API only)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    counts = []
    for i, db in enumerate(sorted(folder.glob("counter_*.db"))):
        alone = tmp / f"worker-{i}"
        alone.mkdir(exist_ok=True)
        shutil.copy(db, alone / db.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        counts.append(
            sum(
                s.value
                for family in registry.collect()
                for s in family.samples
                if s.name == "kb_searches_total" and s.labels.get("surface") == "staff"
            )
        )
    return counts


def test_one_scrape_sums_every_worker(tmp_path: Path) -> None:
    """``kb serve --workers 2``: whichever worker answers /metrics, it counts both workers."""
    from kb.cli import main

    src = tmp_path / "faq.csv"
    src.write_text(FAQ_CSV, encoding="utf-8")
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "--model", "fake", "ingest", str(src)]) == 0
    key = create_key(Settings(data_dir=data), "staff")
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left from an earlier run")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", "PROMETHEUS_"))}
    env |= {"KB_METRICS_ALLOW_IPS": "127.0.0.1", "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_KB, "--data-dir", str(data), "--model", "fake", "serve",
         "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    close = {"Connection": "close"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/readyz", headers=close).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "kb serve --workers 2 never became ready"
                time.sleep(0.3)
            sent = 0
            headers = {"Authorization": f"Bearer {key}", **close}

            def search(_: int) -> int:
                with httpx.Client(base_url=client.base_url, timeout=30) as one:
                    r = one.get("/api/v1/search", params={"q": "粗大ごみ"}, headers=headers)
                return r.status_code

            # Bursts of new connections at once, until both workers have answered some (the
            # kernel hands each connection to one of them).
            with ThreadPoolExecutor(8) as pool:
                for _ in range(20):
                    assert list(pool.map(search, range(8))) == [200] * 8
                    sent += 8
                    per_worker = _worker_searches(folder, tmp_path)
                    if sum(1 for n in per_worker if n > 0) >= 2:
                        break
            assert sum(1 for n in per_worker if n > 0) == 2, per_worker
            assert sum(per_worker) == sent
            # A request is counted once its response has gone out, so the last few may reach
            # the counters a moment after their client has its answer: wait for them first.
            deadline = time.monotonic() + 10
            while _scrape(client, close)[:2] != (sent, sent):
                assert time.monotonic() < deadline, (_scrape(client, close)[:2], sent)
                time.sleep(0.1)
            for _ in range(6):  # then each scrape, from either worker, shows the total
                searches, requests, text = _scrape(client, close)
                assert (searches, requests) == (sent, sent)
                assert "kb_index_age_seconds" in text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert not (folder / "counter_999999.db").exists()  # an earlier run's counts were dropped


def _scrape(client: httpx.Client, headers: dict[str, str]) -> tuple[float, float, str]:
    """One scrape: staff searches counted, requests to /api/v1/search counted, the text."""
    text = client.get("/metrics", headers=headers).text
    searches = 0.0
    requests = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "kb_searches_total" and s.labels["surface"] == "staff":
                searches += s.value
            if s.name == "kb_http_requests_total" and s.labels["route"] == "/api/v1/search":
                requests += s.value
    return searches, requests, text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
