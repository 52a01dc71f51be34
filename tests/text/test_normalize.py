from __future__ import annotations

import pytest

from kb.text.normalize import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width latin and digits
        ("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ", "マイナンバーカード"),  # half-width katakana
        ("コンピュータ―", "コンピューター"),  # dash typed as long vowel after katakana
        ("099‐555‐1101", "099-555-1101"),  # hyphen variants between digits
        ("9:00〜17:00", "9:00~17:00"),  # wave dash
        ("  住民票　の\t写し  ", "住民票 の 写し"),  # whitespace incl. ideographic space
        ("①番窓口", "1番窓口"),  # circled digit
        ("制御\x00文字", "制御 文字"),
    ],
)
def test_normalize_rules(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_is_idempotent_on_mixed_text() -> None:
    text = "ｺﾞﾐの出し方　（粗大ゴミ）ＴＥＬ０９９－５５５－１１１３〜"
    once = normalize(text)
    assert normalize(once) == once


def test_keep_newlines_keeps_line_structure_but_drops_blank_lines() -> None:
    assert normalize("１行目\n\n　２行目  \n", keep_newlines=True) == "1行目\n2行目"
    assert normalize("１行目\n２行目") == "1行目 2行目"
