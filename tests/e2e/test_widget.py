"""The public FAQ widget on a plain city page (another origin), driven by keyboard only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kb.store import FeedbackStore
from tests.e2e.conftest import Servers

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(browser: Any, servers: Servers) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="ja-JP", has_touch=True)
    p = context.new_page()
    p.set_default_timeout(10_000)
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(servers.host_page)
    p.wait_for_selector("[role=combobox]")
    yield p
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def active_in_widget(page: Any, attr: str) -> str | None:
    value: str | None = page.evaluate(
        """(attr) => {
          const host = document.querySelector('.kb-faq-widget');
          const el = host && host.shadowRoot.activeElement;
          return el ? (attr === 'text' ? el.textContent : el.getAttribute(attr)) : null;
        }""",
        attr,
    )
    return value


def test_widget_keyboard_only_suggest_pick_answer_feedback(
    phone_page: Any, servers: Servers, screenshots: Path
) -> None:
    page = phone_page
    # Tab from the top of the page: skip link, host input, then the widget's combobox.
    for _ in range(3):
        page.keyboard.press("Tab")
    assert active_in_widget(page, "role") == "combobox"
    combo = page.locator("[role=combobox]")
    assert combo.get_attribute("aria-expanded") == "false"
    page.keyboard.type("粗大ごみ", delay=30)
    page.wait_for_selector("[role=listbox] [role=option]")
    assert combo.get_attribute("aria-expanded") == "true"
    assert combo.get_attribute("aria-controls") == "kbw-listbox"
    options = page.locator("[role=option]")
    assert options.count() >= 2
    assert all("ごみ" in t or "ゴミ" in t for t in options.all_inner_texts()[:2])

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    second = options.nth(1)
    assert second.get_attribute("aria-selected") == "true"
    assert combo.get_attribute("aria-activedescendant") == second.get_attribute("id")
    picked = second.inner_text()
    page.screenshot(path=str(screenshots / "widget-suggestions.png"))
    page.keyboard.press("Enter")

    # The picked question's answer is shown inline, first, with the department's contact.
    answer = page.locator("details[open]").first
    answer.wait_for()
    assert answer.locator("summary").inner_text() == picked
    assert combo.get_attribute("aria-expanded") == "false"
    assert "お問い合わせ先" in answer.inner_text()
    assert answer.locator("a[href^='tel:']").count() == 1
    # Host page styles do not reach into the widget (the page makes all text red).
    color = answer.locator(".answer").evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(27, 31, 35)"
    # ... and the widget's styles do not leak out.
    host_border = page.locator("#host-input").evaluate("e => getComputedStyle(e).borderTopStyle")
    assert host_border == "dotted"

    # Keyboard to "はい" and press it.
    for _ in range(12):
        page.keyboard.press("Tab")
        if active_in_widget(page, "text") == "はい":
            break
    assert active_in_widget(page, "text") == "はい"
    page.keyboard.press("Enter")
    page.wait_for_selector("text=ご協力ありがとうございました。")
    record = FeedbackStore(servers.data_dir / "feedback.sqlite").recent(1)[0]
    assert (record.source, record.helpful) == ("public", True)
    assert record.helped_id.startswith("faq:")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(screenshots / "widget.png"), full_page=True)


def test_widget_escape_closes_then_clears_and_enter_searches(phone_page: Any) -> None:
    page = phone_page
    combo = page.locator("[role=combobox]")
    combo.focus()
    page.keyboard.type("児童手当")
    page.wait_for_selector("[role=option]")
    page.keyboard.press("Escape")
    assert combo.get_attribute("aria-expanded") == "false"
    assert combo.input_value() == "児童手当"
    page.keyboard.press("Enter")  # no option chosen: search the typed text
    page.wait_for_selector("details[open]")
    assert page.locator("details").count() >= 2
    page.keyboard.press("Escape")
    assert combo.input_value() == ""


def test_widget_is_readable_at_200_percent_zoom(browser: Any, servers: Servers) -> None:
    # 200% zoom of a 1280-wide window is a 640-CSS-pixel viewport at device scale 2.
    context = browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=2)
    page = context.new_page()
    page.goto(servers.host_page)
    page.locator("[role=combobox]").fill("住民票")
    page.keyboard.press("Enter")
    page.wait_for_selector("details[open]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 640
    size = page.locator("details[open] .answer").evaluate("e => getComputedStyle(e).fontSize")
    assert float(size.removesuffix("px")) >= 16
    context.close()


def test_widget_answer_web_addresses_are_links_and_nothing_else_is(phone_page: Any) -> None:
    page = phone_page
    address = "https://www.city.sakuragawa.example.jp/form/a.pdf"

    def add_links(route: Any) -> None:
        data = route.fetch().json()
        data["faqs"][0]["answer"] = (
            f"申請書（{address}）をご利用ください。<b>x</b> javascript:alert(1) 詳細は {address}."
        )
        route.fulfill(json=data)

    page.route(re.compile(r".*/public/v1/faq/search\?.*"), add_links)
    combo = page.locator("[role=combobox]")
    combo.focus()
    page.keyboard.type("児童手当")
    page.wait_for_selector("[role=option]")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    answer = page.locator("details[open] .answer").first
    answer.wait_for()
    links = answer.locator("a")
    assert links.count() == 2
    assert links.evaluate_all("ls => ls.map(a => a.getAttribute('href'))") == [address, address]
    assert answer.locator("b").count() == 0  # markup in an answer stays text
    assert "<b>x</b> javascript:alert(1)" in answer.inner_text()
    assert answer.inner_text().endswith(f"詳細は {address}.")
