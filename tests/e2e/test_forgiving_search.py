"""Search that forgives how citizens type, and feedback that stays local (issue 16), in Chromium:
an unconverted 「じゅうみんひょう」 typed on a phone suggests and answers 住民票 questions, and one
「正しい担当課」 vote moves its own question only, not an unrelated one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Servers, console_page

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
VOTED = "母が認知症で一人暮らしが心配"
UNRELATED = "道路に穴があいていて危ない"


@pytest.fixture
def widget(browser: Any, servers: Servers) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="ja-JP", has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(servers.host_page)
    page.wait_for_selector("[role=combobox]")
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def console(browser: Any, servers: Servers) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    try:
        with console_page(context, servers) as page:
            yield page
    finally:
        context.close()


def test_unconverted_kana_suggests_and_answers_the_residence_certificate(widget: Any) -> None:
    combo = widget.locator("[role=combobox]")
    combo.click()
    widget.keyboard.type("じゅうみんひょう", delay=30)
    widget.wait_for_selector("[role=listbox] [role=option]")
    suggestions = widget.locator("[role=option]").all_inner_texts()
    assert suggestions
    assert "住民票" in suggestions[0], suggestions
    # Searching what was typed (not a suggestion) answers with a 住民票 FAQ, opened first.
    widget.locator("button.go").click()
    answer = widget.locator("details[open]").first
    answer.wait_for()
    assert "住民票" in answer.locator("summary").inner_text()
    assert widget.locator(".noanswer").count() == 0


def _departments(page: Any, query: str) -> list[str]:
    """Search from the console and return the department pane's entries, best first."""
    page.evaluate("() => { document.querySelector('#status').textContent = ''; }")
    page.locator("#q").fill(query)
    page.wait_for_function(
        "() => /ms$/.test(document.querySelector('#status').textContent)"
        " && document.querySelectorAll('#pane-departments .item').length > 0"
    )
    ids: list[str] = page.locator("#pane-departments .item").evaluate_all(
        "nodes => nodes.map((n) => n.dataset.id)"
    )
    return ids


def test_one_department_vote_leaves_an_unrelated_query_unchanged(console: Any) -> None:
    before = _departments(console, UNRELATED)
    voted_before = _departments(console, VOTED)
    # A department the voted question does not rank first, so that the vote shows.
    right = next(d for d in ("介護保険課", "高齢者支援課", "市民課") if d != voted_before[0])
    console.select_option("#right-department", right)
    console.click("#send-right-department")
    console.wait_for_selector(f"#toast:has-text('{right}')")
    # The vote counts for its own question ...
    assert _departments(console, VOTED)[0] == right
    # ... and for nothing else: the unrelated question's departments, in the same order.
    assert _departments(console, UNRELATED) == before
