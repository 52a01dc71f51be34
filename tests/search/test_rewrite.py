"""Query rewriting (kb/search/rewrite.py): typos mended, kana converted, with corpus words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.index.readings import Vocabulary, reading_terms
from kb.search.rewrite import _WINDOW, QueryRewriter, _joined
from kb.text.kana import is_katakana_word
from kb.text.mecab import MeCabTokenizer

CONVERSIONS = {
    "こくみん": "国民",
    "ねんきん": "年金",
    "こくみんねんきん": "国民年金",
    "めんじょ": "免除",
    "しんせい": "申請",
    "じゅうみんひょう": "住民票",
    "じゅうみん": "住民",
    "ひつよう": "必要",
    "しない": "市内",
    "さと": "里",
}
WORDS = {
    "国民年金": 9,
    "国民": 20,
    "年金": 30,
    "交通": 12,
    "交通量": 3,
    "再建工事": 2,
    "工事": 8,
    "オープン": 4,
    "トイレ": 5,
    "住民票": 40,
    "世帯主": 6,
    "世帯": 30,
    "ふるさと": 7,
    "保険料": 9,
    "保育料": 4,
}


@pytest.fixture(scope="module")
def rewriter(tokenizer: MeCabTokenizer) -> QueryRewriter:
    return QueryRewriter(Vocabulary(CONVERSIONS, WORDS), tokenizer)


def test_unconverted_kana_becomes_the_corpus_kanji(rewriter: QueryRewriter) -> None:
    out = rewriter.rewrite("こくみんねんきんのめんじょしんせいをしたい")
    # The longest reading wins (国民年金, not 国民 + 年金); particles stay as typed.
    assert out.text == "国民年金の免除申請をしたい"
    assert out.corrections == (
        ("こくみんねんきん", "国民年金"),
        ("めんじょ", "免除"),
        ("しんせい", "申請"),
    )
    assert out.changed


def test_half_converted_queries_and_okurigana(rewriter: QueryRewriter) -> None:
    assert rewriter.rewrite("じゅうみんひょうは必要ですか").text == "住民票は必要ですか"
    # The kana of a word typed with kanji is its okurigana, never a word of its own.
    assert rewriter.rewrite("申しない").text == "申しない"


def test_a_loanword_typed_in_hiragana_becomes_the_corpus_katakana(
    tokenizer: MeCabTokenizer,
) -> None:
    conversions = {
        "まいなんばーかーど": "マイナンバーカード",
        "かーど": "カード",
        "ころな": "コロナ",
        "べる": "ベル",
        "おふ": "オフ",
        "はがき": "ハガキ",
    }
    rewriter = QueryRewriter(Vocabulary(conversions, {}), tokenizer)
    assert rewriter.rewrite("まいなんばーかーど なくした").text == "マイナンバーカード なくした"
    assert rewriter.rewrite("せんきょのはがきがとどかない").text == "せんきょのハガキがとどかない"
    # Where the corpus writes the word in hiragana too, the typed form is its spelling already.
    both = QueryRewriter(Vocabulary(conversions, {"はがき": 3}), tokenizer)
    assert both.rewrite("せんきょのはがきがとどかない").text == "せんきょのはがきがとどかない"
    # A loanword without ー or a small vowel is converted as a whole word of the query only:
    # such kana hide in ordinary words (ところなど, しらべる, おふとん).
    for text in ("できるところなどのしせつ", "しらべることはできますか", "おふとんのだしかた"):
        assert rewriter.rewrite(text).text == text
    # One with such a mark is a loanword wherever it is, however MeCab cut the kana.
    assert rewriter.rewrite("まいなかーどをなくした").text == "まいなカードをなくした"


def test_a_kana_word_of_the_corpus_is_never_converted_in_part(rewriter: QueryRewriter) -> None:
    assert rewriter.rewrite("ふるさと納税").text == "ふるさと納税"


def test_a_clean_query_is_left_alone(rewriter: QueryRewriter, tokenizer: MeCabTokenizer) -> None:
    text = "国民年金の免除を申請したい"
    out = rewriter.rewrite(text)
    assert out.text == text
    assert not out.changed
    assert out.reading_terms == tuple(reading_terms(tokenizer.readings(text)))


@pytest.mark.parametrize(
    ("typed", "mended"),
    [
        ("国民年金金の免除", "国民年金の免除"),  # doubled
        ("交交通量が多い", "交通量が多い"),  # doubled, at the start of a compound
        ("天守再工事の予定", "天守再建工事の予定"),  # dropped inside a compound
        ("公園のイレが汚い", "公園のトイレが汚い"),  # dropped from a katakana word
    ],
)
def test_one_dropped_or_doubled_character_is_mended(
    rewriter: QueryRewriter, typed: str, mended: str
) -> None:
    out = rewriter.rewrite(typed)
    assert out.text == mended
    assert out.corrections
    assert out.corrections[0][1] in mended


def test_known_words_and_compounds_are_no_typos(rewriter: QueryRewriter) -> None:
    # 主 alone is a lone kanji, but 世帯 + 主 is a word of the corpus: not 世帯主婦 or the like.
    assert rewriter.rewrite("世帯主本人が行く").text == "世帯主本人が行く"
    assert rewriter.rewrite("保険料を払う").text == "保険料を払う"


def test_the_most_frequent_word_is_chosen_when_several_fit(rewriter: QueryRewriter) -> None:
    assert rewriter.rewrite("保料の減免").text == "保険料の減免"


def test_the_reading_terms_are_those_of_the_mended_query(
    rewriter: QueryRewriter, tokenizer: MeCabTokenizer
) -> None:
    out = rewriter.rewrite("交交通量")
    assert out.reading_terms == tuple(reading_terms(tokenizer.readings("交通量")))


def test_each_step_can_be_switched_off(rewriter: QueryRewriter) -> None:
    assert rewriter.rewrite("交交通のしんせい", mend=False).text == "交交通の申請"
    assert rewriter.rewrite("交交通のしんせい", convert=False).text == "交通のしんせい"
    assert (
        rewriter.rewrite("交交通のしんせい", mend=False, convert=False).text == "交交通のしんせい"
    )


@pytest.mark.parametrize(
    "text",
    ["", " ", "a", "ー", "ーーー", "ぁ", "123", "how to get a residence certificate", "\ufffd",
     "あ" * 3000, "交" * 600, "国民年金金" * 200],
)  # fmt: skip
def test_odd_input_never_fails(rewriter: QueryRewriter, text: str) -> None:
    out = rewriter.rewrite(text)
    assert isinstance(out.text, str)
    assert len(out.text) <= len(text) + len(out.corrections) * 4


def test_an_empty_vocabulary_changes_nothing(tokenizer: MeCabTokenizer) -> None:
    rewriter = QueryRewriter(Vocabulary({}, {}), tokenizer)
    out = rewriter.rewrite("こくみんねんきん交交通")
    assert out.text == "こくみんねんきん交交通"
    assert not out.changed
    assert out.reading_terms


def test_only_the_most_frequent_words_are_typo_targets(
    tokenizer: MeCabTokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.search import rewrite as rewrite_module

    monkeypatch.setattr(rewrite_module, "TYPO_TARGETS", 1)
    rewriter = QueryRewriter(Vocabulary({}, {"住民票": 40, "再建工事": 2}), tokenizer)
    assert rewriter.rewrite("民票の写し").text == "住民票の写し"
    assert rewriter.rewrite("天守再工事").text == "天守再工事"


# --- a lone kanji left of a two-kanji word (weighed against the index's chunks) ---------------

PAIR_WORDS = {"免許": 9, "免除": 3, "更新": 7, "家庭": 12, "家": 4, "運転": 5, "保険": 6}
PAIR_CHUNKS = [
    "運転免許の更新は警察署で受け付けます",
    "運転免許証の更新の手続き",
    "国民年金の免除の申請",
    "家庭ごみの出し方",
    "家の前の道路",
]


@pytest.fixture(scope="module")
def pair_rewriter(tokenizer: MeCabTokenizer) -> QueryRewriter:
    from kb.index.lexical import LexicalIndex

    texts = [list(tokenizer.terms(chunk)) for chunk in PAIR_CHUNKS]
    lexical = LexicalIndex.build([[] for _ in texts], texts)
    return QueryRewriter(Vocabulary({}, PAIR_WORDS), tokenizer, lexical)


def test_a_lone_kanji_becomes_the_two_kanji_word_its_context_supports(
    pair_rewriter: QueryRewriter,
) -> None:
    # 免 is no word of this corpus; of 免許 and 免除, the chunks holding 更新 hold 免許.
    out = pair_rewriter.rewrite("免の更新はどこで")
    assert out.text == "免許の更新はどこで"
    assert out.corrections == (("免", "免許"),)


def test_a_lone_kanji_the_corpus_uses_as_a_word_is_left_alone(
    pair_rewriter: QueryRewriter,
) -> None:
    # 家 is a word of the corpus (家の前): typed as meant, never 家庭.
    assert pair_rewriter.rewrite("家の前の道路").text == "家の前の道路"


def test_without_support_or_without_the_index_nothing_is_restored(
    pair_rewriter: QueryRewriter, tokenizer: MeCabTokenizer
) -> None:
    # 免 next to words no chunk holds together with 免許 or 免除: no evidence, left alone.
    assert pair_rewriter.rewrite("免のピザ").text == "免のピザ"
    plain = QueryRewriter(Vocabulary({}, PAIR_WORDS), tokenizer)
    assert plain.rewrite("免の更新はどこで").text == "免の更新はどこで"


def test_the_support_must_beat_the_kanji_as_typed_by_the_ratio(tokenizer: MeCabTokenizer) -> None:
    from kb.index.lexical import LexicalIndex

    # One chunk holds 免 as a word of its own (once: no word of the vocabulary), beside 更新.
    texts = [list(tokenizer.terms(chunk)) for chunk in [*PAIR_CHUNKS, "免の更新"]]
    lexical = LexicalIndex.build([[] for _ in texts], texts)

    def rewriter(ratio: float) -> QueryRewriter:
        vocabulary = Vocabulary({}, PAIR_WORDS)
        return QueryRewriter(vocabulary, tokenizer, lexical, context_ratio=ratio)

    assert rewriter(1.0).rewrite("免の更新はどこで").text == "免許の更新はどこで"
    assert rewriter(1000.0).rewrite("免の更新はどこで").text == "免の更新はどこで"


# --- grammar is never converted (issue 16: 「オープンしない」 became オープン市内) ---------------


def _words(text: str) -> list[str]:
    return text.split()


GRAMMAR_QUERIES = _words(
    """
パソコンが起動しない オープンしないのですか 申請できますか 申請しました
申請しています 申請していない 申請したいのですが 申請させたい 申請させられる
申請しなければならない 申請しないでください 申請してもらえますか
申請していただけますか 申請しておく 申請してしまった 申請してほしい 申請ができない
申請はまだですか 申請はもうできますか 申請がありません 申請があります 申請になります
申請になりました 申請でした 申請だった 申請でしょうか 申請ですか 申請だろう
申請なのですか 申請のようです 申請みたいです 申請するように 申請するような 申請だけ
申請しか 申請ほど 申請くらい 申請など 申請から 申請まで 申請なので 申請なのに
申請だけど 申請だけれど 申請しても 申請でも 申請ばかり 申請より 申請しながら
申請したり 申請って 申請とか 書いてください 書かれる 書けない 書かなくて
書いていた 書いていて 行かなかった 来ませんでした 申請していいですか
申請してよいですか わたしが申請 これは申請 それを申請 どこで申請 なにを申請
いつ申請 だれが申請 申請することができますか 申請するときは 申請するためには
申請したところ 申請するはずです 申請するわけではない 子どもが生まれたら
手続きをしたいのですが 窓口はどこですか 自治会に入っていない 参加させたい
私はまだ65歳 送らないように 受診しないといけないのですか しない ない です
ください いる なる する します ありません できます でしょうか ですか
"""
)


def _hiragana_runs(text: str) -> list[str]:
    runs, run = [], ""
    for ch in text + "。":
        if "\u3041" <= ch <= "\u3096":
            run += ch
        elif run:
            runs.append(run)
            run = ""
    return runs


@pytest.fixture(scope="module")
def greedy_rewriter(tokenizer: MeCabTokenizer) -> QueryRewriter:
    """A corpus that writes *every* kana stretch of :data:`GRAMMAR_QUERIES` with kanji."""
    conversions = {
        run[i:j]: "漢字"
        for query in GRAMMAR_QUERIES
        for run in _hiragana_runs(query)
        for i in range(len(run))
        for j in range(i + 2, len(run) + 1)
    }
    return QueryRewriter(Vocabulary(conversions, {}), tokenizer)


def test_the_grammar_queries_are_many_and_varied() -> None:
    runs = {run for query in GRAMMAR_QUERIES for run in _hiragana_runs(query)}
    assert len(GRAMMAR_QUERIES) >= 90
    assert len(runs) >= 60


@pytest.mark.parametrize("query", GRAMMAR_QUERIES)
def test_kana_that_is_grammar_is_never_converted(
    greedy_rewriter: QueryRewriter, query: str
) -> None:
    # Particles, auxiliaries, light verbs and inflections, after a word typed in kanji or
    # katakana, or a whole query of them: whatever the corpus writes with kanji, never a
    # content word.
    out = greedy_rewriter.rewrite(query, mend=False)
    assert out.text == query
    assert not out.corrections


def test_the_reported_queries_keep_their_grammar(rewriter: QueryRewriter) -> None:
    # The fixture's corpus writes しない as 市内.
    assert rewriter.rewrite("パソコンが起動しない").text == "パソコンが起動しない"
    assert rewriter.rewrite("オープンしないのですか").text == "オープンしないのですか"
    # At the start of a query or a phrase, しない has nothing to inflect: it is 市内.
    assert rewriter.rewrite("しないのじゅうみんひょう").text == "市内の住民票"
    assert rewriter.rewrite("国民年金 しないのじゅうみん").text == "国民年金 市内の住民"
    assert rewriter.rewrite("国民年金、しないで").text == "国民年金、市内で"
    # After a closing bracket it still belongs to what the brackets close.
    assert rewriter.rewrite("(申請)しないのですか").text == "(申請)しないのですか"


@pytest.mark.parametrize(
    ("typed", "converted"),
    [
        # MeCab cuts these into pieces it calls particles or verb endings, but some piece is
        # no modern grammar (classical ど, dialect けん, a lone い): still converted.
        ("せいどについて", "制度について"),
        ("いいんかいのにってい", "委員会の日程"),
        ("しけんみんぜいのしょうめいしょ", "市県民税の証明書"),
    ],
)
def test_a_content_word_cut_into_grammar_like_pieces_is_converted(
    tokenizer: MeCabTokenizer, typed: str, converted: str
) -> None:
    conversions = {
        "せいど": "制度",
        "いいんかい": "委員会",
        "にってい": "日程",
        "しけんみんぜい": "市県民税",
        "しょうめいしょ": "証明書",
    }
    rewriter = QueryRewriter(Vocabulary(conversions, {}), tokenizer)
    assert rewriter.rewrite(typed).text == converted


# --- a katakana word is mended whole (issue 16: 「インスタ」 became ラインスタ) -----------------


def test_a_piece_of_an_unknown_katakana_word_is_no_typo(tokenizer: MeCabTokenizer) -> None:
    # MeCab cuts インスタ into イン + スタ; イン is ライン less one character, but mending it
    # would leave スタ, no word of the corpus, behind.
    words = {"ライン": 9, "トイレ": 5, "マイナンバー": 4, "カード": 6, "相談": 9}
    rewriter = QueryRewriter(Vocabulary({}, words), tokenizer)
    for query in ("インスタ", "インスタで相談", "インスタグラムで相談"):
        out = rewriter.rewrite(query)
        assert out.text == query
        assert not out.corrections
    # A katakana word mended whole, or one part of it where the rest is corpus words.
    assert rewriter.rewrite("公園のイレ").text == "公園のトイレ"
    # MeCab reads マイナンバーカド as マイ + ナンバー + カド: カド is mended, and the rest is
    # the corpus word マイナンバー.
    assert rewriter.rewrite("マイナンバーカドの申請").text == "マイナンバーカードの申請"


def _reference_kept(rewriter: QueryRewriter, words: list[Any]) -> Callable[[int, int], bool]:
    """The per-span scan that :meth:`QueryRewriter._katakana_kept` replaced (quadratic)."""

    def corpus(first: int, last: int) -> bool:
        ok = [True] + [False] * (last - first)
        for end in range(1, last - first + 1):
            ok[end] = any(
                ok[s] and _joined(words, first + s, first + end) in rewriter._words
                for s in range(max(0, end - _WINDOW), end)
            )
        return ok[-1]

    def joined(a: int) -> bool:
        return (
            words[a].end == words[a + 1].start
            and is_katakana_word(words[a].reading.surface)
            and is_katakana_word(words[a + 1].reading.surface)
        )

    def kept(first: int, last: int) -> bool:
        start, end = first, last
        while start > 0 and joined(start - 1):
            start -= 1
        while end < len(words) and joined(end - 1):
            end += 1
        return corpus(start, first) and corpus(last, end)

    return kept


KATAKANA_QUERIES = st.lists(
    st.sampled_from(
        ["トイ", "レ", "イレ", "オー", "プン", "オープン", "ヴ", "ン", "ー", "の", "国民", " "]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(KATAKANA_QUERIES)
def test_katakana_bounds_match_the_per_span_scan(tokenizer: MeCabTokenizer, text: str) -> None:
    rewriter = QueryRewriter(Vocabulary(CONVERSIONS, WORDS), tokenizer)
    readings = tokenizer.readings(text)
    fast = rewriter.mend(text, readings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            QueryRewriter, "_katakana_kept", lambda self, words: _reference_kept(self, words)
        )
        assert rewriter.mend(text, readings) == fast
