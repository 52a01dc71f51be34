"""MeCabTokenizer.readings: each morpheme's kana reading beside its index term."""

from __future__ import annotations

from kb.text.mecab import MeCabTokenizer, Reading


def test_readings_give_the_kana_of_each_word_and_its_term(tokenizer: MeCabTokenizer) -> None:
    readings = tokenizer.readings("国民健康保険の申込み")
    assert [r.surface for r in readings] == ["国民", "健康", "保険", "の", "申込み"]
    assert [r.kana for r in readings] == ["こくみん", "けんこう", "ほけん", "の", "もうしこみ"]
    # The term is the lexical index's: the particle has none, 申込み folds to its lemma.
    assert [r.term for r in readings] == ["国民", "健康", "保険", "", "申し込み"]
    assert readings[3] == Reading("の", "の", "", "助詞")


def test_the_surface_stands_in_where_the_dictionary_has_no_reading(
    tokenizer: MeCabTokenizer,
) -> None:
    readings = tokenizer.readings("abc 123、ー、ピカチュウゾ")
    assert [(r.surface, r.kana) for r in readings][:4] == [
        ("abc", "abc"),
        ("123", "123"),
        ("、", "、"),
        ("ー", "ー"),
    ]
    # Katakana, known or not, reads as hiragana.
    assert "".join(r.kana for r in readings[5:]) == "ぴかちゅうぞ"


def test_readings_agree_with_terms_and_survive_long_or_odd_input(
    tokenizer: MeCabTokenizer,
) -> None:
    text = "粗大ごみの出し方を知りたい。" * 200  # longer than one MeCab call
    readings = tokenizer.readings(text)
    assert tuple(r.term for r in readings if r.term) == tokenizer.terms(text)
    assert "".join(r.surface for r in readings) == text
    odd = tokenizer.readings("住民\x00票\ud800です")
    assert next(r.surface for r in odd) == "住民"
    assert tokenizer.readings("") == []
