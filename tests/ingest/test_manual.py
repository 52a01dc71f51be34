from __future__ import annotations

import pytest

from kb.ingest.manual import (
    MAX_TITLE_CHARS,
    Heading,
    HeadingStyle,
    Text,
    assign_levels,
    build_manual,
    heading_style,
    split_lines,
)


def test_build_manual_heading_paths_and_ids() -> None:
    blocks = [
        Text("前書き"),
        Heading(1, "1. 受付", 3),
        Heading(2, "1.1 傾聴", 4),
        Text("最後まで聞く"),
        Heading(2, "1.2 記録", 6),
        Text("記録する"),
        Heading(1, "2. 引継ぎ", 8),
        Heading(3, "深い見出し", 9),
        Text("深い本文"),
        Heading(2, "2.1 空の節", 11),
    ]
    result = build_manual(
        blocks, source="m.md", stem="m", doc_title="窓口マニュアル", departments=("市民課",)
    )
    docs = result.documents
    assert [d.doc_id for d in docs] == ["manual:m#1", "manual:m#2", "manual:m#3", "manual:m#4"]
    assert [(d.title, d.heading_path, d.body) for d in docs] == [
        ("窓口マニュアル", (), "前書き"),
        ("1.1 傾聴", ("1. 受付", "1.1 傾聴"), "最後まで聞く"),
        ("1.2 記録", ("1. 受付", "1.2 記録"), "記録する"),
        ("深い見出し", ("2. 引継ぎ", "深い見出し"), "深い本文"),
    ]
    assert all(d.doc_title == "窓口マニュアル" and d.kind == "manual" for d in docs)
    assert all(d.departments == ("市民課",) and d.published is False for d in docs)
    assert [d.source for d in docs] == ["m.md", "m.md:4", "m.md:6", "m.md:9"]


def test_build_manual_trims_and_collapses_blank_lines() -> None:
    result = build_manual(
        [Heading(1, "h"), Text(""), Text("a  "), Text(""), Text(""), Text("b"), Text("  ")],
        source="m",
        stem="m",
        doc_title="t",
    )
    assert result.documents[0].body == "a\n\nb"


def test_an_over_long_heading_or_title_is_body_text_not_copied_into_every_section() -> None:
    long = "長" * (MAX_TITLE_CHARS + 1)
    result = build_manual(
        [Heading(1, long, 1), Text("前書き"), Heading(2, "1. 受付", 3), Text("聞く")],
        source="m",
        stem="m",
        doc_title="題" * (MAX_TITLE_CHARS + 1),
    )
    assert [(d.title, d.heading_path, d.body) for d in result.documents] == [
        ("m", (), f"{'題' * (MAX_TITLE_CHARS + 1)}\n{long}\n前書き"),
        ("1. 受付", ("1. 受付",), "聞く"),
    ]
    assert {d.doc_title for d in result.documents} == {"m"}
    # At the limit a heading is still a heading.
    edge = "境" * MAX_TITLE_CHARS
    kept = build_manual([Heading(1, edge), Text("本文")], source="m", stem="m", doc_title=edge)
    assert [(d.doc_title, d.heading_path) for d in kept.documents] == [(edge, (edge,))]


@pytest.mark.parametrize(
    ("line", "style"),
    [
        ("第1章 総則", HeadingStyle("chapter", 2)),
        ("第二節　受付", HeadingStyle("chapter", 3)),
        ("1. 受付", HeadingStyle("decimal", 1)),
        ("１．受付", HeadingStyle("decimal", 1)),
        ("2.1 傾聴", HeadingStyle("decimal", 2)),
        ("2.1.3 記録の方法", HeadingStyle("decimal", 3)),
        ("■ 注意事項", HeadingStyle("■")),
        ("【よくある質問】", HeadingStyle("bracket")),
    ],
)
def test_heading_lines(line: str, style: HeadingStyle) -> None:
    assert heading_style(line) == style


@pytest.mark.parametrize(
    "line",
    [
        "1. 本人確認書類を確認する。",  # a numbered step, ends like a sentence
        "2024年度の改正について",
        "10:00から受付",
        "1 件目",
        "【注意】書類は原本を持参してください。",
        "来庁者には丁寧に対応し、用件を最後まで聞いてから担当課を案内します",  # long
        "",
        "・箇条書き",
    ],
)
def test_body_lines(line: str) -> None:
    assert heading_style(line) is None


def test_levels_follow_first_appearance_and_decimal_depth() -> None:
    styles = [
        HeadingStyle("chapter", 2),
        HeadingStyle("decimal", 1),
        HeadingStyle("decimal", 2),
        HeadingStyle("■"),
        HeadingStyle("chapter", 2),
        HeadingStyle("decimal", 1),
    ]
    assert assign_levels(styles) == [1, 2, 3, 4, 1, 2]


def test_split_lines_nests_numbered_headings() -> None:
    lines = list(enumerate(["1. 受付", "本文A", "1.1 傾聴", "本文B", "2. 案内", "本文C"], 1))
    blocks = split_lines(lines)
    assert blocks == [
        Heading(1, "1. 受付", 1),
        Text("本文A"),
        Heading(2, "1.1 傾聴", 3),
        Text("本文B"),
        Heading(1, "2. 案内", 5),
        Text("本文C"),
    ]
