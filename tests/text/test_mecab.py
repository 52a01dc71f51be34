from __future__ import annotations

from kb.text.mecab import MeCabTokenizer


def test_lemmas_fold_spelling_variants(tokenizer: MeCabTokenizer) -> None:
    # UniDic lemmas unify ゴミ/ごみ and 一人暮らし/独り暮らし, which BM25 then matches.
    assert tokenizer.lemmas("粗大ゴミ") == tokenizer.lemmas("粗大ごみ")
    assert "独り暮らし" in tokenizer.lemmas("一人暮らしの母")


def test_lemmas_keep_content_words_only(tokenizer: MeCabTokenizer) -> None:
    terms = tokenizer.lemmas("ネットで買った健康食品の定期購入が解約できない")
    assert terms == ("ネット", "買う", "健康", "食品", "定期", "購入", "解約")


def test_proper_nouns_keep_their_written_form(tokenizer: MeCabTokenizer) -> None:
    # The UniDic lemma of a place name is its katakana reading, which would never match.
    assert "桜川" in tokenizer.lemmas("桜川市の市役所")


def test_offsets_point_at_surfaces(tokenizer: MeCabTokenizer) -> None:
    text = "母が認知症で心配"
    for token in tokenizer.analyze(text):
        assert text[token.start : token.start + len(token.surface)] == token.surface


def test_morphemes_carry_the_dictionary_tags(tokenizer: MeCabTokenizer) -> None:
    text = "山田さんがネットでｶﾀｶﾅを買う"
    words = tokenizer.morphemes(text)
    assert "".join(w.surface for w in words) == text
    assert words[0][:4] == ("山田", "名詞", "固有名詞", "人名")
    assert [w.lemma for w in words if w.pos1 == "名詞"][1:] == ["ネット", "ｶﾀｶﾅ"]
    assert [w.surface for w in words if w.unknown] == ["ｶﾀｶﾅ"]
    assert tokenizer.morphemes(text) == words
