"""Every route of the app enforces its role: 401 without a key, 403 below it, admitted at it.

The routes are enumerated from ``app.routes``, so routes added later (trainer pages, new API)
are covered without touching this file. The expected role comes from the issue's table of
path prefixes, independently of :func:`kb.api.access.required_role`, and from the roles the
route itself declares with ``require_role``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from kb.api.access import FAILED_KEYS_BURST, required_role
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
}


def issue_role(path: str) -> str | None:
    """The issue's classification by path prefix (``None`` = public)."""
    if path in PUBLIC_PAGES or path.startswith(("/public/", "/static")):
        return None
    if path.startswith(("/api/v1/admin/", "/admin/")):
        return "admin"
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
    assert client.get("/api/v1/cases/C1", headers=headers).status_code == 200
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
    assert (opened.action, opened.ids) == ("open", ("case:C1",))
    assert (forbidden.action, forbidden.actor) == ("auth.denied", "desk-1")
    assert "/api/v1/admin/keys" in forbidden.detail
    assert (invalid.action, invalid.actor) == ("auth.denied", "key:0badc0de")
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
    audit = AuditLog(settings.audit_path)
    events = [e for e in audit.events() if e.action == "trainer.access"]
    audit.close()
    assert [(e.actor, e.role, e.detail) for e in events] == [
        ("trainer-1", "trainer", "GET /api/v1/trainer/topics")
    ]


def test_a_flood_of_invalid_keys_gets_429_but_valid_keys_still_work(
    make_client: MakeClient,
) -> None:
    client = make_client(role=None)
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
