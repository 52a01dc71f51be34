"""``/docs`` and ``/redoc`` load nothing from the internet (LGWAN has none)."""

from __future__ import annotations

import re

import pytest

from kb.api import docs
from tests.api.conftest import MakeClient

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_files(make_client: MakeClient, path: str) -> None:
    r = make_client(role=None).get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert EXTERNAL.findall(r.text) == []
    assert "cdn" not in r.text.lower()
    assert "fonts.googleapis" not in r.text
    # Relative: the pages work under a reverse proxy's sub-path too.
    links = re.findall(r"""(?:src|href|spec-url)="([^"]+)\"""", r.text)
    assert links, r.text
    assert all(not link.startswith("/") for link in links), links
    # No inline script: the page runs under a CSP without 'unsafe-inline' scripts.
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text) is None
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp


def test_docs_assets_come_from_the_installed_package(make_client: MakeClient) -> None:
    client = make_client(role=None)
    folder = docs.asset_dir()
    assert folder.parent.name == docs.ASSET_PACKAGE
    for name, media_type in docs.ASSETS.items():
        r = client.get(f"{docs.ASSET_PREFIX}/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].split(";")[0] == media_type.split(";")[0]
        assert r.content == (folder / name).read_bytes()
    assert b"SwaggerUIBundle" in client.get(f"{docs.ASSET_PREFIX}/swagger-ui-bundle.js").content
    init = client.get("/static/swagger-init.js")
    assert init.status_code == 200
    assert "SwaggerUIBundle(" in init.text


@pytest.mark.parametrize(
    "name", ["core.py", "..%2Fcore.py", "%2e%2e/%2e%2e/settings.py", "swagger-ui.css.map"]
)
def test_only_the_listed_asset_files_are_served(make_client: MakeClient, name: str) -> None:
    r = make_client(role=None).get(f"{docs.ASSET_PREFIX}/{name}")
    assert r.status_code in (401, 404)
    assert b"import" not in r.content


def test_openapi_document_is_what_the_docs_read(make_client: MakeClient) -> None:
    client = make_client(role=None)
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == client.app.title  # type: ignore[attr-defined]
    assert "/api/v1/search" in spec["paths"]
    assert "/metrics" not in spec["paths"]
    assert client.app.title in client.get("/docs").text  # type: ignore[attr-defined]
