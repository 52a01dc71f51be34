"""kb under ``/faq/`` behind a real reverse proxy that strips the prefix, in Chromium.

The proxy (below: the stdlib, like nginx's ``location /faq/ { proxy_pass http://kb/; }``)
serves nothing outside ``/faq/``, passes redirects through unchanged (no ``proxy_redirect``)
and adds ``X-Forwarded-For``. Any absolute URL left in a page, a script or a redirect would
leave the sub-path and 404: every request the browser makes is checked to stay under it.
"""

from __future__ import annotations

import http.client
import http.server
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from kb.api.app import create_app
from kb.security.keys import KeyStore
from kb.settings import Settings
from tests.e2e.conftest import CONTACT, Servers, _wait_ready, free_port, login
from tests.e2e.demo_index import FAKE_MODEL

pytestmark = pytest.mark.e2e

PREFIX = "/faq"
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


@dataclass
class Proxy:
    url: str
    """The public base, ``http://127.0.0.1:PORT/faq``."""
    outside: list[str] = field(default_factory=list)
    """Paths asked for outside the sub-path (each one a bug)."""
    upstream_paths: list[str] = field(default_factory=list)


def start_proxy(upstream_port: int) -> tuple[Proxy, http.server.ThreadingHTTPServer]:
    port = free_port()
    proxy = Proxy(url=f"http://127.0.0.1:{port}{PREFIX}")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            if not (self.path == PREFIX or self.path.startswith(PREFIX + "/")):
                proxy.outside.append(self.path)
                self._reply(404, [("Content-Type", "text/plain")], b"outside /faq/")
                return
            upstream = self.path[len(PREFIX) :] or "/"
            proxy.upstream_paths.append(upstream)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["X-Forwarded-For"] = self.client_address[0]
            headers["X-Forwarded-Proto"] = "http"
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            try:
                conn.request(self.command, upstream, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                self._reply(resp.status, kept, data)
            finally:
                conn.close()

        def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return proxy, server


@dataclass(frozen=True)
class Behind:
    proxy: Proxy
    staff_key: str
    trainer_key: str
    city_page: str
    """A page of the city's own site (another origin) embedding the widget from the proxy."""


def start_city_site(page: list[bytes]) -> tuple[str, http.server.ThreadingHTTPServer]:
    """The city's web server: serves ``page[0]`` at ``/faq.html``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page[0] if self.path == "/faq.html" else b"not found"
            self.send_response(200 if self.path == "/faq.html" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


@pytest.fixture(scope="module")
def behind(servers: Servers) -> Iterator[Behind]:
    """A kb configured as the operations guide says (KB_ROOT_PATH, trusted proxy), proxied."""
    city_html: list[bytes] = [b""]
    city, city_server = start_city_site(city_html)
    settings = Settings(
        data_dir=servers.data_dir,
        model=FAKE_MODEL,
        root_path=PREFIX,
        forwarded_allow_ips=["127.0.0.1"],
        public_cors_origins=[city],
        public_rate_burst=1000,
        **CONTACT,
    )
    keys = KeyStore(settings.keys_path)
    try:
        _, trainer_key = keys.create("e2e-proxy-trainer", "trainer")
    finally:
        keys.close()
    kb_port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=kb_port, log_level="warning")
    )
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_ready(f"http://127.0.0.1:{kb_port}")
    proxy, proxy_server = start_proxy(kb_port)
    city_html[0] = (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>市のページ</title>'
        f'</head><body><h1>よくある質問</h1><script src="{proxy.url}/public/widget.js" '
        f'data-kb-endpoint="{proxy.url}"></script></body></html>'
    ).encode()
    try:
        yield Behind(proxy, servers.staff_key, trainer_key, city + "/faq.html")
    finally:
        city_server.shutdown()
        proxy_server.shutdown()
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def page(browser: Any, behind: Behind) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    p = context.new_page()
    p.set_default_timeout(20_000)
    errors: list[str] = []
    requested: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.on("request", lambda r: requested.append(r.url))
    yield p
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"
    ours = (behind.proxy.url + "/", behind.city_page, "blob:", "data:")
    strays = [u for u in requested if not u.startswith(ours)]
    assert strays == [], f"requests outside {PREFIX}/: {strays}"
    # The browser asks the origin's root for /favicon.ico by itself (no page names it).
    assert [path for path in behind.proxy.outside if path != "/favicon.ico"] == []


def test_console_login_and_search_under_the_sub_path(page: Any, behind: Behind) -> None:
    # The address with a trailing slash redirects (relatively) to the console.
    page.goto(behind.proxy.url + "/staff/")
    assert page.url == behind.proxy.url + "/staff"
    login(page, behind.staff_key)
    page.wait_for_selector("#department-filter option:nth-child(2)", state="attached")
    page.locator("#q").click()
    page.keyboard.type("粗大ごみの出し方", delay=20)
    page.wait_for_selector("#pane-faqs .item")
    assert page.locator("#pane-faqs .item").count() >= 1
    # The detail view loads through the proxy too.
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail-title:has-text('FAQ')")
    assert any(path.startswith("/api/v1/search?") for path in behind.proxy.upstream_paths)


def test_trainer_page_under_the_sub_path(page: Any, behind: Behind) -> None:
    page.goto(behind.proxy.url + "/trainer/")
    assert page.url == behind.proxy.url + "/trainer"
    login(page, behind.trainer_key)
    page.wait_for_selector("#chart-topic-sizes", timeout=60_000)
    assert page.locator("#dashboard").get_attribute("aria-busy") != "true"
    # The dashboard's links to representative cases open the console under the sub-path.
    link = page.locator("#dashboard a[href*='#case/']").first
    assert link.evaluate("a => a.href").startswith(behind.proxy.url + "/staff#case/")


def test_widget_demo_under_the_sub_path(page: Any, behind: Behind) -> None:
    page.goto(behind.proxy.url + "/public/widget-demo")
    page.wait_for_selector("[role=combobox]")
    page.locator("[role=combobox]").click()
    page.keyboard.type("粗大ごみ", delay=30)
    page.wait_for_selector("[role=listbox] [role=option]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator("details[open]").first.wait_for()
    assert "お問い合わせ先" in page.locator("details[open]").first.inner_text()


def test_widget_on_the_city_site_with_a_sub_path_endpoint(page: Any, behind: Behind) -> None:
    """Embedded on another site, with ``data-kb-endpoint`` naming the sub-path."""
    page.goto(behind.city_page)
    page.wait_for_selector("[role=combobox]")
    page.locator("[role=combobox]").click()
    page.keyboard.type("粗大ごみの出し方", delay=20)
    page.keyboard.press("Enter")
    page.locator("details").first.wait_for()
    assert any(p.startswith("/public/v1/faq/search?") for p in behind.proxy.upstream_paths)


def test_api_docs_try_it_out_goes_through_the_proxy(page: Any, behind: Behind) -> None:
    page.goto(behind.proxy.url + "/docs")
    block = page.locator("#operations-health-healthz_healthz_get")
    block.locator(".opblock-summary").click()
    page.locator("#operations-health-healthz_healthz_get button.try-out__btn").click()
    page.locator("#operations-health-healthz_healthz_get button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert "/healthz" in behind.proxy.upstream_paths
