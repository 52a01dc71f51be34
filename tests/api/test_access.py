"""Every route of the app enforces its role: 401 without a key, 403 below it, admitted at it.

The routes are enumerated from ``app.routes``, so routes added later (trainer pages, new API)
are covered without touching this file. The expected role comes from the issue's table of
path prefixes, independently of :func:`kb.api.access.required_role`, and from the roles the
route itself declares with ``require_role``.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from kb.api.access import FAILED_KEYS_BURST, _DeniedEvents, required_role
from kb.api.ratelimit import RateLimiter
from kb.security.audit import AuditLog
from kb.security.keys import KeyStore
from kb.settings import Settings
from tests.api.conftest import MakeClient, create_key

LEVEL = {None: 0, "staff": 1, "trainer": 2, "admin": 3}
ROLE_AT = {1: "staff", 2: "trainer", 3: "admin"}

PUBLIC_PAGES = {
    "/",
    "/healthz",
    "/readyz",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    "/staff",
    "/staff/",
    "/trainer",
    "/trainer/",
    "/admin",
    "/admin/",
    "/briefs",
}


def issue_role(path: str) -> str | None:
    """The issue's classification by path prefix (``None`` = public)."""
    if path in PUBLIC_PAGES or path.startswith(("/public/", "/static")):
        return None
    if path.startswith(("/api/v1/admin/", "/admin/")) or path == "/metrics":
        return "admin"  # /metrics: or no key from KB_METRICS_ALLOW_IPS (tests/api/test_metrics.py)
    if path.startswith(("/api/v1/trainer/", "/trainer/")):
        return "trainer"
    if path.startswith("/api/v1/"):
        return "staff"
    raise AssertionError(f"route {path} is not covered by the access table: classify it")


def declared_role(route: APIRoute) -> str | None:
    """The strictest role the route's dependency tree asks for via ``require_role``."""
    best: str | None = None
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        role = getattr(dep.call, "kb_role", None)
        if role is not None and LEVEL[role] > LEVEL[best]:
            best = role
        stack.extend(dep.dependencies)
    return best


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def flat_routes(app: Any) -> list[tuple[str, Any]]:
    """(full path, route) for every route, through included routers."""
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:  # FastAPI before included routers were kept as a tree
        return [(r.path, r) for r in app.routes]
    return [(c.path, c.route) for c in iter_contexts(app.routes)]


def enumerate_routes(app: Any) -> list[tuple[str, str, str | None]]:
    """(method, concrete path, expected role) for every route and method of ``app``."""
    out: list[tuple[str, str, str | None]] = []
    for full_path, route in flat_routes(app):
        if isinstance(route, Mount):
            out.append(("GET", full_path + "/console.js", issue_role(full_path + "/")))
            continue
        assert isinstance(route, APIRoute | Route), f"unexpected route type {route!r}"
        path = concrete(full_path)
        expected = issue_role(path)
        if isinstance(route, APIRoute):
            declared = declared_role(route)
            if LEVEL[declared] > LEVEL[expected]:
                expected = declared
        # The middleware's policy may be stricter than the table, never weaker.
        assert LEVEL[required_role(path)] >= LEVEL[issue_role(path)], path
        expected = ROLE_AT.get(max(LEVEL[expected], LEVEL[required_role(path)]))
        for method in sorted((route.methods or {"GET"}) - {"HEAD", "OPTIONS"}):
            out.append((method, path, expected))
    return out


def call(client: TestClient, method: str, path: str, key: str | None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return client.request(method, path, headers=headers, json=body)


def test_every_route_enforces_its_role(make_client: MakeClient) -> None:
    client = make_client(role=None)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    keys = {role: create_key(settings, role) for role in ("staff", "trainer", "admin")}
    # One wrong key per route would trip the failed-key throttle (tested on its own below).
    client.app.state.failed_keys = RateLimiter(1e6, 10**6)  # type: ignore[attr-defined]
    routes = enumerate_routes(client.app)
    assert ("GET", "/api/v1/search", "staff") in routes
    assert ("POST", "/api/v1/admin/ingest", "admin") in routes
    assert ("GET", "/public/v1/faq/search", None) in routes
    problems: list[str] = []
    checked = {None: 0, "staff": 0, "trainer": 0, "admin": 0}
    for method, path, role in routes:
        checked[role] += 1
        where = f"{method} {path} ({role or 'public'})"
        if role is None:
            r = call(client, method, path, None)
            if r.status_code in (401, 403):
                problems.append(f"{where}: public route answered {r.status_code}")
            continue
        r = call(client, method, path, None)
        if r.status_code != 401:
            problems.append(f"{where}: no key gave {r.status_code}, not 401")
        elif not r.headers.get("www-authenticate", "").startswith("Bearer"):
            problems.append(f"{where}: 401 without WWW-Authenticate: Bearer")
        elif "detail" not in r.json():
            problems.append(f"{where}: 401 without a JSON detail")
        r = call(client, method, path, "kb_00000000_" + "A" * 43)
        if r.status_code != 401:
            problems.append(f"{where}: a wrong key gave {r.status_code}, not 401")
        for lower in ("staff", "trainer"):
            if LEVEL[lower] < LEVEL[role]:
                r = call(client, method, path, keys[lower])
                if r.status_code != 403 or "detail" not in r.json():
                    problems.append(f"{where}: a {lower} key gave {r.status_code}, not 403")
        for enough in ("staff", "trainer", "admin"):
            if LEVEL[enough] >= LEVEL[role]:
                r = call(client, method, path, keys[enough])
                if r.status_code in (401, 403):
                    problems.append(f"{where}: a {enough} key was refused ({r.status_code})")
    assert problems == []
    assert checked[None] >= 8
    assert checked["staff"] >= 8
    assert checked["admin"] >= 6


def test_unknown_paths_are_closed_by_default(make_client: MakeClient) -> None:
    client = make_client(role=None)
    assert client.get("/api/v1/not-yet-written").status_code == 401
    assert client.get("/anything/else").status_code == 401
    assert client.get("/api/v1/trainer/future-tool").status_code == 401
    assert required_role("/api/v1/trainer/topics") == "trainer"
    assert required_role("/trainer/topics") == "trainer"
    assert required_role("/api/v1/admin/keys") == "admin"
    assert required_role("/public/v1/faq/search") is None
    assert required_role("/public/../api/v1/search") == "staff"
    assert required_role("/static/./x") == "staff"
    for sneaky in ("/public/../api/v1/search", "/public/%2e%2e/api/v1/departments"):
        assert client.get(sneaky).status_code in (401, 404)


def test_401_explains_how_to_get_a_key_when_none_exist(tmp_path: Path, make_client: Any) -> None:
    client = make_client(role=None)
    r = client.get("/api/v1/search", params={"q": "住民票"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="kb"'
    assert "kb keys create --role staff" in r.json()["detail"]


def test_revoked_key_stops_working_at_once(make_client: MakeClient) -> None:
    client = make_client(role=None)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    key = create_key(settings, "staff", name="desk-9")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/departments", headers=headers).status_code == 200
    keys = KeyStore(settings.keys_path)
    keys.revoke("desk-9")
    keys.close()
    r = client.get("/api/v1/departments", headers=headers)
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "kb_12345678_x", "Token abc"]
)
def test_malformed_authorization_is_401(make_client: MakeClient, header: str) -> None:
    r = make_client(role=None).get("/api/v1/departments", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json()["detail"]


def test_403_names_the_needed_role(make_client: MakeClient) -> None:
    r = make_client(role="staff").get("/api/v1/feedback")
    assert r.status_code == 403
    assert "needs trainer" in r.json()["detail"]
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    r = make_client(role="trainer").get("/api/v1/admin/keys")
    assert r.status_code == 403
    assert "needs admin" in r.json()["detail"]


def test_me_reports_name_and_roles(make_client: MakeClient) -> None:
    client = make_client(role=None)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    key = create_key(settings, "trainer", name="研修担当_佐藤")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert r.json() == {"name": "研修担当_佐藤", "role": "trainer", "roles": ["staff", "trainer"]}


def test_searches_opens_and_refusals_are_audited(make_client: MakeClient) -> None:
    client = make_client(role=None)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    key = create_key(settings, "staff", name="desk-1")
    headers = {"Authorization": f"Bearer {key}"}
    r = client.get(
        "/api/v1/search", params={"q": "090-1234-5678 の母が物忘れ", "k": 2}, headers=headers
    )
    assert r.status_code == 200
    shown = [f"case:{c['id']}" for c in r.json()["cases"]]
    assert shown
    detail = client.get("/api/v1/cases/C1", headers=headers)
    assert detail.status_code == 200
    related = detail.json()["related"]
    carried = (
        ["case:C1"]
        + [f"faq:{f['id']}" for f in related["faqs"]]
        + [f"case:{c['id']}" for c in related["cases"]]
        + [f"manual:{m['id']}" for m in related["manuals"]]
    )
    assert len(carried) > 1  # the reply carries related items: each is logged
    assert client.get("/api/v1/admin/keys", headers=headers).status_code == 403
    bad = "kb_0badc0de_" + "A" * 43
    assert client.get("/api/v1/departments", headers={"Authorization": f"Bearer {bad}"}).is_error
    audit = AuditLog(settings.audit_path)
    events = list(audit.events())
    audit.close()
    search, opened, forbidden, invalid = events[-4:]
    assert (search.action, search.actor, search.role) == ("search", "desk-1", "staff")
    assert "090-1234-5678" not in search.query
    assert "[電話番号]" in search.query
    assert set(shown) <= set(search.ids)
    assert (opened.action, opened.ids) == ("open", tuple(carried))
    assert (forbidden.action, forbidden.actor) == ("auth.denied", "desk-1")
    assert "/api/v1/admin/keys" in forbidden.detail
    # An id whose secret did not match proves nothing: ids are public, so it is not the actor.
    assert (invalid.action, invalid.actor) == ("auth.denied", "unknown")
    assert "unknown key (id 0badc0de as presented)" in invalid.detail
    assert "A" * 43 not in str(invalid.as_dict())


def test_keys_never_reach_logs_or_responses(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(role=None)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    key = create_key(settings, "staff")
    wrong = "kb_12345678_" + "Z" * 43
    caplog.set_level(logging.DEBUG)
    bodies = []
    for k in (key, wrong):
        for path in ("/api/v1/search?q=住民票", "/api/v1/admin/keys", "/api/v1/cases/nope"):
            r = client.get(path, headers={"Authorization": f"Bearer {k}"})
            bodies.append(r.text + str(r.headers))
    text = caplog.text + "".join(bodies)
    for secret in (key, wrong):
        assert secret[12:] not in text


def test_trainer_tools_use_is_audited(make_client: MakeClient) -> None:
    client = make_client(role=None)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    key = create_key(settings, "trainer", name="trainer-1")
    client.get("/api/v1/trainer/topics", headers={"Authorization": f"Bearer {key}"})
    # The feedback list is a trainer tool outside /api/v1/trainer/ (it lists typed queries).
    listed = client.get(
        "/api/v1/feedback", params={"limit": 7}, headers={"Authorization": f"Bearer {key}"}
    )
    assert listed.status_code == 200
    audit = AuditLog(settings.audit_path)
    events = [e for e in audit.events() if e.action == "trainer.access"]
    audit.close()
    assert [(e.actor, e.role, e.detail) for e in events] == [
        ("trainer-1", "trainer", "GET /api/v1/trainer/topics"),
        ("trainer-1", "trainer", "GET /api/v1/feedback limit=7"),
    ]


def test_trainer_access_records_the_route_never_the_path_as_sent(make_client: MakeClient) -> None:
    # An outside tester filled the never-pruned audit log at 34 MB/s with 60 KB trainer paths,
    # and wrote a citizen's name into it through one.
    client = make_client(role=None)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    key = create_key(settings, "trainer", name="trainer-1")
    auth = {"Authorization": f"Bearer {key}"}
    client.get("/trainer/" + "A" * 20_000, headers=auth)
    client.post("/api/v1/trainer/faqs/山田太郎様090-1234-5678/withdraw", headers=auth)
    audit = AuditLog(settings.audit_path)
    details = [e.detail for e in audit.events() if e.action == "trainer.access"]
    audit.close()
    assert details == ["GET (no such route)", "POST /api/v1/trainer/faqs/{faq_id}/withdraw"]


def test_a_flood_of_invalid_keys_gets_429_but_valid_keys_still_work(
    make_client: MakeClient,
) -> None:
    client = make_client(role=None, reject_delay=0)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    good = create_key(settings, "staff", name="desk-1")
    statuses = []
    for i in range(FAILED_KEYS_BURST + 5):
        bad = f"kb_{i:08x}_" + "A" * 43
        r = client.get("/api/v1/departments", headers={"Authorization": f"Bearer {bad}"})
        statuses.append(r.status_code)
    assert statuses[:FAILED_KEYS_BURST] == [401] * FAILED_KEYS_BURST
    assert set(statuses[FAILED_KEYS_BURST:]) == {429}
    assert int(r.headers["retry-after"]) >= 1
    ok = client.get("/api/v1/departments", headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200
    audit = AuditLog(settings.audit_path)
    denied = [e for e in audit.events() if e.action == "auth.denied"]
    audit.close()
    assert len(denied) == FAILED_KEYS_BURST  # the throttled ones are not written


def test_invalid_keys_write_the_route_not_the_path_and_within_a_budget(
    make_client: MakeClient,
) -> None:
    # The audit log is never pruned: nothing anyone sends in a path may reach it, and all
    # addresses together (an IPv6 /64 each is cheap) may add only so many events a minute.
    client = make_client(role=None, reject_delay=0)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    now = [0.0]
    client.app.state.denied_key_events = _DeniedEvents(  # type: ignore[attr-defined]
        RateLimiter(60.0, 3, clock=lambda: now[0])
    )
    planted = "山田太郎さん090-1234-5678"
    paths = [f"/api/v1/faq/{planted}", f"/api/v1/{planted}", "/api/v1/departments"]
    for i in range(6):
        bad = f"kb_{i:08x}_" + "A" * 43
        r = client.get(paths[i % 3], headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401
    now[0] = 2.0  # two events' worth of budget later
    r = client.get(paths[2], headers={"Authorization": "Bearer kb_000000ff_" + "A" * 43})
    assert r.status_code == 401
    audit = AuditLog(settings.audit_path)
    denied = [e.detail for e in audit.events() if e.action == "auth.denied"]
    audit.close()
    assert denied == [
        "unknown key (id 00000000 as presented) on /api/v1/faq/{faq_id}",
        "unknown key (id 00000001 as presented) on (no such route)",
        "unknown key (id 00000002 as presented) on /api/v1/departments",
        "unknown key (id 000000ff as presented) on /api/v1/departments"
        " (3 more before this one not listed)",
    ]


def test_the_audit_log_survives_a_restart_of_the_app(make_client: MakeClient) -> None:
    first = make_client(role="staff")
    assert first.get("/api/v1/search", params={"q": "住民票"}).status_code == 200
    first.__exit__(None, None, None)  # shut the first app down (closes its audit log)
    second = make_client(role="staff")
    assert second.get("/api/v1/search", params={"q": "児童手当"}).status_code == 200
    settings: Settings = second.app.state.settings  # type: ignore[attr-defined]
    audit = AuditLog(settings.audit_path)
    searches = [e.query for e in audit.events() if e.action == "search"]
    assert audit.verify().ok
    audit.close()
    assert searches == ["住民票", "児童手当"]


# --- the client address: X-Forwarded-For only from a trusted proxy ----------------------------

PROXY = "10.0.0.5"


def _from(client: TestClient, peer: str) -> TestClient:
    """A second client of ``client``'s (already started) app whose socket peer is ``peer``,
    served through uvicorn's middleware as ``kb serve`` configures it."""
    import uvicorn

    from kb.api.proxies import uvicorn_proxy_options

    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    options = uvicorn_proxy_options(settings.forwarded_allow_ips)
    config = uvicorn.Config(client.app, log_config=None, **options)
    config.load()
    return TestClient(config.loaded_app, client=(peer, 40000))


def test_a_new_x_forwarded_for_per_request_does_not_escape_the_key_lockout(
    make_client: MakeClient,
) -> None:
    # The finding: 25 invalid keys, each with a new X-Forwarded-For, were 25 × 401, never 429.
    client = _from(make_client(role=None, reject_delay=0), "127.0.0.1")
    statuses = []
    for i in range(FAILED_KEYS_BURST + 5):
        r = client.get(
            "/api/v1/departments",
            headers={
                "Authorization": f"Bearer kb_{i:08x}_" + "A" * 43,
                "X-Forwarded-For": f"198.51.100.{i}",
            },
        )
        statuses.append(r.status_code)
    assert statuses[:FAILED_KEYS_BURST] == [401] * FAILED_KEYS_BURST
    assert set(statuses[FAILED_KEYS_BURST:]) == {429}


def test_a_new_x_forwarded_for_per_request_does_not_escape_the_public_limit(
    make_client: MakeClient,
) -> None:
    client = _from(
        make_client(public_rate_burst=2, public_rate_per_minute=0.01, reject_delay=0), "127.0.0.1"
    )
    statuses = [
        client.get(
            "/public/v1/faq/suggest",
            params={"q": "住民"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        ).status_code
        for i in range(12)
    ]
    assert statuses == [200] * 8 + [429] * 4  # 2 tokens: 8 suggestions at a quarter each


def test_behind_a_configured_proxy_each_forwarded_client_has_its_own_bucket(
    make_client: MakeClient,
) -> None:
    app_client = make_client(
        role=None,
        forwarded_allow_ips=PROXY,
        public_rate_burst=1,
        public_rate_per_minute=0.01,
        reject_delay=0,
    )
    proxy = _from(app_client, PROXY)

    def suggest(forwarded: str) -> int:
        r = proxy.get(
            "/public/v1/faq/suggest", params={"q": "住民"}, headers={"X-Forwarded-For": forwarded}
        )
        return r.status_code

    assert [suggest("203.0.113.7") for _ in range(5)] == [200] * 4 + [429]
    assert suggest("203.0.113.8") == 200  # another citizen behind the same proxy
    # What the citizen writes in the header itself is left of what the proxy appends: ignored.
    assert suggest("192.0.2.1, 203.0.113.7") == 429
    assert suggest("10.0.0.9, 203.0.113.7") == 429
    # The invalid-key lockout counts per forwarded client too.
    settings: Settings = app_client.app.state.settings  # type: ignore[attr-defined]
    assert settings.forwarded_allow_ips == ["10.0.0.5/32"]
    bad = {"Authorization": "Bearer kb_0badc0de_" + "A" * 43}
    statuses = [
        proxy.get(
            "/api/v1/departments", headers={**bad, "X-Forwarded-For": "203.0.113.66"}
        ).status_code
        for _ in range(FAILED_KEYS_BURST + 1)
    ]
    assert statuses[-1] == 429
    other = proxy.get("/api/v1/departments", headers={**bad, "X-Forwarded-For": "203.0.113.67"})
    assert other.status_code == 401


def test_x_forwarded_for_from_a_client_that_is_not_the_proxy_is_ignored(
    make_client: MakeClient,
) -> None:
    app_client = make_client(
        role=None,
        forwarded_allow_ips=PROXY,
        public_rate_burst=1,
        public_rate_per_minute=0.01,
        reject_delay=0,
    )
    direct = _from(app_client, "203.0.113.50")
    statuses = [
        direct.get(
            "/public/v1/faq/suggest",
            params={"q": "住民"},
            headers={"X-Forwarded-For": f"{PROXY}, 198.51.100.{i}"},
        ).status_code
        for i in range(6)
    ]
    assert statuses == [200] * 4 + [429] * 2


def test_ipv6_clients_are_counted_by_their_64(make_client: MakeClient) -> None:
    app_client = make_client(
        role=None, public_rate_burst=1, public_rate_per_minute=0.01, reject_delay=0
    )
    statuses = [
        _from(app_client, f"2001:db8:1:2::{i:x}")
        .get("/public/v1/faq/suggest", params={"q": "住民"})
        .status_code
        for i in range(1, 7)
    ]
    assert statuses == [200] * 4 + [429] * 2
    other = _from(app_client, "2001:db8:1:3::1").get("/public/v1/faq/suggest", params={"q": "住"})
    assert other.status_code == 200


def test_uvicorn_with_kb_serve_options_finds_the_same_client(make_client: MakeClient) -> None:
    """``kb serve`` lets uvicorn rewrite the client too: the two passes must agree."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from kb.api.proxies import uvicorn_proxy_options

    app_client = make_client(
        role=None,
        forwarded_allow_ips=PROXY,
        public_rate_burst=1,
        public_rate_per_minute=0.01,
        reject_delay=0,
    )
    options = uvicorn_proxy_options([PROXY + "/32"])
    assert options == {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.5/32"]}
    wrapped = ProxyHeadersMiddleware(app_client.app, trusted_hosts=options["forwarded_allow_ips"])
    proxy = TestClient(wrapped, client=(PROXY, 40000))
    headers = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7"}
    statuses = [
        proxy.get("/public/v1/faq/suggest", params={"q": "住民"}, headers=headers).status_code
        for _ in range(5)
    ]
    assert statuses == [200] * 4 + [429]
    assert uvicorn_proxy_options([]) == {"proxy_headers": False}


@pytest.mark.parametrize("workers", [1, 2])
def test_kb_serve_trusts_forwarded_headers_only_from_the_configured_proxies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    import uvicorn

    from kb.cli import main

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    # `kb serve --workers N` writes os.environ for its workers: restore it afterwards.
    # (PROMETHEUS_MULTIPROC_DIR too: left set, every later test's /metrics would read zeros.)
    names = ("KB_DATA_DIR", "KB_MODEL", "KB_THREADS", "KB_WORKERS", "KB_FORWARDED_ALLOW_IPS")
    for name in (*names, "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
        monkeypatch.delenv(name)
    args = ["--data-dir", str(tmp_path), "--model", "fake", "serve", "--workers", str(workers)]
    assert main(args) == 0
    monkeypatch.setenv("KB_FORWARDED_ALLOW_IPS", "10.0.0.5, 10.1.0.0/16")
    assert main(args) == 0
    assert calls[0]["proxy_headers"] is False
    assert "forwarded_allow_ips" not in calls[0]
    assert calls[1]["proxy_headers"] is True
    assert calls[1]["forwarded_allow_ips"] == ["10.0.0.5/32", "10.1.0.0/16"]
    if workers > 1:  # the workers build their settings from the environment
        assert Settings().forwarded_allow_ips == ["10.0.0.5/32", "10.1.0.0/16"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*", "every client"),
        ("10.0.0.5/8", "host bits set"),
        ("proxy.example.jp", "not an IP address or network"),
        ('["10.0.0.5",', "comma-separated"),
    ],
)
def test_forwarded_allow_ips_refuses_what_would_trust_too_much_or_nothing(
    value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Settings(forwarded_allow_ips=value)


def test_forwarded_allow_ips_defaults_to_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KB_FORWARDED_ALLOW_IPS", raising=False)
    assert Settings().forwarded_allow_ips == []
    monkeypatch.setenv("KB_FORWARDED_ALLOW_IPS", '["::1", "192.168.0.0/24"]')
    assert Settings().forwarded_allow_ips == ["::1/128", "192.168.0.0/24"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # not a proxy: header ignored
        ("10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.5", ["198.51.100.1:5555"], "198.51.100.1"),
        ("10.0.0.5", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("10.0.0.5", ["::ffff:198.51.100.1"], "198.51.100.1"),
        ("10.0.0.5", ["1.1.1.1, 198.51.100.1", "10.0.0.6"], "198.51.100.1"),  # two proxies
        ("10.0.0.5", ["10.0.0.7, 10.0.0.6"], "10.0.0.7"),  # all proxies: the first one
        ("10.0.0.5", ["198.51.100.1, garbage"], "10.0.0.5"),  # a garbled hop ends the walk
        ("10.0.0.5", ["", " , "], "10.0.0.5"),
        ("::ffff:10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
    ],
)
def test_the_client_is_the_last_hop_before_the_trusted_proxies(
    peer: str, forwarded: list[str], client: str
) -> None:
    from kb.api.proxies import TrustedProxies

    assert TrustedProxies(["10.0.0.0/29"]).client(peer, forwarded) == client


def test_client_keys() -> None:
    from kb.api.proxies import client_key

    assert client_key("198.51.100.1") == "198.51.100.1"
    assert (
        client_key("2001:db8:1:2::9") == client_key("2001:db8:1:2:ffff::1") == ("2001:db8:1:2::/64")
    )
    assert client_key("::ffff:198.51.100.1") == "198.51.100.1"
    assert client_key("") == "unknown"
    assert client_key("testclient") == "testclient"
