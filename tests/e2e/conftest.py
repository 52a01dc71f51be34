"""A real kb server over the demo corpus, a plain host page, and Debian's Chromium.

Nothing here skips: without ``/usr/bin/chromium`` or the ``playwright`` package the tests fail
with a message saying how to install them (``scripts/test.sh`` installs both).
"""

from __future__ import annotations

import contextlib
import http.server
import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from kb.api.app import create_app
from kb.security.keys import KeyStore
from kb.settings import Settings
from tests.e2e.demo_index import FAKE_MODEL, REPO, build_demo_index

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "docs" / "screenshots"
CONTACT = {
    "contact_name": "桜川市役所 総合相談窓口",
    "contact_phone": "099-555-1000",
    "contact_hours": "平日 8:30～17:15",
    "contact_url": "https://www.city.sakuragawa.example.jp/soudan/",
    "contact_form_url": "https://www.city.sakuragawa.example.jp/toiawase/",
}
"""The city's general contact, offered when the search finds no answer."""

# A city page with hostile styles: none of them may reach into the widget.
HOST_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>桜川市 くらしの情報</title>
<style>
  * {{ color: rgb(255, 0, 0) !important; font-family: serif; letter-spacing: 3px; }}
  body {{ margin: 0; padding: 12px; background: #fffbe6; font-size: 18px; }}
  input {{ border: 6px dotted green; display: inline; }}
  [role=option], li {{ display: none; }}
  h2 {{ font-size: 40px; }}
</style></head>
<body>
<a href="#main">本文へ</a>
<h1>桜川市 くらしの情報</h1>
<input id="host-input" placeholder="ホストページの入力欄">
<main id="main"><h2>よくある質問</h2>
<script src="{kb}/public/widget.js" data-kb-endpoint="{kb}"></script>
</main></body></html>
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Servers:
    kb: str
    """Base URL of the kb service."""
    host_page: str
    """URL of the plain city page embedding the widget (another origin)."""
    data_dir: Path
    staff_key: str = ""
    """A staff API key created for the session (log in with :func:`login`)."""
    access_log: tuple[list[str], ...] = ()
    """Lines uvicorn's access log wrote (one list, shared and growing)."""


def _wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"kb at {url} did not become ready")


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def login(page: Any, key: str) -> None:
    """Log in through the console's login form (as a counsellor would) and wait for it."""
    page.wait_for_selector("#kb-login[open]")
    page.fill("#kb-login-key", key)
    page.click("#kb-login button[type=submit]")
    page.wait_for_selector("#kb-login", state="hidden")


@contextlib.contextmanager
def console_page(context: Any, servers: Servers, *, timeout_ms: int = 10_000) -> Iterator[Any]:
    """The staff console in a new page of ``context``: logged in with ``servers``' staff key
    and loaded (the department filter filled, the focus in the search box). A JavaScript error
    on it fails the test."""
    p = context.new_page()
    p.set_default_timeout(timeout_ms)
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(servers.kb + "/staff")
    login(p, servers.staff_key)
    p.wait_for_selector("#department-filter option:nth-child(2)", state="attached")
    # Typing goes where the focus is: the console puts it in the search box once logged in.
    p.wait_for_function("() => document.activeElement && document.activeElement.id === 'q'")
    yield p
    assert errors == [], f"JavaScript errors: {errors}"


@contextlib.contextmanager
def running(
    settings: Settings,
    kb_port: int,
    page_port: int,
    *,
    after_config: Callable[[], None] | None = None,
) -> Iterator[None]:
    """kb (``create_app(settings)`` in uvicorn) on ``kb_port`` and the city's page
    (:data:`HOST_PAGE`, at any path) on ``page_port``, ready, until the block ends.

    ``after_config`` runs once uvicorn has configured logging, before it starts (a handler set
    earlier would be replaced)."""
    kb_url = f"http://127.0.0.1:{kb_port}"
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=kb_port, log_level="warning"
    )
    if after_config is not None:
        after_config()
    server = uvicorn.Server(config)
    kb_thread = threading.Thread(target=server.run, daemon=True)
    kb_thread.start()
    page = HOST_PAGE.format(kb=kb_url).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    host = http.server.ThreadingHTTPServer(("127.0.0.1", page_port), Handler)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    try:
        _wait_ready(kb_url)
        yield
    finally:
        host.shutdown()
        server.should_exit = True
        kb_thread.join(10)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    build_demo_index(data_dir)
    kb_port, page_port = free_port(), free_port()
    kb_url = f"http://127.0.0.1:{kb_port}"
    page_origin = f"http://127.0.0.1:{page_port}"
    settings = Settings(
        data_dir=data_dir,
        model=FAKE_MODEL,
        public_cors_origins=[page_origin],
        public_rate_burst=1000,
        **CONTACT,
    )
    keys = KeyStore(settings.keys_path)
    _, staff_key = keys.create("e2e-staff", "staff")
    keys.close()
    # Keep uvicorn's access log on (into a list) to prove keys never reach it.
    access_lines: list[str] = []

    def capture_access_log() -> None:
        access = logging.getLogger("uvicorn.access")
        access.handlers = [_ListHandler(access_lines)]
        access.setLevel(logging.INFO)
        access.propagate = False

    with running(settings, kb_port, page_port, after_config=capture_access_log):
        yield Servers(
            kb=kb_url,
            host_page=page_origin + "/city.html",
            data_dir=data_dir,
            staff_key=staff_key,
            access_log=(access_lines,),
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Per module, not per session: Playwright's sync API holds an asyncio loop open in the main
    # thread while it runs, and Ray Serve's sync handles (tests/scale) refuse to run inside one.
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `apt-get install -y chromium` (scripts/test.sh does)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[dev]'")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
