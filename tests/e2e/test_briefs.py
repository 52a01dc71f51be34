"""Briefs for a day of booked consultations (事前予約) in Chromium: 10 bookings, 10 briefs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kb.security.audit import AuditLog
from kb.settings import Settings
from tests.e2e.conftest import Servers, login
from tests.e2e.demo_index import FAKE_MODEL, REPO

pytestmark = pytest.mark.e2e

DEMO_DAY = REPO / "eval" / "bookings" / "demo-day.csv"


def test_day_of_ten_bookings_gives_ten_briefs(
    browser: Any, servers: Servers, screenshots: Path
) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Reachable from the console, logged in once.
    page.goto(servers.kb + "/staff")
    login(page, servers.staff_key)
    page.click("#briefs-link")
    page.wait_for_url("**/briefs")
    page.wait_for_selector("#bookings-file")
    page.set_input_files("#bookings-file", str(DEMO_DAY))
    page.click("#bookings-form button[type=submit]")
    page.wait_for_selector("article.brief >> nth=9")
    assert page.locator("article.brief").count() == 10
    assert page.locator(".day-summary tbody tr").count() == 10
    assert "10 件の事前準備" in page.locator("#day-status").inner_text()
    text = page.locator("#day").inner_text()
    # The brief of the first booking: the death's procedures and what to bring.
    first = page.locator("article.brief").first.inner_text()
    assert "死亡届・火葬許可申請" in first
    assert "死亡診断書" in first
    assert "合同・リモート相談に招く課" in text
    # The booking system's 氏名 column is never read, and says so.
    assert "桜川 一郎" not in text
    assert "氏名" in page.locator("#day-errors").inner_text()
    page.emulate_media(media="print")
    assert page.locator("#bookings-form").is_hidden()
    page.pdf(path=str(screenshots / "briefs-day.pdf"), format="A4")
    page.emulate_media(media="screen")
    page.screenshot(path=str(screenshots / "briefs-day.png"))
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"
    # Every brief was audited, its topic masked like any search query.
    audit = AuditLog.from_settings(Settings(data_dir=servers.data_dir, model=FAKE_MODEL))
    try:
        events = [e for e in audit.events() if e.action == "brief"]
    finally:
        audit.close()
    assert len(events) >= 10
