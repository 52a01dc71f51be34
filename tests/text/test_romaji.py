"""Romaji read as kana (kb/text/romaji.py, the jaconv adapter)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.text.romaji import romaji_to_kana


@pytest.mark.parametrize(
    ("typed", "kana"),
    [
        ("juuminhyou toritai", "じゅうみんひょう とりたい"),
        ("Gomi no dashikata?", "ごみ の だしかた?"),
        ("hikkoshi tetsuzuki", "ひっこし てつづき"),  # zu after tsu is the voiced つ
        ("chijimu", "ちぢむ"),
        ("mainanba-ka-do", "まいなんばーかーど"),
        ("kon'ya", "こんや"),  # n' ends the syllable: not こにゃ
        ("han'i", "はんい"),
        ("zyuuminhyou", "じゅうみんひょう"),  # kunrei-shiki
        ("kitte 2mai", "きって 2まい"),
        ("matcha", "まっちゃ"),
    ],
)
def test_romaji_becomes_hiragana(typed: str, kana: str) -> None:
    assert romaji_to_kana(typed) == kana


@pytest.mark.parametrize(
    "text",
    [
        "I want to apply for welfare",
        "I can go",
        "hello",
        "tax",
        "zzzzzz",
        "asdfgh",
        "what time",
        "住民票 toritai",
        "",
        "2024",
        "'",
        "Tôi muốn đăng ký",
    ],
)
def test_english_and_anything_else_is_no_romaji(text: str) -> None:
    assert romaji_to_kana(text) is None


@given(st.text(max_size=40))
def test_any_text_gives_kana_or_none(text: str) -> None:
    out = romaji_to_kana(text)
    assert out is None or not any("a" <= ch <= "z" or "A" <= ch <= "Z" for ch in out)
