"""The staff console in Chromium: type (IME aware), four panes, keyboard, feedback stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kb.store import FeedbackStore
from tests.e2e.conftest import Servers, console_page, login

pytestmark = pytest.mark.e2e

QUERY = "母が認知症で一人暮らしが心配"


@pytest.fixture
def page(browser: Any, servers: Servers) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    try:
        with console_page(context, servers) as p:
            yield p
    finally:
        context.close()


def searches(page: Any) -> list[str]:
    found: list[str] = []
    page.on("request", lambda r: found.append(r.url) if "/api/v1/search" in r.url else None)
    return found


def test_staff_flow_type_four_panes_feedback(
    page: Any, servers: Servers, screenshots: Path
) -> None:
    sent = searches(page)
    page.locator("#q").click()
    page.keyboard.type(QUERY, delay=20)
    for pane in ("departments", "faqs", "cases", "manuals"):
        page.wait_for_selector(f"#pane-{pane} .item")
    # Debounced: typing 14 characters sent far fewer searches.
    assert 1 <= len(sent) <= 3
    dept = page.locator("#pane-departments .item").first
    assert "☎" in dept.inner_text()
    assert "根拠" in dept.inner_text()
    # Matched terms are marked from MeCab tokens.
    page.wait_for_selector("#pane-faqs mark")
    marks = set(page.locator("#results mark").all_inner_texts())
    assert "認知症" in marks
    page.screenshot(path=str(screenshots / "staff-console.png"))

    # One click: this helped.
    faq = page.locator("#pane-faqs .item").first
    faq_id = faq.get_attribute("data-doc")
    faq.locator("button.helped").click()
    page.wait_for_selector("#toast:has-text('記録しました')")
    assert faq.locator("button.helped").get_attribute("aria-pressed") == "true"
    # The right department was ...
    page.select_option("#right-department", "介護保険課")
    page.click("#send-right-department")
    page.wait_for_selector("#toast:has-text('介護保険課')")

    stored = FeedbackStore(servers.data_dir / "feedback.sqlite").recent(2)
    assert stored[0].right_department == "介護保険課"
    assert stored[1].helped_id == faq_id
    for record in stored:
        assert record.source == "staff"
        assert record.query == QUERY
        assert faq_id in record.shown
        assert any(s.startswith("case:") for s in record.shown)
        assert record.created_at


def test_ime_composition_does_not_search_until_it_ends(page: Any) -> None:
    sent = searches(page)
    page.evaluate(
        """() => {
          const q = document.querySelector('#q');
          q.focus();
          q.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));
          for (const text of ['そだい', '粗大ごみ']) {
            q.value = text;
            q.dispatchEvent(new InputEvent('input', {data: text, isComposing: true}));
          }
        }"""
    )
    page.wait_for_timeout(700)
    assert sent == [], "searched while the IME was still converting"
    page.evaluate(
        """() => document.querySelector('#q').dispatchEvent(
             new CompositionEvent('compositionend', {data: '粗大ごみ'}))"""
    )
    page.wait_for_selector("#pane-faqs .item")
    assert len(sent) == 1
    assert "%E7%B2%97%E5%A4%A7" in sent[0]  # 粗大


def test_keyboard_first_enter_arrows_escape_and_details(page: Any, screenshots: Path) -> None:
    page.locator("#q").fill("")
    page.keyboard.type("粗大ごみの出し方")
    page.wait_for_selector("#pane-faqs .item")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    selected = page.locator("#results .item.selected")
    assert selected.count() == 1
    # Enter opens the selected result in the detail view, with related items.
    kind = selected.get_attribute("data-kind")
    page.keyboard.press("Enter")
    dialog = page.locator("#detail")
    dialog.wait_for(state="visible")
    if kind != "department":
        page.wait_for_selector("#detail-body h3:has-text('関連する項目')")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    # Enter without a selection opens the top FAQ; the view has related cases.
    page.locator("#q").press("Escape")
    assert page.locator("#q").input_value() == ""
    assert page.locator("#results .item").count() == 0
    page.keyboard.type("児童手当の申請")
    page.wait_for_selector("#pane-faqs .item")
    top_id = page.locator("#pane-faqs .item").first.get_attribute("data-id")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#detail-title:has-text('FAQ {top_id}')")
    page.wait_for_selector("#detail-body .related a[href^='#case/']")
    page.screenshot(path=str(screenshots / "staff-console-detail.png"))
    # Related items open their own detail view (a case).
    page.locator("#detail-body .related a[href^='#case/']").first.click()
    page.wait_for_selector("#detail-title:has-text('事例')")
    page.wait_for_selector("#detail-body h3:has-text('対応と結果')")


def test_filters_restrict_panes(page: Any) -> None:
    page.uncheck("input[name=kind][value=manual]")
    page.uncheck("input[name=kind][value=faq]")
    page.fill("#date-from", "2025-01-01")
    page.locator("#q").click()
    page.keyboard.type("介護保険の申請")
    page.wait_for_selector("#pane-cases .item")
    assert page.locator("#pane-faqs").is_hidden()
    assert page.locator("#pane-manuals").is_hidden()
    dates = [t.split("　")[1] for t in page.locator("#pane-cases .item .meta").all_inner_texts()]
    assert dates
    assert all(d >= "2025-01-01" for d in dates)


def test_console_fits_a_tablet(browser: Any, servers: Servers, screenshots: Path) -> None:
    context = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True)
    page = context.new_page()
    page.goto(servers.kb + "/staff")
    login(page, servers.staff_key)
    page.locator("#q").fill("引っ越してきたので手続きを知りたい")
    page.wait_for_selector("#pane-cases .item")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820, "horizontal scrolling on a tablet"
    page.screenshot(path=str(screenshots / "staff-console-tablet.png"))
    context.close()
