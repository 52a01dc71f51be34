"""The records a pane shows (kb/search/panes.py): a long manual section is cut to the hit."""

from __future__ import annotations

from kb.search.panes import MAX_SECTION_CHARS, manual_result, section_excerpt
from kb.types import Document, Hit


def _section(body: str) -> Document:
    return Document(
        doc_id="manual:m1#s1",
        kind="manual",
        title="窓口対応",
        body=body,
        doc_title="窓口マニュアル",
        heading_path=("窓口対応",),
    )


def test_a_short_section_is_shown_whole() -> None:
    body = "転入届は14日以内に提出します。\n本人確認書類を確認します。"
    hit = Hit(chunk_id="manual:m1#s1#0", doc_id="manual:m1#s1", kind="manual", score=0.5)
    assert manual_result(hit, _section(body)).text == body


def test_a_long_section_shows_the_hit_part_and_its_neighbours() -> None:
    # 200 sentences of ~390 characters: each is one part of the chunking (at most 400).
    body = "\n".join(f"手順{i}の説明" + "あ" * 380 + "。" for i in range(200))
    assert len(body) > MAX_SECTION_CHARS * 10
    text = section_excerpt(body, "manual:m1#s1#100")
    assert len(text) <= 3 * 400 + 2
    assert "手順100の説明" in text
    assert "手順99の説明" in text
    assert "手順101の説明" in text
    assert "手順50の" not in text
    assert text.startswith("…")
    assert text.endswith("…")
    # The first part has no neighbour before it; an ordinal past the end shows the last part.
    assert section_excerpt(body, "manual:m1#s1#0").startswith("手順0の")
    assert section_excerpt(body, "manual:m1#s1#999").startswith("…手順198の")
