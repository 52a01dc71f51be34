"""Highlights follow the query as the search rewrote it (kana converted, typos mended)."""

from __future__ import annotations

from tests.api.conftest import MakeClient


def test_a_kana_query_marks_the_kanji_it_matched(make_client: MakeClient) -> None:
    text = "住民票の写しはどこで取れますか。"
    body = (
        make_client()
        .post("/api/v1/highlight", json={"q": "じゅうみんひょうのうつし", "texts": [text]})
        .json()
    )
    marked = [text[s:e] for s, e in body["spans"][0]]
    assert "住民" in "".join(marked)
    assert "住民" in body["terms"]


def test_a_mistyped_query_marks_the_word_it_meant(make_client: MakeClient) -> None:
    text = "消費生活センターにご相談ください。"
    body = (
        make_client()
        .post("/api/v1/highlight", json={"q": "消費活センター", "texts": [text]})
        .json()
    )
    # One span through 生活: the query was mended into 消費生活センター (as typed, its terms
    # 消費 and センター would mark two spans around an unmarked 生活).
    assert [text[s:e] for s, e in body["spans"][0]] == ["消費生活センター"]
