"""A deleted FAQ leaves the citizen widget: its suggestions and its results, in Chromium.

A server of its own (the session's demo server is shared by the other browser tests, and this
one deletes from its data).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kb.security.keys import KeyStore
from kb.settings import Settings
from tests.e2e.conftest import free_port, running
from tests.e2e.demo_index import FAKE_MODEL, build_demo_index

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Site:
    kb: str
    host_page: str
    admin_key: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("e2e-delete")
    build_demo_index(data_dir)
    kb_port, page_port = free_port(), free_port()
    kb_url, page_origin = f"http://127.0.0.1:{kb_port}", f"http://127.0.0.1:{page_port}"
    settings = Settings(
        data_dir=data_dir,
        model=FAKE_MODEL,
        public_cors_origins=[page_origin],
        public_rate_burst=1000,
    )
    keys = KeyStore(settings.keys_path)
    _, admin_key = keys.create("e2e-admin", "admin")
    keys.close()
    with running(settings, kb_port, page_port):
        yield Site(kb_url, page_origin + "/city.html", admin_key)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def _delete(site: Site, doc_id: str) -> Any:
    request = urllib.request.Request(
        f"{site.kb}/api/v1/admin/documents/{doc_id}",
        method="DELETE",
        headers={"Authorization": f"Bearer {site.admin_key}"},
    )
    with urllib.request.urlopen(request, timeout=120) as r:
        return json.loads(r.read())


def _offered(page: Any, text: str) -> list[str]:
    """The widget's suggestions for ``text``, typed as a resident would."""
    combo = page.locator("[role=combobox]")
    combo.fill("")
    combo.focus()
    page.keyboard.type(text, delay=20)
    page.wait_for_selector("[role=listbox] [role=option]")
    texts: list[str] = page.locator("[role=option]").all_inner_texts()
    return texts


def _results(page: Any, text: str) -> list[str]:
    """The questions the widget shows after searching ``text`` (Escape, then Enter)."""
    combo = page.locator("[role=combobox]")
    combo.fill(text)
    combo.focus()
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_selector("details summary")
    summaries: list[str] = page.locator("details summary").all_inner_texts()
    return summaries


def test_a_deleted_faq_leaves_the_widgets_suggestions_and_results(browser: Any, site: Site) -> None:
    found = _get(f"{site.kb}/public/v1/faq/suggest?q=" + urllib.request.quote("粗大ごみ"))
    assert len(found["suggestions"]) >= 2
    doomed = found["suggestions"][0]
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(site.host_page)
        page.wait_for_selector("[role=combobox]")
        assert doomed["question"] in _offered(page, "粗大ごみ")
        assert doomed["question"] in _results(page, doomed["question"])

        report = _delete(site, f"faq:{doomed['id']}")
        assert report["removed"] == [f"faq:{doomed['id']}"]

        page.reload()
        page.wait_for_selector("[role=combobox]")
        offered = _offered(page, "粗大ごみ")
        assert doomed["question"] not in offered
        assert offered  # the other entries about it are still offered
        assert doomed["question"] not in _results(page, doomed["question"])
    finally:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"
