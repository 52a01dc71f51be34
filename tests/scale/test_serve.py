"""``kb serve --ray``: the kb app on Ray Serve, two replicas over a two-node local cluster.

Answers over Ray equal ``kb serve``'s (the same app in this process) for every demo query; a new
build reaches every replica at once; killing a replica mid-load loses no request silently (each
one is answered right or fails visibly) and no audit event; Serve starts a replacement.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.index.update import rebuild
from kb.scale.serve import ServeOptions, deploy, served_builds, undeploy
from kb.security.audit import AuditLog
from kb.settings import Settings
from tests.api.conftest import create_key
from tests.scale.conftest import REPO, data_dir_with, free_port

pytestmark = pytest.mark.ray

QUERIES = [
    json.loads(line)["text"]
    for line in (REPO / "eval/datasets/demo/queries.jsonl").read_text("utf-8").splitlines()
]


@dataclass(frozen=True)
class Served:
    settings: Settings
    url: str
    key: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture(scope="module")
def served(
    ray_cluster: str, demo_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    settings = data_dir_with(demo_store, tmp_path_factory.mktemp("serve") / "data")
    rebuild(settings)
    key = create_key(settings, "staff", "ray-test")
    options = ServeOptions(replicas=2, host="127.0.0.1", port=free_port())
    url = deploy(settings, options, same_machine=True)
    try:
        yield Served(settings, url, key)
    finally:
        undeploy(everything=False)


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    """The answer without its timing."""
    return {k: v for k, v in body.items() if k != "took_ms"}


def test_answers_over_ray_equal_kb_serve(served: Served) -> None:
    app = create_app(served.settings, load_in_background=False)
    with TestClient(app) as local, httpx.Client(base_url=served.url, timeout=60) as remote:
        for query in QUERIES:
            params = {"q": query}
            mine = local.get("/api/v1/search", params=params, headers=served.headers())
            theirs = remote.get("/api/v1/search", params=params, headers=served.headers())
            assert mine.status_code == theirs.status_code == 200, (query, theirs.text)
            assert _stable(theirs.json()) == _stable(mine.json()), query
        # The public widget's search and suggestions too (a few: they are rate-limited).
        for query in QUERIES[:5]:
            for path in ("/public/v1/faq/search", "/public/v1/faq/suggest"):
                mine = local.get(path, params={"q": query})
                theirs = remote.get(path, params={"q": query})
                assert mine.status_code == theirs.status_code == 200, (path, query)
                assert _stable(theirs.json()) == _stable(mine.json()), (path, query)
        # Keys work the same: none, a wrong one.
        assert remote.get("/api/v1/search", params={"q": "x"}).status_code == 401
        wrong = {"Authorization": "Bearer kb_wrong"}
        assert remote.get("/api/v1/search", params={"q": "x"}, headers=wrong).status_code == 401


def test_a_new_build_reaches_every_replica(served: Served, tmp_path: Path) -> None:
    from kb.cli import main

    before = served_builds(calls=24)
    assert len(before) == 2, before  # both replicas answered
    assert len(set(before.values())) == 1, before
    faq = tmp_path / "faq.csv"
    faq.write_text(
        "id,question,answer,department,category,published\n"
        "FRAY1,ドローン飛行許可の相談窓口はどこですか。,都市計画課で受け付けます。,"
        "都市計画課,まちづくり,true\n",
        encoding="utf-8",
    )
    data = str(served.settings.data_dir)
    assert main(["--data-dir", data, "--model", "fake", "ingest", str(faq)]) == 0
    after = served_builds(calls=24)
    assert len(after) == 2, after
    assert set(after.values()) != set(before.values())
    assert len(set(after.values())) == 1, after  # one build everywhere, no mix
    with httpx.Client(base_url=served.url, timeout=60) as client:
        for _ in range(6):
            got = client.get(
                "/api/v1/search", params={"q": "ドローン飛行許可"}, headers=served.headers()
            )
            assert got.status_code == 200
            assert got.json()["faqs"][0]["id"] == "FRAY1"


def _replica_names() -> list[str]:
    import ray

    return sorted(
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["name"].startswith("SERVE_REPLICA::kb#kb#")
    )


def test_killing_a_replica_mid_load_loses_nothing_silently(served: Served) -> None:
    import ray

    queries = QUERIES[:20]
    with httpx.Client(base_url=served.url, timeout=60) as client:
        expected = {
            q: _stable(
                client.get("/api/v1/search", params={"q": q}, headers=served.headers()).json()
            )
            for q in queries
        }
    audit = AuditLog.from_settings(served.settings)
    searches_before = sum(1 for e in audit.events() if e.action == "search")
    audit.close()
    replicas = _replica_names()
    assert len(replicas) == 2, replicas

    per_client, clients = 40, 4
    outcomes: list[tuple[str, int | str, dict[str, Any] | None]] = []
    lock = threading.Lock()
    halfway = threading.Event()

    def client_loop(offset: int) -> None:
        with httpx.Client(base_url=served.url, timeout=60) as client:
            for i in range(per_client):
                query = queries[(offset + i) % len(queries)]
                try:
                    got = client.get(
                        "/api/v1/search", params={"q": query}, headers=served.headers()
                    )
                    outcome: tuple[str, int | str, dict[str, Any] | None] = (
                        query,
                        got.status_code,
                        got.json() if got.status_code == 200 else None,
                    )
                except httpx.HTTPError as exc:  # the client sees it: not silent
                    outcome = (query, type(exc).__name__, None)
                with lock:
                    outcomes.append(outcome)
                    if len(outcomes) >= per_client * clients // 3:
                        halfway.set()

    threads = [threading.Thread(target=client_loop, args=(n * 5,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    assert halfway.wait(120), "the load never got going"
    victim = ray.get_actor(replicas[0], namespace="serve")
    ray.kill(victim, no_restart=True)
    for thread in threads:
        thread.join(180)
        assert not thread.is_alive()

    assert len(outcomes) == per_client * clients
    ok = [(q, body) for q, status, body in outcomes if status == 200]
    failed = [(q, status) for q, status, _ in outcomes if status != 200]
    # Every answer given is the right one: nothing half-done passed for an answer.
    for query, body in ok:
        assert body is not None
        assert _stable(body) == expected[query], query
    # Whatever failed, failed visibly: a server error or a broken connection, never a 4xx.
    assert all(not isinstance(s, int) or s >= 500 for _, s in failed), failed
    assert len(ok) >= len(outcomes) // 2, failed

    # No data lost: every answered search is in the audit log, whose chain holds.
    audit = AuditLog.from_settings(served.settings)
    try:
        searches = sum(1 for e in audit.events() if e.action == "search") - searches_before
        # A search the killed replica had already logged may be run again on the other replica
        # when Serve retries it: at most one such search per client (one request in flight each).
        assert len(ok) <= searches <= len(outcomes) + clients
        verification = audit.verify()
        assert not verification.problems, verification.problems
    finally:
        audit.close()

    # Serve replaced the killed replica.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        names = _replica_names()
        if len(names) == 2 and replicas[0] not in names and len(served_builds(calls=16)) == 2:
            break
        time.sleep(2)
    else:
        pytest.fail(f"Serve did not replace the killed replica: {_replica_names()}")
