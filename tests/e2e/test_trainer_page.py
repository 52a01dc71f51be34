"""The trainer page in Chromium: login, server-rendered SVG charts, topics, FAQ candidates."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kb.security.keys import KeyStore
from kb.settings import Settings
from tests.e2e.conftest import Servers, login

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def trainer_key(servers: Servers) -> str:
    keys = KeyStore(Settings(data_dir=servers.data_dir).keys_path)
    try:
        _, secret = keys.create("e2e-trainer", "trainer")
    finally:
        keys.close()
    return secret


@pytest.fixture
def page(browser: Any, servers: Servers, trainer_key: str) -> Iterator[Any]:
    # Searches the widget would make, so the zero-hit chart has data.
    for q in ("粗大ごみの出し方", "宇宙旅行の申し込み", "犬の登録"):
        url = servers.kb + "/public/v1/faq/search?q=" + urllib.parse.quote(q)
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    p = context.new_page()
    p.set_default_timeout(60_000)
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(servers.kb + "/trainer")
    login(p, trainer_key)
    yield p
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def test_dashboard_charts_topics_and_candidates(
    page: Any, servers: Servers, trainer_key: str, screenshots: Path
) -> None:
    page.wait_for_selector("#chart-topic-sizes")
    # The three charts are drawn (inline SVG from the server), with real size on screen.
    for chart in ("#chart-topic-sizes", "#chart-monthly", "#chart-zero-hit"):
        box = page.locator(chart).bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 100
    bars = page.locator("#chart-topic-sizes g.bar")
    rows = page.locator("table.topics tbody tr")
    assert bars.count() == rows.count() > 1
    # The first bar is the largest topic, labelled like the first row of the table.
    first_value = int(bars.first.locator("text.value").text_content() or "")
    assert first_value == int(rows.first.locator("td.num").first.inner_text())
    lines = page.locator("#chart-zero-hit g.series")
    assert lines.count() == 2
    assert "0件" in (page.locator("#chart-zero-hit").text_content() or "")
    assert rows.first.locator("li").count() == 3  # representative cases
    page.screenshot(path=str(screenshots / "trainer.png"), full_page=False)

    # A gap topic becomes a draft FAQ entry, listed unpublished.
    page.locator("button.draft").first.click()
    item = page.locator("#candidates li.draft").first
    item.wait_for()
    assert "下書き" in item.inner_text()
    assert item.locator("input[name=question]").input_value().strip()
    assert item.locator("textarea").input_value().strip()

    # Per department: the dashboard reloads and the manual draft can be downloaded.
    page.select_option("#department", "市民課")
    page.wait_for_selector("#topics h2:has-text('市民課')")
    assert page.locator("#manual-md").is_enabled()
    with page.expect_download() as download:
        page.locator("#manual-md").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# 市民課 相談対応マニュアル（下書き）")

    # The key travelled in the header only: the API agrees the draft exists.
    req = urllib.request.Request(
        servers.kb + "/api/v1/trainer/candidates",
        headers={"Authorization": "Bearer " + trainer_key},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        listed = json.loads(r.read())["candidates"]
    assert [c["status"] for c in listed] == ["draft"]
