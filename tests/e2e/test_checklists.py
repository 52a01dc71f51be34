"""Life-event checklists in the staff console (Chromium): recognised, filtered, printable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Servers, console_page

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser: Any, servers: Servers) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    try:
        with console_page(context, servers) as p:
            yield p
    finally:
        context.close()


def names(page: Any) -> list[str]:
    return page.locator("#checklist .checklist-name").all_inner_texts()


def test_death_offers_the_death_checklist(page: Any, screenshots: Path) -> None:
    page.locator("#q").fill("父が亡くなった")
    page.wait_for_selector("#checklist:not([hidden]) .checklist-item")
    assert "死亡" in page.locator("#h-checklist").inner_text()
    listed = names(page)
    assert "死亡届・火葬許可申請" in listed
    # Ordered by deadline: the 7-day 死亡届 comes before anything without a deadline.
    assert listed.index("死亡届・火葬許可申請") < listed.index("おくやみコーナーの予約")
    # Grouped by department, with the department's counter.
    assert "市民課" in page.locator("#checklist .checklist-group h3").first.inner_text()
    # Ticking 国保加入 adds the national health insurance procedures.
    assert "国民健康保険の資格喪失・葬祭費の申請" not in listed
    page.check('#checklist input[value="国保加入"]')
    page.wait_for_function(
        "() => [...document.querySelectorAll('#checklist .checklist-name')]"
        ".some(n => n.textContent.includes('葬祭費'))"
    )
    # Printable for the citizen, in やさしい日本語 where the city wrote it.
    page.check("#checklist-easy")
    assert page.locator("#checklist .easy-text:visible").count() >= 1
    page.emulate_media(media="print")
    page.evaluate("document.body.classList.add('print-checklist')")
    assert page.locator("#results").is_hidden()
    assert page.locator("#checklist .checklist-item").first.is_visible()
    page.screenshot(path=str(screenshots / "checklist-print.png"))
    page.evaluate("document.body.classList.remove('print-checklist')")
    page.emulate_media(media="screen")


def test_move_in_with_children_is_filtered_to_households_with_children(page: Any) -> None:
    page.locator("#q").fill("引っ越してきた 子ども2人")
    page.wait_for_selector("#checklist:not([hidden]) .checklist-item")
    assert "転入" in page.locator("#h-checklist").inner_text()
    box = page.locator('#checklist input[value="子どもあり"]')
    assert box.is_checked()
    listed = names(page)
    assert "転入届" in listed
    assert "児童手当の認定請求" in listed
    # Not a household with a dog: its procedure stays out until ticked.
    assert "犬の登録事項変更" not in listed
    box.uncheck()
    page.wait_for_function(
        "() => ![...document.querySelectorAll('#checklist .checklist-name')]"
        ".some(n => n.textContent.includes('児童手当'))"
    )
    assert "転入届" in names(page)


def test_no_life_event_offers_no_checklist(page: Any) -> None:
    page.locator("#q").fill("父が亡くなった")
    page.wait_for_selector("#checklist:not([hidden])")
    page.locator("#q").fill("ごみの出し方を知りたい")
    page.wait_for_selector("#pane-faqs .item")
    page.wait_for_selector("#checklist", state="hidden")
