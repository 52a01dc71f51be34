"""Kana and kanji helpers (kb/text/kana.py)."""

from __future__ import annotations

from kb.text.kana import (
    grams,
    has_kanji,
    is_hiragana,
    is_kanji,
    is_katakana_word,
    to_hiragana,
    without_long_vowels,
)


def test_katakana_becomes_hiragana_and_the_rest_is_kept() -> None:
    assert to_hiragana("コクミンケンコウホケン") == "こくみんけんこうほけん"
    assert to_hiragana("コーヒーとABC、住民票") == "こーひーとABC、住民票"
    assert to_hiragana("ヴァイオリン") == "ゔぁいおりん"
    assert to_hiragana("ヽヾ") == "ゝゞ"


def test_kanji_detection() -> None:
    assert is_kanji("住")
    assert is_kanji("々")
    assert is_kanji("〆")
    assert is_kanji("\U00020b9f")  # 𠮟, beyond the BMP
    assert not is_kanji("あ")
    assert not is_kanji("ア")
    assert not is_kanji("a")
    assert has_kanji("じゅうみん票")
    assert not has_kanji("じゅうみんひょう")
    assert not has_kanji("")


def test_hiragana_and_katakana_words() -> None:
    assert is_hiragana("あ")
    assert is_hiragana("ー")
    assert not is_hiragana("ア")
    assert is_katakana_word("トイレ")
    assert is_katakana_word("ー")
    assert not is_katakana_word("トイレ2")
    assert not is_katakana_word("といれ")
    assert not is_katakana_word("")


def test_grams() -> None:
    assert grams("じゅうみん", 2) == ["じゅ", "ゅう", "うみ", "みん"]
    assert grams("じ", 2) == ["じ"]
    assert grams("", 2) == []


def test_long_vowels_taken_out_meet_their_slips() -> None:
    for right, slipped in [
        ("じゅうみんひょう", "じゅみんひょう"),
        ("じゅうみんひょう", "じゅうみんひょお"),
        ("なんようび", "なんよおび"),
        ("たくしーけん", "たくしけん"),
        ("しゅうしょく", "しゅしょく"),
    ]:
        assert without_long_vowels(right) == without_long_vowels(slipped)
    assert without_long_vowels("こくみん") == "こくみん"  # nothing long: unchanged
    assert without_long_vowels("かいご") == "かいご"  # い after あ-row is no long vowel
