"""``/docs`` and ``/redoc`` render in Chromium with every non-local request blocked (LGWAN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Servers

pytestmark = pytest.mark.e2e

LOCAL = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def offline_page(browser: Any) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A page whose every request to another host is aborted (and recorded)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    blocked: list[str] = []
    problems: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if urlsplit(url).hostname in LOCAL or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda exc: problems.append(f"error: {exc}"))
    page.on(
        "console",
        lambda m: (
            problems.append(f"console: {m.text}")
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    yield page, blocked, problems
    context.close()


def test_swagger_ui_lists_the_operations_offline(
    offline_page: tuple[Any, list[str], list[str]], servers: Servers, screenshots: Path
) -> None:
    page, blocked, problems = offline_page
    page.goto(servers.kb + "/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/search" in p for p in paths), paths
    assert any("/public/v1/faq/search" in p for p in paths), paths
    assert len(paths) >= 10
    # The styles loaded too: the operations are laid out, not unstyled text.
    summary = page.locator(".opblock-summary").first
    assert summary.evaluate("e => getComputedStyle(e).display") == "flex"
    page.screenshot(path=str(screenshots / "api-docs-offline.png"))
    assert blocked == [], f"tried to reach the internet: {blocked}"
    assert problems == []


def test_redoc_renders_offline(
    offline_page: tuple[Any, list[str], list[str]], servers: Servers
) -> None:
    page, blocked, problems = offline_page
    page.goto(servers.kb + "/redoc")
    page.wait_for_selector(".menu-content")
    page.wait_for_selector("h1")
    assert "kb" in page.locator("h1").first.inner_text()
    # Each operation's path is in its (collapsed) endpoint box.
    page.wait_for_function("document.body.textContent.includes('/api/v1/search')")
    assert page.locator(".menu-content li").count() >= 10
    assert blocked == [], f"tried to reach the internet: {blocked}"
    # ReDoc always draws the Redocly logo from its CDN (menu footer); the page's CSP stops it
    # before any request is made, and ReDoc hides the image. Nothing else may be refused.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [p for p in problems if logo not in p] == []
