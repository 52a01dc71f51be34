"""Queries typed in katakana or in romaji, rewritten with the corpus words (rewrite.py)."""

from __future__ import annotations

import pytest

from kb.index.readings import Vocabulary
from kb.search.rewrite import QueryRewriter
from kb.text.mecab import MeCabTokenizer

CONVERSIONS = {
    "じゅうみんひょう": "住民票",
    "かぜいしょうめいしょ": "課税証明書",
    "れいぞうこ": "冷蔵庫",
    "しょぶん": "処分",
    "ほうほう": "方法",
    "てつづき": "手続き",
    "ひっこし": "引っ越し",
    "こくほ": "国保",
    "かいしゃ": "会社",
    "ころ": "頃",
    "としょ": "図書",
    "しんぐ": "寝具",
    "さぎ": "詐欺",
    "まいなんばーかーど": "マイナンバーカード",
    "さけ": "避け",
}
WORDS = {"住民票": 40, "マイナンバー": 9, "カード": 12, "マイナンバーカード": 9, "冷蔵庫": 3}


@pytest.fixture(scope="module")
def rewriter(tokenizer: MeCabTokenizer) -> QueryRewriter:
    return QueryRewriter(Vocabulary(CONVERSIONS, WORDS), tokenizer)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("カゼイショウメイショガホシイ", "課税証明書がほしい"),
        ("レイゾウコの処分方法", "冷蔵庫の処分方法"),
        ("ジュウミンヒョウ トリタイ", "住民票 とりたい"),
        ("ヒッコシテキマシタ テツヅキ", "引っ越してきました 手続き"),
        ("サギ", "詐欺"),  # 詐欺 spelled in katakana (UniDic: 漢), as warnings often write it
    ],
)
def test_katakana_typed_for_its_sound_is_read_as_kana(
    rewriter: QueryRewriter, typed: str, expected: str
) -> None:
    out = rewriter.rewrite(typed)
    assert out.text == expected
    assert out.changed


@pytest.mark.parametrize(
    "typed",
    [
        "マイナンバーカードをなくした",  # the corpus's katakana words
        "ネットショッピング",  # loanwords to MeCab's dictionary (as hiragana: ねっ図書っぴんぐ)
        "シングルマザー",  # a mark no native word has (as hiragana: 寝具るまざー)
        "コロナワクチン",  # a loanword; as hiragana only ころ would convert (頃)
        "ヤマダさんの件",  # a name
    ],
)
def test_loanwords_and_names_stay_in_katakana(rewriter: QueryRewriter, typed: str) -> None:
    assert rewriter.rewrite(typed).text == typed


def test_without_conversion_katakana_is_left_as_typed(rewriter: QueryRewriter) -> None:
    assert rewriter.rewrite("カゼイショウメイショガホシイ", convert=False).text == (
        "カゼイショウメイショガホシイ"
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("juuminhyou toritai", "住民票 とりたい"),
        ("kaisha yameta kokuho tetsuzuki", "会社 やめた 国保 手続き"),
        ("reizouko shobun houhou", "冷蔵庫 処分 方法"),
        ("mainanba-ka-do", "マイナンバーカード"),
    ],
)
def test_romaji_is_read_as_the_japanese_it_spells(
    rewriter: QueryRewriter, typed: str, expected: str
) -> None:
    out = rewriter.rewrite_romaji(typed)
    assert out is not None
    assert out.text == expected


@pytest.mark.parametrize(
    "typed",
    [
        "take me home",  # valid romaji (たけ め ほめ) that spells nothing the corpus writes
        "I want to register my scooter",  # no romaji at all
        "sushi",  # romaji the corpus does not write
    ],
)
def test_english_stays_english(rewriter: QueryRewriter, typed: str) -> None:
    assert rewriter.rewrite_romaji(typed) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("じゅみんひょうがほしい", "住民票がほしい"),  # the first long vowel dropped
        ("じゅうみんひょおがほしい", "住民票がほしい"),  # う typed お
        ("しゅしょくしたのでやめたい", "就職したのでやめたい"),
        ("じゅうみんひょうがほしい", "住民票がほしい"),  # typed right: the exact reading
    ],
)
def test_a_slipped_long_vowel_is_mended(
    typed: str, expected: str, tokenizer: MeCabTokenizer
) -> None:
    conversions = {"じゅうみんひょう": "住民票", "しゅうしょく": "就職", "たいしょう": "対象"}
    conversions["とうかくにん"] = "等確認"
    rewriter = QueryRewriter(Vocabulary(conversions, {}), tokenizer)
    assert rewriter.rewrite(typed).text == expected


@pytest.mark.parametrize(
    "typed",
    [
        "どのようなたいしょができますか",  # 対処, a word the corpus does not write: not 対象
        "ちゃんとかくにんしたい",  # と of ちゃんと + かくにん is no slipped とうかくにん
    ],
)
def test_short_or_split_pieces_are_not_taken_for_a_slip(
    typed: str, tokenizer: MeCabTokenizer
) -> None:
    conversions = {"たいしょう": "対象", "とうかくにん": "等確認"}
    rewriter = QueryRewriter(Vocabulary(conversions, {}), tokenizer)
    assert rewriter.rewrite(typed).text == typed


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # One long vowel of a loanword dropped (まいなんば for まいなんばー), typed as a whole word.
        ("まいなんばかーどのつくりかた", "マイナンバーカードの作りかた"),
        ("まいなんばーかーどのつくりかた", "マイナンバーカードの作りかた"),  # typed right
    ],
)
def test_a_loanword_with_a_slipped_long_vowel_is_mended(
    typed: str, expected: str, tokenizer: MeCabTokenizer
) -> None:
    conversions = {"まいなんばーかーど": "マイナンバーカード", "つくりかた": "作りかた"}
    rewriter = QueryRewriter(Vocabulary(conversions, {}), tokenizer)
    assert rewriter.rewrite(typed).text == expected
