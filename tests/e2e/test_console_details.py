"""The console's details in Chromium: focus, copy, history, phone mode, tables, touch, widget."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Servers, console_page

pytestmark = pytest.mark.e2e


@pytest.fixture
def context(browser: Any, servers: Servers) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=servers.kb)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, servers: Servers) -> Iterator[Any]:
    with console_page(context, servers) as p:
        yield p


def focused_id(page: Any) -> str:
    value: str = page.evaluate("document.activeElement && document.activeElement.id")
    return value


def test_focus_is_in_the_search_box_after_login_and_after_escape(page: Any) -> None:
    assert focused_id(page) == "q"
    # Typing right after login lands in the search box.
    page.keyboard.type("粗大ごみ")
    page.wait_for_selector("#pane-faqs .item")
    assert page.locator("#q").input_value() == "粗大ごみ"
    # From anywhere else, Esc brings the focus back.
    page.locator("#pane-faqs .item button.helped").first.focus()
    page.keyboard.press("Escape")
    assert focused_id(page) == "q"
    page.keyboard.press("Escape")
    assert page.locator("#q").input_value() == ""
    assert focused_id(page) == "q"
    # Closing a detail view with Esc too.
    page.keyboard.type("児童手当の申請")
    page.wait_for_selector("#pane-faqs .item")
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail[open]")
    page.keyboard.press("Escape")
    page.wait_for_selector("#detail", state="hidden")
    assert focused_id(page) == "q"


def test_copy_button_copies_the_answer(page: Any) -> None:
    page.keyboard.type("児童手当の申請")
    page.wait_for_selector("#pane-faqs .item")
    faq = page.locator("#pane-faqs .item").first
    question = faq.locator(".title").inner_text()
    faq.locator("button.copy").click()
    page.wait_for_selector("#toast:has-text('コピーしました')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(question)
    assert faq.get_attribute("data-id") in copied
    # A department's copy carries its phone number.
    dept = page.locator("#pane-departments .item").first
    dept.locator("button.copy").click()
    assert "☎" in page.evaluate("navigator.clipboard.readText()")


def test_history_lists_this_consultation_and_reruns_and_clears(page: Any) -> None:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/v1/search" in r.url else None)
    for text in ("粗大ごみの出し方", "介護保険の申請"):
        page.locator("#q").fill(text)
        page.wait_for_function(
            "(t) => [...document.querySelectorAll('#history button')].some(b => b.title === t)",
            arg=text,
        )
    buttons = page.locator("#history button")
    assert [buttons.nth(i).get_attribute("title") for i in range(buttons.count())] == [
        "粗大ごみの出し方",
        "介護保険の申請",
    ]
    before = len(sent)
    buttons.first.click()
    page.wait_for_function("() => document.querySelector('#q').value === '粗大ごみの出し方'")
    page.wait_for_selector("#pane-faqs .item")
    assert len(sent) > before
    assert buttons.count() == 2  # a re-run is not a new entry
    page.click("#new-consultation")
    assert page.locator("#history button").count() == 0
    assert page.locator(".history").is_hidden()
    assert page.locator("#q").input_value() == ""
    assert page.locator("#results .item").count() == 0
    assert focused_id(page) == "q"


def test_phone_mode_searches_the_latest_sentences_of_a_long_note(page: Any) -> None:
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if "/api/v1/search?" in r.url else None,
    )
    page.click("#phone-mode")
    assert page.locator("#phone-mode").get_attribute("aria-pressed") == "true"
    assert focused_id(page) == "phone-notes"
    filler = "相談者は最初に近所の話をしていました。" * 160  # 3,040 characters
    last = "母が認知症で一人暮らしが心配です。どこに相談すればよいですか。"
    note = filler + last
    assert len(note) >= 3000
    page.locator("#phone-notes").fill(note)
    page.locator("#phone-notes").press("End")
    page.wait_for_selector("#pane-departments .item")
    # The whole note is kept (no length limit) ...
    assert page.locator("#phone-notes").input_value() == note
    assert page.locator("#phone-notes").get_attribute("maxlength") is None
    # ... and the search used its last two sentences, well under the 500-character limit.
    query = page.locator("#q").input_value()
    assert query == "母が認知症で一人暮らしが心配です。 どこに相談すればよいですか。"
    assert sent
    assert "%E8%AA%8D%E7%9F%A5%E7%97%87" in sent[-1]
    assert page.locator("#status").inner_text().endswith("ms")
    # A record started now is a phone consultation holding the note.
    page.click("#record-open")
    assert page.locator("#record-channel").input_value() == "電話"
    assert page.locator("#record-notes").input_value() == note
    page.click("#record-dialog .dialog-close")


def test_manual_table_is_a_table(page: Any) -> None:
    page.evaluate("location.hash = '#manual/sogo-soudan-madoguchi%2327'")
    page.wait_for_selector("#detail-body table.md")
    table = page.locator("#detail-body table.md").first
    assert table.locator("thead th").all_inner_texts() == ["相談内容", "担当課", "電話番号"]
    assert table.locator("tbody tr").count() >= 10
    assert "市民課" in table.locator("tbody tr").first.inner_text()
    assert "|---" not in page.locator("#detail-body").inner_text()
    # The cells are text, not markup: nothing from the manual becomes an element.
    assert page.locator("#detail-body table.md script, #detail-body table.md img").count() == 0
    page.keyboard.press("Escape")
    # In the pane's extract, the table reads as lines without its |---| rule.
    page.locator("#q").fill("主な相談と担当課の早見表")
    page.wait_for_selector("#pane-manuals .item")
    assert "|---" not in page.locator("#pane-manuals").inner_text()


def test_right_department_is_reset_for_each_search(page: Any) -> None:
    page.locator("#q").fill("介護保険の申請")
    page.wait_for_selector("#pane-faqs .item")
    page.select_option("#right-department", "介護保険課")
    page.locator("#q").fill("粗大ごみの出し方")
    page.wait_for_function("() => document.querySelector('#right-department').value === ''")
    assert page.locator("#right-department").input_value() == ""


def test_no_keyboard_hints_on_touch_devices(browser: Any, servers: Servers) -> None:
    desk = browser.new_context(viewport={"width": 1280, "height": 800})
    page = desk.new_page()
    page.goto(servers.kb + "/staff")
    assert page.locator("#keys-help").is_visible()
    desk.close()
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = phone.new_page()
    page.goto(servers.kb + "/staff")
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")
    assert page.locator("#keys-help").is_hidden()
    phone.close()


def test_widget_demo_fits_390_px(browser: Any, servers: Servers) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    page.goto(servers.kb + "/public/widget-demo")
    page.wait_for_selector("[role=combobox]")
    page.locator("[role=combobox]").fill("粗大ごみ")
    page.wait_for_timeout(800)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the widget demo scrolls sideways: {width} px"
    context.close()


def test_faq_answer_web_addresses_are_links(page: Any) -> None:
    address = "https://www.city.sakuragawa.example.jp/form/a.pdf"

    def add_link(route: Any) -> None:
        data = route.fetch().json()
        data["answer"] = f"申請書（{address}）をご利用ください。<i>x</i>"
        route.fulfill(json=data)

    page.route(re.compile(r".*/api/v1/faq/[^/?]+$"), add_link)
    page.evaluate("location.hash = '#faq/F0201'")
    page.wait_for_selector("#detail-body a[target=_blank]")
    links = page.locator("#detail-body p.pre a")
    assert links.evaluate_all("ls => ls.map(a => a.getAttribute('href'))") == [address]
    assert "<i>x</i>" in page.locator("#detail-body").inner_text()
