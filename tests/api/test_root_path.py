"""Behind a reverse proxy's sub-path: relative links and redirects, ``KB_ROOT_PATH``."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from pydantic import ValidationError

from kb.api.rootpath import relative_reference, strip_prefix
from kb.settings import Settings
from tests.api.conftest import MakeClient

STATIC = Path(__file__).resolve().parents[2] / "kb" / "api" / "static"


@pytest.mark.parametrize(
    ("base", "location", "expected"),
    [
        ("/trainer/", "/trainer", "../trainer"),
        ("/staff/", "/staff", "../staff"),
        ("/static", "/static/", "static/"),
        ("/a/b/c", "/a/x", "../x"),
        ("/a/b/c", "/a/b/d?q=1#f", "d?q=1#f"),
        ("/x/", "/x/", "./"),
        ("/", "/a:b", "./a:b"),
        ("/trainer/", "https://elsewhere.example/", "https://elsewhere.example/"),
        ("/trainer/", "../already", "../already"),
    ],
)
def test_relative_reference(base: str, location: str, expected: str) -> None:
    assert relative_reference(base, location) == expected


@pytest.mark.parametrize(
    ("base", "location"),
    [("/trainer/", "/trainer"), ("/static", "/static/"), ("/a/b/c", "/q/r/s?x=1"), ("/", "/y")],
)
def test_relative_reference_resolves_to_the_same_place_under_any_prefix(
    base: str, location: str
) -> None:
    rel = relative_reference(base, location)
    for prefix in ("", "/faq", "/soudan/faq"):
        assert urljoin("https://city.example.jp" + prefix + base, rel) == (
            "https://city.example.jp" + prefix + location
        )


def test_strip_prefix() -> None:
    assert strip_prefix("/faq/staff", "/faq") == "/staff"
    assert strip_prefix("/faq", "/faq") == "/"
    assert strip_prefix("/faqs/staff", "/faq") is None
    assert strip_prefix("/staff", "/faq") is None
    assert strip_prefix("/staff", "") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", ""), ("/", ""), ("faq", "/faq"), ("/faq/", "/faq"), (" /soudan//faq ", "/soudan/faq")],
)
def test_root_path_setting_is_normalized(value: str, expected: str) -> None:
    assert Settings(root_path=value).root_path == expected


@pytest.mark.parametrize("value", ["https://city.example.jp/faq", "/faq?x=1", "/../faq", "/a b"])
def test_root_path_setting_refuses_what_is_not_a_path(value: str) -> None:
    with pytest.raises(ValidationError, match="root_path"):
        Settings(root_path=value)


def test_root_path_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_ROOT_PATH", "/faq/")
    assert Settings().root_path == "/faq"


ABSOLUTE_URL = re.compile(
    r"""(?:href|src|action)\s*=\s*["']/(?!/)|(?:\bapi|fetch|request)\(\s*["'`]/(?!/)"""
)
"""A root-relative link or request (the widget's ``getJSON(path)`` adds its endpoint first)."""


@pytest.mark.parametrize(
    "name", sorted(p.name for p in STATIC.iterdir() if p.suffix in (".html", ".js"))
)
def test_static_pages_and_scripts_use_relative_urls(name: str) -> None:
    """An absolute path (``/static/...``, ``api("/api/...")``) would leave a proxy's sub-path."""
    text = (STATIC / name).read_text(encoding="utf-8")
    code = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith(("*", "//", "/*"))
    )
    assert ABSOLUTE_URL.findall(code) == []


def test_redirects_are_relative(make_client: MakeClient) -> None:
    client = make_client(role=None)
    for path, target in (("/staff/", "/staff"), ("/trainer/", "/trainer")):
        r = client.get(path, follow_redirects=False)
        assert r.status_code in (301, 302, 307, 308), path
        location = r.headers["location"]
        assert not location.startswith("/"), (path, location)
        # The browser resolves it against the address it used, sub-path and all.
        assert urljoin("https://city.example.jp/faq" + path, location) == (
            "https://city.example.jp/faq" + target
        )


def test_pages_are_served_when_the_proxy_strips_the_prefix(make_client: MakeClient) -> None:
    client = make_client(role=None, root_path="/faq")
    page = client.get("/staff")
    assert page.status_code == 200
    assert 'href="static/console.css"' in page.text
    assert client.get("/static/console.js").status_code == 200


def test_a_proxy_that_keeps_the_prefix_reaches_the_same_routes(make_client: MakeClient) -> None:
    client = make_client(role="staff", root_path="/faq")
    assert client.get("/faq/staff").status_code == 200
    assert client.get("/faq/static/console.js").status_code == 200
    assert client.get("/faq/readyz").json()["status"] == "ready"
    r = client.get("/faq/api/v1/departments")
    assert r.status_code == 200, r.text
    # The role table still applies to the path without the prefix.
    anonymous = make_client(role=None, root_path="/faq")
    assert anonymous.get("/faq/api/v1/departments").status_code == 401
    assert anonymous.get("/faq/public/widget.js").status_code == 200
    redirect = anonymous.get("/faq/trainer/", follow_redirects=False)
    assert urljoin("https://city.example.jp/faq/trainer/", redirect.headers["location"]) == (
        "https://city.example.jp/faq/trainer"
    )


def test_openapi_names_the_sub_path_as_its_server(make_client: MakeClient) -> None:
    plain = make_client(role=None).get("/openapi.json").json()
    assert "servers" not in plain or plain["servers"] == [{"url": "/"}]
    spec = make_client(role=None, root_path="/faq").get("/openapi.json").json()
    assert spec["servers"] == [{"url": "/faq"}]
    assert "/api/v1/search" in spec["paths"]


def test_widget_finds_its_endpoint_from_its_own_address() -> None:
    """Without data-kb-endpoint the widget calls where its script came from, sub-path included."""
    widget = (STATIC / "widget.js").read_text(encoding="utf-8")
    assert "new URL(script.src).origin" not in widget
    assert r"replace(/\/(public|static)\/widget\.js$/" in widget
    demo = (STATIC / "widget-demo.html").read_text(encoding="utf-8")
    assert '<script src="widget.js"></script>' in demo
