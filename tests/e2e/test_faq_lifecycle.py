"""The FAQ lifecycle in Chromium: edit a registered FAQ in the trainer page, preview it as the
widget renders it, confirm the publication, withdraw it; an FAQ past its 公開期限 is not in the
widget.

The server is this module's own (its data changes), over the demo corpus like the others.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from kb.api.app import create_app
from kb.security.keys import KeyStore
from kb.settings import Settings
from tests.e2e.conftest import CONTACT, _wait_ready, free_port, login
from tests.e2e.demo_index import FAKE_MODEL, build_demo_index

pytestmark = pytest.mark.e2e

F1 = "桜川市に引っ越してきました。転入届はいつまでに、何を持って行けばいいですか。"
F2 = "市外へ引越しする予定です。転出届はいつ、どこで出せばいいですか。"
MARK = "（E2Eで改訂した回答）"


@dataclass(frozen=True)
class Server:
    url: str
    trainer_key: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("faq-lifecycle")
    build_demo_index(data_dir)
    # The trainer's builds take vectors from DATA_DIR/embeddings.sqlite (the demo keeps e.db).
    (data_dir / "e.db").rename(data_dir / "embeddings.sqlite")
    settings = Settings(data_dir=data_dir, model=FAKE_MODEL, public_rate_burst=1000, **CONTACT)
    keys = KeyStore(settings.keys_path)
    _, key = keys.create("e2e-faq-trainer", "trainer")
    keys.close()
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url)
        yield Server(url, key)
    finally:
        uv.should_exit = True
        thread.join(10)


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    p = context.new_page()
    p.set_default_timeout(60_000)
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.goto(server.url + "/trainer")
    login(p, server.trainer_key)
    yield p
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def widget_answers(browser: Any, server: Server, question: str) -> list[tuple[str, str]]:
    """(question, answer) of each FAQ the public widget shows for ``question``."""
    context = browser.new_context(locale="ja-JP")
    p = context.new_page()
    p.set_default_timeout(60_000)
    p.goto(server.url + "/public/widget-demo")
    box = p.locator(".kb-faq-widget input[role=combobox]")
    box.fill(question)
    box.press("Enter")
    p.locator(".kb-faq-widget .answers details, .kb-faq-widget .noanswer").first.wait_for()
    shown = [
        (d.locator("summary").inner_text(), d.locator("p.answer").inner_text())
        for d in p.locator(".kb-faq-widget .answers details").all()
    ]
    context.close()
    return shown


def faq_item(page: Any, faq_id: str) -> Any:
    page.fill("#faq-q", faq_id)
    page.click("#faq-filter button[type=submit]")
    item = page.locator(f'#faqs li[data-faq="{faq_id}"]')
    item.wait_for()
    return item


def edit(page: Any, faq_id: str) -> Any:
    """Start editing ``faq_id``: its revision candidate, open in the candidate list."""
    faq_item(page, faq_id).locator("button.revise").click()
    candidate = page.locator(f'#candidates li.draft[data-faq="{faq_id}"]')
    candidate.wait_for()
    return candidate


def test_edit_preview_confirm_publish_and_withdraw(
    page: Any, browser: Any, server: Server, screenshots: Path
) -> None:
    assert any(q == F1 for q, _ in widget_answers(browser, server, F1))
    candidate = edit(page, "F0001")
    answer = candidate.locator("textarea[name=answer]")
    new_answer = answer.input_value() + MARK
    answer.fill(new_answer)
    candidate.locator("input[name=owner]").fill("市民課")

    # The preview is the widget's own rendering (its shadow DOM) of the unsaved draft.
    candidate.locator("button.preview").click()
    preview = page.locator("#preview .kb-faq-widget .answers details")
    preview.first.wait_for()
    assert MARK in preview.first.locator("p.answer").inner_text()
    assert preview.first.locator("summary").inner_text() == F1
    assert "市民課" in preview.first.locator(".contact").inner_text()

    # Publishing asks first; cancelling publishes nothing.
    candidate.locator("button.approve").click()
    dialog = page.locator("dialog#confirm")
    dialog.wait_for()
    assert "公開" in dialog.inner_text()
    assert not page.locator("#confirm-reason").is_visible()  # publishing asks no reason
    page.screenshot(path=str(screenshots / "trainer-faq-confirm.png"))
    page.click("#confirm-cancel")
    page.wait_for_selector("#status:has-text('取りやめました')")
    assert not any(MARK in a for _, a in widget_answers(browser, server, F1))

    candidate.locator("button.approve").click()
    page.click("#confirm-ok")
    page.wait_for_selector("#status:has-text('公開しました')")
    shown = widget_answers(browser, server, F1)
    assert any(q == F1 and MARK in a for q, a in shown), shown
    assert page.locator('#candidates li.approved[data-faq="F0001"]').count() == 1

    # Withdraw: asked with a reason, then gone from the widget.
    faq_item(page, "F0001").locator("button.withdraw").click()
    assert page.locator("#confirm-reason").is_visible()
    page.fill("#confirm-reason", "制度改正のため")
    page.click("#confirm-ok")
    page.wait_for_selector("#status:has-text('公開停止しました')")
    assert all(q != F1 for q, _ in widget_answers(browser, server, F1))
    assert "非公開" in faq_item(page, "F0001").locator(".state").inner_text()


def test_an_expired_faq_is_not_in_the_widget(page: Any, browser: Any, server: Server) -> None:
    assert any(q == F2 for q, _ in widget_answers(browser, server, F2))
    candidate = edit(page, "F0002")
    candidate.locator("input[name=expires]").fill("2020-03-31")
    candidate.locator("button.approve").click()
    page.click("#confirm-ok")
    page.wait_for_selector("#status:has-text('公開しました')")
    assert all(q != F2 for q, _ in widget_answers(browser, server, F2))
    assert faq_item(page, "F0002").locator(".state").inner_text() == "期限切れ"


def test_rejecting_needs_a_reason(page: Any, server: Server) -> None:
    candidate = edit(page, "F0003")
    candidate.locator("button.reject").click()
    page.click("#confirm-ok")
    assert page.locator("#confirm-error").inner_text() == "理由を入力してください"
    page.fill("#confirm-reason", "内容の確認中のため")
    page.click("#confirm-ok")
    rejected = page.locator('#candidates li.rejected[data-faq="F0003"]')
    rejected.wait_for()
    assert "内容の確認中のため" in rejected.inner_text()
