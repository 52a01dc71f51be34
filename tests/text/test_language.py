from __future__ import annotations

import pytest

from kb.text.language import is_japanese


@pytest.mark.parametrize(
    "text",
    ["母が認知症で心配", "住民票 コンビニ", "児童手当 申請", "粗大ごみ", "ﾏｲﾅﾝﾊﾞｰ", "DVの相談"],
)
def test_japanese_queries(text: str) -> None:
    assert is_japanese(text)


@pytest.mark.parametrize(
    "text",
    [
        "I want a copy of my residence certificate",
        "我想办理住民票的副本",
        "怎么扔大型垃圾",
        "주민표를 발급받고 싶어요",
        "Tôi muốn làm thẻ My Number",
        "Quero registrar meu cachorro",
        "",
    ],
)
def test_other_languages(text: str) -> None:
    assert not is_japanese(text)
