"""HTML in a text field → plain text (kb/text/markup.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.text.markup import html_to_text, looks_like_html


def test_paragraphs_lists_and_breaks_become_lines() -> None:
    answer = (
        "<p>転入届は<strong>14日以内</strong>に提出してください。</p>"
        "<ul><li>本人確認書類</li><li>印鑑</li></ul>詳しくは<a href='https://x'>こちら</a>"
        "<br>受付&nbsp;9時&#65374;17時"
    )
    assert html_to_text(answer) == (
        "転入届は14日以内に提出してください。\n本人確認書類\n印鑑\n"
        "詳しくはこちら（https://x）\n受付 9時～17時"
    )


def test_scripts_styles_and_comments_leave_nothing() -> None:
    text = "<script>alert(1)</script>本文<!-- メモ -->です<style>p{color:red}</style>。"
    assert html_to_text(text) == "本文です。"


def test_table_cells_are_separated_and_rows_are_lines() -> None:
    rows = ["<tr><td>月</td><td>燃やすごみ</td></tr>", "<tr><td>火</td><td>資源</td></tr>"]
    table = "<table>" + "".join(rows) + "</table>"
    assert html_to_text(table) == "月 燃やすごみ\n火 資源"


@pytest.mark.parametrize("text", ["1<2 かつ 3>2", "A&B社", "〒309-1234 本町1-2-3", "<未定>"])
def test_text_without_markup_is_unchanged(text: str) -> None:
    assert not looks_like_html(text)
    assert html_to_text(text) == text


def test_entities_alone_are_unescaped_without_a_parser() -> None:
    assert html_to_text("A&amp;B社 &lt;重要&gt;") == "A&B社 <重要>"


@given(st.text(alphabet=st.sampled_from(list("<>/&;#pbr aliあ漢\n'\"=")), max_size=60))
def test_any_input_gives_text_without_tags(text: str) -> None:
    out = html_to_text(text)
    assert "<p>" not in out.lower()
    assert "<br>" not in out.lower()


def test_a_link_keeps_its_web_address() -> None:
    answer = "申請書は<a href='https://www.city.example.jp/form.pdf'>こちら</a>から。"
    assert html_to_text(answer) == "申請書はこちら（https://www.city.example.jp/form.pdf）から。"


@pytest.mark.parametrize(
    "link",
    [
        "<a href='/kurashi/gomi.html'>ごみ</a>",  # relative: nothing to open outside the CMS
        "<a href='javascript:alert(1)'>ごみ</a>",
        "<a href='https://www.city.example.jp/'>https://www.city.example.jp/</a>",
        "<a>ごみ</a>",
    ],
)
def test_links_without_an_address_to_show_keep_their_text_only(link: str) -> None:
    out = html_to_text(link)
    assert "javascript" not in out
    assert out.count("http") <= 1
    assert "/kurashi" not in out


def test_blank_runs_at_line_ends_and_between_lines_go() -> None:
    run = " " * 30_000
    assert html_to_text(f"<p>a{run}\n{run}\n\u3000\nb{run}c</p>") == f"a\nb{run}c"
    assert html_to_text(f"<p>a \t\u3000\n x</p><p>{run}</p>") == "a\n x"
