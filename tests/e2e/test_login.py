"""Console login in Chromium: the form, the key in sessionStorage, never in URLs or logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kb.security.audit import AuditLog
from kb.security.keys import KeyStore
from tests.e2e.conftest import Servers, login

pytestmark = pytest.mark.e2e


def test_login_form_gates_the_console_and_keeps_the_key_out_of_urls_and_logs(
    browser: Any, servers: Servers, screenshots: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    urls: list[str] = []
    auth_headers: list[str] = []

    def seen(request: Any) -> None:
        urls.append(request.url)
        if "/api/v1/" in request.url:
            auth_headers.append(request.headers.get("authorization", ""))

    page.on("request", seen)
    page.goto(servers.kb + "/staff")

    # Before logging in: the form is up and no data has been loaded.
    page.wait_for_selector("#kb-login[open]")
    assert page.locator("#department-filter option").count() == 1
    page.screenshot(path=str(screenshots / "staff-login.png"))

    # A wrong key is refused with a message and is not kept.
    page.fill("#kb-login-key", "kb_00000000_" + "x" * 43)
    page.click("#kb-login button[type=submit]")
    page.wait_for_selector("#kb-login-error:has-text('正しくない')")
    assert page.evaluate("sessionStorage.getItem('kb.apiKey')") is None

    key = servers.staff_key
    page.fill("#kb-login-key", "")
    login_then_search(page, key)

    # The user badge names the key; the key is in this tab's sessionStorage only.
    assert "e2e-staff" in page.locator("[data-kb-user]").inner_text()
    assert page.evaluate("sessionStorage.getItem('kb.apiKey')") == key
    assert page.evaluate("localStorage.length") == 0
    assert context.cookies() == []

    # Sent only as a header: not in any URL the page requested, nor in the page's own URL.
    assert f"Bearer {key}" in auth_headers
    assert all(key not in u for u in urls)
    assert key not in page.url
    # Nor in uvicorn's access log (which logs request lines) nor the audit log.
    lines = servers.access_log[0]
    assert any("/api/v1/search" in line for line in lines)
    assert all(key not in line for line in lines)
    assert all(key[12:] not in line for line in lines)
    audit = AuditLog(servers.data_dir / "audit.sqlite")
    events = list(audit.events())
    audit.close()
    assert any(e.action == "search" and e.actor == "e2e-staff" for e in events)
    assert all(key[12:] not in str(e.as_dict()) for e in events)

    # Logging out forgets the key and brings the form back.
    page.click("#kb-logout")
    page.wait_for_selector("#kb-login[open]")
    assert page.evaluate("sessionStorage.getItem('kb.apiKey')") is None
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def login_then_search(page: Any, key: str) -> None:
    login(page, key)
    page.wait_for_selector("#department-filter option:nth-child(2)", state="attached")
    page.locator("#q").click()
    page.keyboard.type("粗大ごみの出し方")
    page.wait_for_selector("#pane-faqs .item")


def test_revoked_key_sends_the_console_back_to_login(browser: Any, servers: Servers) -> None:
    keys = KeyStore(servers.data_dir / "keys.sqlite")
    _, key = keys.create("e2e-temp", "staff")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(servers.kb + "/staff")
    login_then_search(page, key)
    keys.revoke("e2e-temp")
    keys.close()
    page.locator("#q").fill("")
    page.keyboard.type("児童手当")
    page.wait_for_selector("#kb-login[open]")
    assert "もう一度ログイン" in page.locator("#kb-login-error").inner_text()
    assert page.evaluate("sessionStorage.getItem('kb.apiKey')") is None
    context.close()


@pytest.mark.parametrize(("path", "first"), [("/staff", "q"), ("/briefs", "bookings-file")])
def test_after_login_the_page_starts_with_the_dialog_closed_and_the_focus_on_its_first_field(
    browser: Any, servers: Servers, path: str, first: str
) -> None:
    """kbAuth.ready resolves once the login dialog has closed: while the modal was open the page
    behind it was inert, so the page's first step (the focus in its first field) was lost and
    a counsellor's typing went nowhere (the staff page only got it back when its autofocus had
    won the race with the login form)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(servers.kb + path)
    page.wait_for_selector("#kb-login[open]")
    page.evaluate(  # a function returning nothing: evaluate would wait for the promise
        "() => { window.kbAuth.ready.then(() => {"
        " window.loginOpenAtReady = document.querySelector('#kb-login').open; }); }"
    )
    login(page, servers.staff_key)
    page.wait_for_function("() => window.loginOpenAtReady !== undefined")
    assert page.evaluate("window.loginOpenAtReady") is False
    page.wait_for_function(f"() => document.activeElement.id === {first!r}")
    context.close()
