"""Names in Latin letters (:mod:`kb.text.masking.latin`): romaji and foreign names."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kb.text.masking.latin import latin_name_spans, to_katakana
from kb.text.mecab import MeCabTokenizer

_TOKENIZER = MeCabTokenizer()


@pytest.mark.parametrize(
    ("word", "kana"),
    [
        ("Yamada", "ヤマダ"),
        ("KENJI", "ケンジ"),
        ("Shinnosuke", "シンノスケ"),
        ("Hattori", "ハットリ"),
        ("Ryouko", "リョウコ"),
        ("Tsubasa", "ツバサ"),
        ("Smith", None),
        ("Hello", None),
        ("PDF", None),
    ],
)
def test_romaji_is_read_in_katakana(word: str, kana: str | None) -> None:
    assert to_katakana(word) == kana


def _names(
    text: str,
    *,
    honorific_only: bool = False,
    person_before: Callable[[int], bool] = lambda _start: False,
) -> list[str]:
    spans = latin_name_spans(
        _TOKENIZER, text, honorific_only=honorific_only, person_before=person_before
    )
    return [text[s:e] for s, e in spans]


def test_an_honorific_or_a_title_makes_any_capitalised_run_a_name() -> None:
    assert _names("Maria Santos様へ通知") == ["Maria Santos"]
    assert _names("Kim Minju さんの通訳") == ["Kim Minju"]
    assert _names("Smithさん") == ["Smith"]
    assert _names("Mr. Brown から電話") == ["Brown"]


def test_a_person_noun_before_two_words_makes_them_a_name() -> None:
    before = "相談者 "
    text = before + "NGUYEN THI LAN（ベトナム）"
    found = latin_name_spans(_TOKENIZER, text, person_before=lambda start: start == len(before))
    assert [text[s:e] for s, e in found] == ["NGUYEN THI LAN"]
    # One word is not enough without an honorific: 本人のLINE, 相談者のGmail.
    text = before + "Gmail"
    assert latin_name_spans(_TOKENIZER, text, person_before=lambda start: True) == []


def test_bare_romaji_is_a_name_only_when_every_word_reads_as_one() -> None:
    assert _names("担当 Taro Yamada から") == ["Taro Yamada"]
    assert _names("YAMADA Taro") == ["YAMADA Taro"]
    assert _names("Hanako Suzuki は英語のみ") == ["Hanako Suzuki"]
    assert _names("Kosodate Shienの英語版") == []
    assert _names("Sakuragawa City Office") == []
    assert _names("Hello Workで求職") == []
    assert _names("John Smith") == []  # not romaji, no context: left alone


def test_a_run_glued_to_a_japanese_word_is_a_compound() -> None:
    assert _names("LINEアカウント", person_before=lambda start: True) == []
    assert _names("Google Formで申込み") == []


def test_honorific_only_needs_the_honorific() -> None:
    assert _names("Taro Yamada から", honorific_only=True) == []
    assert _names("Taro Yamadaさん", honorific_only=True) == ["Taro Yamada"]
