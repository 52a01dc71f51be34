"""Security headers: CSP and no framing on the pages, no caching of API data, nosniff."""

from __future__ import annotations

from tests.api.conftest import MakeClient


def test_pages_get_a_strict_script_policy_and_cannot_be_framed(make_client: MakeClient) -> None:
    r = make_client(role=None).get("/staff")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    # The bookings page keeps the staff key too, and the shells are also files under /static/.
    for path in ("/briefs", "/static/briefs.html", "/static/staff.html", "/trainer"):
        page = make_client(role=None).get(path)
        assert page.status_code == 200, path
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"], path
        assert page.headers["x-frame-options"] == "DENY", path


def test_api_responses_are_not_cached_and_not_sniffed(make_client: MakeClient) -> None:
    client = make_client(role="staff")
    r = client.get("/api/v1/search", params={"q": "住民票"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    denied = make_client(role=None).get("/api/v1/search", params={"q": "住民票"})
    assert denied.headers["cache-control"] == "no-store"
    assert denied.headers["x-content-type-options"] == "nosniff"
    # The public widget keeps its own caching; it is embedded on other sites.
    widget = client.get("/public/widget.js")
    assert "max-age" in widget.headers["cache-control"]
    assert "content-security-policy" not in widget.headers
