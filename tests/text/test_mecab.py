from __future__ import annotations

from typing import Any

import pytest

from kb.text.mecab import MeCabTokenizer
from kb.text.mecab_input import MAX_TAGGER_CHARS
from tests.sample import DOCUMENTS


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


class _Recording(MeCabTokenizer):
    """A tokenizer that records the length of every text its tagger is given."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def _tagger(self) -> Any:
        tagger = super()._tagger()

        def call(text: str) -> Any:
            self.calls.append(len(text))
            assert "\x00" not in text
            text.encode()  # no lone surrogate reaches MeCab
            return tagger(text)

        return call


HOSTILE = [
    "x" * 50_000,
    "1" * 30_000 + "あ" * 3_000,
    ("ab\x00" * 2_000) + "転入届",
    "山田\ud800さん" * 700,
    "e\u0301" * 5_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=["ascii", "digits-kana", "nul", "surrogate", "marks"])
def test_every_method_gives_mecab_bounded_clean_pieces(text: str) -> None:
    recording = _Recording()
    tokens = recording.analyze(text)
    morphemes = recording.morphemes(text)
    terms = recording.terms(text)
    assert recording.lemmas(text) == terms
    readings = recording.readings(text)
    assert len(readings) == len(tokens)
    assert recording.calls
    assert max(recording.calls) <= MAX_TAGGER_CHARS
    for token in tokens:
        assert text[token.start : token.start + len(token.surface)] == token.surface
    # Masking finds each morpheme's surface in the text, in order.
    pos = 0
    for morpheme in morphemes:
        found = text.find(morpheme.surface, pos)
        assert found >= pos, morpheme
        pos = found + len(morpheme.surface)
    assert [m.surface for m in morphemes] == [t.surface for t in tokens]
    assert not any("\ud800" <= ch <= "\udfff" for term in terms for ch in term)


def test_nul_no_longer_hides_the_rest_of_the_text(tokenizer: MeCabTokenizer) -> None:
    # MeCab reads a C string: before, everything after a NUL was silently dropped.
    assert "転出" in tokenizer.terms("転入届\x00転出届")
    assert [t.start for t in tokenizer.analyze("転入\x00転出")] == [0, 3]


def test_lone_surrogates_are_tagged_not_raised(tokenizer: MeCabTokenizer) -> None:
    text = "転入\ud800届"
    tokens = tokenizer.analyze(text)
    assert [t.surface for t in tokens] == ["転入", "\ud800", "届"]
    assert tokenizer.terms(text) == ("転入", "届け")
    assert [m.surface for m in tokenizer.morphemes(text)] == ["転入", "\ud800", "届"]


def test_long_ordinary_text_tags_as_it_would_whole(tokenizer: MeCabTokenizer) -> None:
    # A text longer than one piece is cut at sentence ends, where MeCab's reading does not
    # depend on what came before: the tokens are those of the whole text tagged at once
    # (safe here: far below the length that crashes MeCab).
    sentences = [doc.body for doc in DOCUMENTS] * 10
    text = "".join(s if s.endswith("。") else s + "。" for s in sentences)
    assert len(text) > 3 * MAX_TAGGER_CHARS
    whole: list[tuple[int, str]] = []
    pos = 0
    for word in tokenizer._tagger()(text):
        start = text.find(word.surface, pos)
        pos = start + len(word.surface)
        whole.append((start, word.surface))
    assert [(t.start, t.surface) for t in tokenizer.analyze(text)] == whole
    expected_terms = tokenizer.terms(text)
    assert expected_terms == tuple(
        term for sentence in _sentences(text) for term in tokenizer.terms(sentence)
    )


def _sentences(text: str) -> list[str]:
    return [s + "。" for s in text.split("。") if s]


@pytest.mark.parametrize(
    ("text", "loanwords"),
    [
        ("ネットショッピング", True),
        ("コロナワクチン", True),
        ("ヤマダ", True),  # a name
        ("サギ", False),  # 詐欺 spelled in katakana: Sino-Japanese to UniDic
        ("カゼイショウメイショガホシイ", False),  # unknown to the dictionary
        ("レイゾウコ", False),
    ],
)
def test_loanwords_are_told_from_words_spelled_in_katakana(
    tokenizer: MeCabTokenizer, text: str, loanwords: bool
) -> None:
    assert tokenizer.loanwords(text) is loanwords


def test_kana_cut_into_short_loanwords_is_no_loanword(tokenizer: MeCabTokenizer) -> None:
    # MeCab reads トリタイ (取りたい) as トリ + タイ, both loanwords to UniDic.
    assert [t.surface for t in tokenizer.analyze("トリタイ")] == ["トリ", "タイ"]
    assert not tokenizer.loanwords("トリタイ")
