from __future__ import annotations

from pathlib import Path

import pytest

from kb.errors import InputError
from kb.ingest.markdown import parse_markdown, parse_plain_text, read_markdown, read_plain_text

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")

MANUAL_MD = """\
---
title: 総合相談窓口対応マニュアル
department: 市民相談センター|市民課
---
このマニュアルは窓口職員向けです。

## 1. 受付
### 1.1 傾聴
相談者の話を最後まで聞く。

```
# これは見出しではない
```

### 1.2 記録
相談票に記録する。

## 2. 引継ぎ
担当課へ引き継ぐ。
#### 2.0.1 深い見出し
深い本文。
## 3. 空の節
"""


def test_markdown_sections_with_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "counter_manual.md"
    path.write_text(MANUAL_MD, encoding="utf-8")
    result = read_markdown(path)
    docs = result.documents
    assert result.errors == ()
    assert [d.doc_id for d in docs] == [f"manual:counter_manual#{n}" for n in range(1, 6)]
    assert [(d.title, d.heading_path) for d in docs] == [
        ("総合相談窓口対応マニュアル", ()),
        ("1.1 傾聴", ("1. 受付", "1.1 傾聴")),
        ("1.2 記録", ("1. 受付", "1.2 記録")),
        ("2. 引継ぎ", ("2. 引継ぎ",)),
        ("2.0.1 深い見出し", ("2. 引継ぎ", "2.0.1 深い見出し")),
    ]
    assert docs[0].body == "このマニュアルは窓口職員向けです。"
    # The fenced '#' line is body text of 1.1, not a heading.
    assert docs[1].body == "相談者の話を最後まで聞く。\n\n```\n# これは見出しではない\n```"
    assert {d.doc_title for d in docs} == {"総合相談窓口対応マニュアル"}
    assert {d.departments for d in docs} == {("市民相談センター", "市民課")}
    assert docs[1].source == f"{path}:8"
    assert all(d.kind == "manual" and not d.published for d in docs)


def test_single_top_heading_is_the_title() -> None:
    text = "# 窓口マニュアル\n前文\n## 受付\n本文\n"
    docs = parse_markdown(text, source="m.md", stem="m").documents
    assert [(d.doc_title, d.title, d.heading_path, d.body) for d in docs] == [
        ("窓口マニュアル", "窓口マニュアル", (), "前文"),
        ("窓口マニュアル", "受付", ("受付",), "本文"),
    ]


def test_several_top_headings_are_sections_and_stem_is_the_title() -> None:
    docs = parse_markdown("# 受付\nA\n# 案内\nB\n", source="m.md", stem="desk").documents
    assert [(d.doc_title, d.heading_path) for d in docs] == [
        ("desk", ("受付",)),
        ("desk", ("案内",)),
    ]


def test_setext_headings() -> None:
    text = "受付\n===\n本文A\n\n傾聴\n---\n本文B\n\n案内\n===\n\n本文C\n続き\n---\n"
    docs = parse_markdown(text, source="m.md", stem="m").documents
    assert [(d.title, d.heading_path, d.body) for d in docs] == [
        ("受付", ("受付",), "本文A"),
        ("傾聴", ("受付", "傾聴"), "本文B"),
        # Under a paragraph of several lines, '---' is kept as text rather than a heading.
        ("案内", ("案内",), "本文C\n続き\n---"),
    ]


def test_front_matter_list_and_quotes() -> None:
    text = '---\ntitle: "窓口"\n担当課: [市民課, 税務課]\nauthor: x\n---\n本文\n'
    (doc,) = parse_markdown(text, source="m.md", stem="m").documents
    assert doc.doc_title == "窓口"
    assert doc.departments == ("市民課", "税務課")


def test_unclosed_front_matter() -> None:
    with pytest.raises(InputError, match="not closed") as info:
        parse_markdown("---\ntitle: x\n本文\n", source="m.md", stem="m")
    assert info.value.line == 1


@pytest.mark.parametrize("text", ["", " \n\n"])
def test_empty_markdown(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="file is empty"):
        read_markdown(path)


def test_markdown_in_cp932(tmp_path: Path) -> None:
    path = tmp_path / "m.md"
    path.write_text("# 髙橋係のマニュアル\n①～ｱ\n## 節\n本文\n", encoding="cp932")
    docs = read_markdown(path).documents
    assert docs[0].doc_title == "髙橋係のマニュアル"
    assert docs[0].body == "①～ｱ"


PLAIN = """\

総合相談窓口対応マニュアル

第1章 受付
1. 声かけ
来庁者に声をかける。
1. 本人確認書類を確認する。
1.1 傾聴
話を聞く。
■ 注意
個人情報に注意する。
第2章 引継ぎ
担当課へ。
"""


def test_plain_text_headings(tmp_path: Path) -> None:
    path = tmp_path / "manual.txt"
    path.write_text(PLAIN, encoding="utf-8")
    docs = read_plain_text(path).documents
    assert {d.doc_title for d in docs} == {"総合相談窓口対応マニュアル"}
    assert [(d.title, d.heading_path, d.body) for d in docs] == [
        (
            "1. 声かけ",
            ("第1章 受付", "1. 声かけ"),
            "来庁者に声をかける。\n1. 本人確認書類を確認する。",
        ),
        ("1.1 傾聴", ("第1章 受付", "1. 声かけ", "1.1 傾聴"), "話を聞く。"),
        ("■ 注意", ("第1章 受付", "1. 声かけ", "1.1 傾聴", "■ 注意"), "個人情報に注意する。"),
        ("第2章 引継ぎ", ("第2章 引継ぎ",), "担当課へ。"),
    ]
    assert docs[0].source == f"{path}:5"


def test_plain_text_without_headings_is_one_section() -> None:
    (doc,) = parse_plain_text(
        "窓口の心得\n\n笑顔で対応する。\n", source="t.txt", stem="t"
    ).documents
    assert (doc.doc_id, doc.title, doc.doc_title, doc.body) == (
        "manual:t#1",
        "窓口の心得",
        "窓口の心得",
        "笑顔で対応する。",
    )


def test_plain_text_starting_with_a_heading_uses_the_stem_as_title() -> None:
    docs = parse_plain_text("1. 受付\n本文\n", source="t.txt", stem="desk").documents
    assert [(d.doc_title, d.heading_path) for d in docs] == [("desk", ("1. 受付",))]


def test_empty_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "e.txt"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="file is empty"):
        read_plain_text(path)


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("## 見出し ##", "見出し"),
        ("## 見出し ##  \t", "見出し"),
        ("##\t見出し\t#", "見出し"),
        ("## 見出し#", "見出し#"),
        ("## C# の手引き", "C# の手引き"),
        ("## 見出し" + " " * 150 + "続き", "見出し" + " " * 150 + "続き"),
        ("## 見出し" + " " * 50_000, "見出し"),
    ],
)
def test_atx_heading_text_without_its_closing_hashes(line: str, heading: str) -> None:
    docs = parse_markdown(f"# 題\n{line}\n本文", source="m.md", stem="m").documents
    assert [(d.title, d.body) for d in docs] == [(heading, "本文")]


def test_a_heading_of_closing_hashes_only_is_empty_and_opens_no_section() -> None:
    docs = parse_markdown("# 題\n## 節\n本文\n### ###\n続き", source="m.md", stem="m").documents
    assert [(d.title, d.body) for d in docs] == [("節", "本文\n続き")]


def test_a_very_long_heading_stays_text_of_its_section() -> None:
    long = "長い見出し" * 20_000
    text = (
        "# 題\n## 節\n本文\n## "
        + long
        + "\n"
        + "".join(f"### 小節{i}\n本文{i}\n" for i in range(50))
    )
    docs = parse_markdown(text, source="m.md", stem="m").documents
    assert docs[0].title == "節"
    assert docs[0].body == f"本文\n{long}"
    assert [d.heading_path for d in docs[1:3]] == [("節", "小節0"), ("節", "小節1")]
    assert len(docs) == 51
    assert max(len("".join(d.heading_path)) for d in docs) < 12
