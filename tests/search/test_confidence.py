"""The no-answer decision: a corpus-calibrated dense scale, content and lexical checks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kb.search.confidence import (
    BACKGROUND_MARGIN,
    BACKGROUND_Z,
    HIGH_Z,
    LANGUAGE_OFFSET,
    NO_ANSWER_Z,
    KindScale,
    PaneEvidence,
    best,
    calibrate,
    decide,
    has_content,
    has_words,
    hit_text,
    is_answered,
    pane_confidence,
    pane_evidence,
)
from kb.search.query_words import (
    RARE_CHUNKS,
    TITLED_HITS,
    names_elsewhere,
    noun_compounds,
    shares_words,
    specific,
    titled,
)
from kb.search.searcher import Searcher
from kb.text.mecab import MeCabTokenizer
from kb.types import Filters, Hit, PaneConfidence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zzzzzz", False),
        ("ZZZ zz", False),
        ("。", False),
        ("？？", False),
        ("😀😀", False),
        ("123 456", False),
        ("", False),
        ("sofa", True),
        ("How do I throw away a sofa?", True),
        ("thuế nhà", True),
        ("垃圾怎么扔", True),
        ("쓰레기", True),
        ("asdfghjkl", True),  # a word for all it knows: the dense side decides
    ],
)
def test_a_query_in_another_script_needs_a_word(text: str, expected: bool) -> None:
    assert has_words(text) is expected
    assert has_content(text, (), japanese=False) is expected


def test_a_japanese_query_needs_a_content_term() -> None:
    assert has_content("。", (), japanese=True) is False
    assert has_content("こんにちは", (), japanese=True) is False
    assert has_content("転入届", ("転入", "届け"), japanese=True) is True


def _unit(rows: list[list[float]]) -> np.ndarray:
    vectors = np.asarray(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_calibration_compares_titles_with_other_documents_only() -> None:
    rng = np.random.default_rng(3)
    vectors = _unit(rng.normal(size=(7, 8)).tolist())
    titles = _unit(rng.normal(size=(7, 8)).tolist())
    # Chunks 0-1 are one FAQ, 2-4 three more; 5 the only case; 6 a manual section.
    doc_of = np.array(["faq:A", "faq:A", "faq:B", "faq:C", "faq:D", "case:X", "manual:m"])
    positions = {
        "faq": np.arange(5),
        "case": np.array([5]),
        "manual": np.array([6]),
        "department": np.zeros(0, dtype=np.int64),
    }
    cal = calibrate(vectors, titles, doc_of, positions, title_weight=0.25)
    faq = cal.scale("faq")
    assert faq is not None
    expected = [
        0.75 * float(titles[i] @ vectors[j]) + 0.25 * float(titles[i] @ titles[j])
        for i in range(5)
        for j in range(5)
        if doc_of[i] != doc_of[j]
    ]
    assert faq.pairs == len(expected) == 5 * 5 - 5 - 2  # neither itself nor its own chunks
    assert faq.mean == pytest.approx(np.mean(expected), abs=1e-6)
    assert faq.std == pytest.approx(np.std(expected), abs=1e-6)
    # A kind with one document (or none) cannot be calibrated.
    assert cal.scale("case") is None
    assert cal.scale("manual") is None
    assert cal.scale("department") is None
    assert faq.z(faq.mean + 2 * faq.std) == pytest.approx(2.0)


def test_calibration_is_deterministic_and_samples_large_kinds() -> None:
    rng = np.random.default_rng(5)
    n = 6000
    vectors = _unit(rng.normal(size=(n, 4)).tolist())
    doc_of = np.array([f"case:{i}" for i in range(n)])
    positions = {"case": np.arange(n)}
    first = calibrate(vectors, vectors, doc_of, positions, title_weight=0.5)
    again = calibrate(vectors, vectors, doc_of, positions, title_weight=0.5)
    assert first == again
    scale = first.scale("case")
    assert scale is not None
    assert scale.pairs < 256 * 4096 + 1  # sampled, not 6000 x 6000
    assert abs(scale.mean) < 0.05  # random directions: about orthogonal on average


SCALE = KindScale(mean=0.8, std=0.02, pairs=100)


def _hit(dense: float, lexical: float = 0.0) -> Hit:
    return Hit("faq:F1#0", "faq:F1", "faq", 1.0, dense_score=dense, lexical_score=lexical)


@pytest.mark.parametrize(
    ("evidence", "level"),
    [
        (PaneEvidence(hits=3, dense_z=2.0, lexical=True, content=True), "high"),
        (PaneEvidence(hits=3, dense_z=0.5, lexical=True, content=True), "low"),
        (PaneEvidence(hits=3, dense_z=-0.1, lexical=True, content=True), "none"),
        (PaneEvidence(hits=3, dense_z=5.0, lexical=False, content=True), "none"),
        (PaneEvidence(hits=3, dense_z=5.0, lexical=True, content=False), "none"),
        (PaneEvidence(hits=0, dense_z=None, lexical=None, content=True), "none"),
        (PaneEvidence(hits=3, dense_z=1.5, lexical=None, content=True), "high"),  # dense only
        (PaneEvidence(hits=3, dense_z=None, lexical=True, content=True), "low"),  # lexical only
    ],
)
def test_decide(evidence: PaneEvidence, level: str) -> None:
    assert decide(evidence) == level


@pytest.mark.parametrize(
    ("dense_z", "japanese", "level"),
    [
        (-0.5, True, "none"),
        # Another language scores lower against Japanese text.
        (NO_ANSWER_Z - LANGUAGE_OFFSET + 0.01, False, "low"),
        (NO_ANSWER_Z - LANGUAGE_OFFSET - 0.01, False, "none"),
        (HIGH_Z - LANGUAGE_OFFSET, False, "high"),
        (HIGH_Z - LANGUAGE_OFFSET, True, "none"),  # the same score of a Japanese query
        (-3.0, False, "none"),  # the sofa -> kitten case stays refused
    ],
)
def test_a_query_in_another_language_is_read_with_the_language_offset(
    dense_z: float, japanese: bool, level: str
) -> None:
    evidence = PaneEvidence(hits=3, dense_z=dense_z, lexical=None, content=True, japanese=japanese)
    assert decide(evidence) == level
    # Without the offset both languages are read alike (what eval/no_answer.py compares).
    alike = PaneEvidence(hits=3, dense_z=dense_z, lexical=None, content=True)
    assert decide(evidence, language_offset=0.0) == decide(alike)


def test_the_language_offset_never_rescues_a_query_without_content() -> None:
    nothing = PaneEvidence(hits=3, dense_z=5.0, lexical=None, content=False, japanese=False)
    assert decide(nothing) == "none"


def _evidence(hits: list[Hit], **overrides: object) -> PaneEvidence:
    args: dict[str, object] = {"content": True, "dense_side": True, "lexical": True}
    args.update(overrides)
    return pane_evidence(hits, SCALE, **args)  # type: ignore[arg-type]


def test_the_cut_points_are_units_of_the_corpus_spread() -> None:
    assert NO_ANSWER_Z < HIGH_Z
    assert decide(_evidence([_hit(0.8 - 0.001)])) == "none"
    at_mean = _evidence([_hit(0.8)])
    assert decide(at_mean) == "low"
    assert decide(_evidence([_hit(0.8201)])) == "high"
    # A stricter threshold (as eval/no_answer.py tries) moves the line.
    assert decide(at_mean, no_answer_z=0.5) == "none"


def test_evidence_reads_the_best_dense_score() -> None:
    hits = [_hit(0.81), _hit(0.85), _hit(0.79), _hit(0.9)]
    assert _evidence(hits).dense_z == pytest.approx((0.9 - 0.8) / 0.02)
    assert _evidence(hits, dense_side=False).dense_z is None
    assert pane_evidence(hits, None, content=True, dense_side=True, lexical=None).dense_z is None
    assert _evidence(hits, lexical=None).lexical is None
    assert _evidence(hits).japanese is True
    assert _evidence(hits, japanese=False).japanese is False


def _talk(dense_z: float, margin: float | None, japanese: bool = True) -> PaneEvidence:
    return PaneEvidence(
        hits=3, dense_z=dense_z, lexical=True, content=True, japanese=japanese, background=margin
    )


@pytest.mark.parametrize(
    ("dense_z", "margin", "level"),
    [
        (0.5, BACKGROUND_MARGIN, "none"),  # as close to small talk as to the corpus: refused
        (0.5, BACKGROUND_MARGIN + 0.001, "low"),
        (HIGH_Z - 0.01, -0.5, "none"),
        (HIGH_Z, -0.5, "high"),  # a sure match is never overruled by the background
        (BACKGROUND_Z, 0.1, "low"),  # checked against the background, the z cut is lower
        (BACKGROUND_Z - 0.01, 0.1, "none"),
        (BACKGROUND_Z, None, "none"),  # not checked (no background): the plain cut point
        (NO_ANSWER_Z, None, "low"),
    ],
)
def test_small_talk_is_no_answer(dense_z: float, margin: float | None, level: str) -> None:
    assert BACKGROUND_Z < NO_ANSWER_Z
    assert decide(_talk(dense_z, margin)) == level


@pytest.mark.parametrize(
    ("dense_z", "margin", "level"),
    [
        (0.5, -0.5, "low"),  # closer to small talk, but the corpus's questions are about it
        (BACKGROUND_Z, -0.5, "low"),  # the cut point read with the background, as before
        (BACKGROUND_Z - 0.01, -0.5, "none"),
        (BACKGROUND_Z - 0.01, 0.1, "none"),
    ],
)
def test_a_keyword_the_corpus_titles_hold_is_not_overruled_by_the_background(
    dense_z: float, margin: float, level: str
) -> None:
    keyword = replace(_talk(dense_z, margin), titled=True)
    assert decide(keyword) == level


@pytest.mark.parametrize(
    ("dense_z", "margin", "level"),
    [
        (BACKGROUND_Z - 2.0, 0.1, "low"),  # far below the cut point: still answered, low
        (0.5, -0.5, "low"),  # closer to small talk: not overruled
        (HIGH_Z + 0.5, 0.1, "high"),  # a floor, never a ceiling
    ],
)
def test_a_term_only_the_corpus_speaks_of_is_answered_at_least_low(
    dense_z: float, margin: float, level: str
) -> None:
    # 「おくやみコーナー」, 「限度額適用認定証」: a second city's own words in one answer, which
    # the model reads no better than a stranger's (refused as no answer before).
    rare = replace(_talk(dense_z, margin), specific=True)
    assert decide(rare) == level
    assert decide(rare, specific_floor=False) == decide(_talk(dense_z, margin))
    # No shared word, or nothing to search for: still no answer.
    assert decide(replace(rare, lexical=False)) == "none"
    assert decide(replace(rare, content=False)) == "none"


def test_specific_needs_a_rare_compound_as_written_and_every_word_in_one_hit(
    tokenizer: MeCabTokenizer,
) -> None:
    texts = [
        hit_text("ご家族が亡くなったとき", "市民課のおくやみコーナーで手続きをご案内します。"),
        hit_text("高額療養費について", "限度額適用認定証を提示すると窓口の支払いが減ります。"),
        hit_text("充電器の回収", "元気な方も距離のある方も、充電池は回収箱へ。"),
    ]
    lemmas = tokenizer.lemmas
    common = frozenset(lemmas("手続き 窓口 支払い ご案内 回収"))

    def frequency(word: str) -> int:
        return 500 if word in common else 1  # every other word is rare in this index

    def check(query: str) -> bool:
        words = tokenizer.morphemes(query)
        return specific(lemmas(query), noun_compounds(words), texts, lemmas, frequency, 2500)

    assert RARE_CHUNKS >= 1
    assert check("おくやみコーナー")
    assert check("限度額適用認定証")
    assert check("限度額適用認定証の申請") is False  # 申請 is in no hit
    # Everyday words the corpus happens to hold once: short, not a term of its trade.
    assert not check("元気ですか")
    assert not check("充電")
    # Words spread over two hits, or a compound not written so in any hit.
    assert not check("おくやみコーナーの限度額")
    assert not check("認定証限度額")
    assert noun_compounds(tokenizer.morphemes("限度額適用認定証を出したい")) == (
        "限度額適用認定証",
    )


def test_titled_needs_every_word_of_the_query_in_several_titles(
    tokenizer: MeCabTokenizer,
) -> None:
    texts = [
        hit_text("引越しで一度にたくさんのごみが出ます。", "許可業者に見積もりを頼んでください。"),
        hit_text("市外へ引越しする予定です。転出届はどこで出せますか。", ""),
        hit_text("市内で引っ越しをしました。手続きは要りますか。", "今何時でも受け付けます。"),
    ]
    lemmas = tokenizer.lemmas
    assert TITLED_HITS == 2
    assert titled(lemmas("引っ越し"), texts, lemmas)
    assert not titled(lemmas("引っ越してきた"), texts, lemmas)  # the verb: in no title here
    assert not titled(lemmas("転出届"), texts, lemmas)  # one question's words: not a subject
    assert titled(lemmas("転出届"), [*texts, texts[1]], lemmas)
    # Words found only in a body, or spread over two titles, do not make a subject.
    assert not titled(lemmas("引越し業者の見積もり"), texts, lemmas)
    assert not titled(lemmas("今何時"), texts, lemmas)
    assert not titled(lemmas("ごみの転出"), texts, lemmas)
    assert not titled(lemmas("あしたの天気"), texts, lemmas)
    assert not titled((), texts, lemmas)


def test_the_background_margin_is_the_best_dense_score_minus_the_closest_background() -> None:
    hits = [_hit(0.81), _hit(0.9)]
    assert _evidence(hits, background=0.95).background == pytest.approx(0.9 - 0.95)
    assert _evidence(hits).background is None
    # Another language is compared with the background too: both sides are across languages.
    english = _evidence(hits, background=0.95, japanese=False).background
    assert english == pytest.approx(0.9 - 0.95)
    assert _evidence(hits, background=0.95, dense_side=False).background is None


@pytest.mark.parametrize(
    ("dense_z", "margin", "level"),
    [
        # Closer to the corpus than to small talk: its offset lifts it over the cut.
        (BACKGROUND_Z - LANGUAGE_OFFSET + 0.1, 0.1, "low"),
        (BACKGROUND_Z - LANGUAGE_OFFSET + 0.1, BACKGROUND_MARGIN, "none"),  # as close: refused
        (HIGH_Z - LANGUAGE_OFFSET, -0.5, "high"),  # sure, with its offset: never overruled
        (BACKGROUND_Z - LANGUAGE_OFFSET - 0.01, 0.1, "none"),
        (-3.0, 0.1, "none"),  # the sofa -> kitten case stays refused
    ],
)
def test_a_query_in_another_language_is_read_against_the_background(
    dense_z: float, margin: float, level: str
) -> None:
    assert decide(_talk(dense_z, margin, japanese=False)) == level


def test_the_searcher_marks_a_query_in_another_language(searcher: Searcher) -> None:
    _, english = searcher.retrieve_with_confidence("How do I throw away a sofa?", k=3)
    assert english.japanese is False
    assert english.lexical is None  # answered by the dense side alone
    _, japanese = searcher.retrieve_with_confidence("粗大ごみを出したい", k=3)
    assert japanese.japanese is True
    assert japanese.lexical is True


def test_the_searcher_reads_whether_a_title_holds_the_query(searcher: Searcher) -> None:
    _, keyword = searcher.retrieve_with_confidence("住民票", k=3)
    assert keyword.titled is True  # two questions are about 住民票
    _, one = searcher.retrieve_with_confidence("転入", k=3)
    assert one.titled is False  # one question is
    _, sentence = searcher.retrieve_with_confidence("住民票はいつまでに出せばいい", k=3)
    assert sentence.titled is False  # いつ and 出す are in no title
    _, dense_only = searcher.retrieve_with_confidence("住民票", k=3, mode="dense")
    assert dense_only.titled is False  # no lexical side, nothing read of the hits


def test_a_shared_word_is_a_lemma_of_the_query_in_a_hits_text(
    tokenizer: MeCabTokenizer,
) -> None:
    terms = tokenizer.lemmas("粗大ごみを出したい")
    assert shares_words(terms, ["粗大ゴミの申し込み"], tokenizer.lemmas)
    assert shares_words(terms, ["犬の登録", "ゴミの分別"], tokenizer.lemmas)  # any of the texts
    # Kana bigrams in common are not a word in common.
    assert not shares_words(tokenizer.lemmas("あしたの天気"), ["あしたば"], tokenizer.lemmas)
    assert not shares_words((), ["粗大ごみ"], tokenizer.lemmas)
    assert not shares_words(terms, [], tokenizer.lemmas)
    long_body = "あ" * 5000 + "粗大ごみ"
    assert not shares_words(terms, [hit_text("題", long_body)], tokenizer.lemmas)
    assert shares_words(terms, [hit_text("粗大ごみ", long_body)], tokenizer.lemmas)


def test_the_department_pane_is_as_sure_as_its_surest_evidence() -> None:
    levels = {"faq": "none", "case": "low", "manual": "high", "department": "none"}
    conf = pane_confidence(levels, ("faq", "case", "manual", "department"))  # type: ignore[arg-type]
    assert conf == PaneConfidence(faq="none", case="low", manual="high", department="low")
    only_cases = pane_confidence(levels, ("case",))  # type: ignore[arg-type]
    assert only_cases == PaneConfidence(case="low")
    assert is_answered(only_cases)
    assert not is_answered(PaneConfidence(faq="none", department="none"))
    assert not is_answered(PaneConfidence())
    assert best([]) == "none"
    assert best(["low", "high", "none"]) == "high"


def test_the_searcher_says_when_it_has_no_answer(searcher: Searcher) -> None:
    found = searcher.search("粗大ごみを出したい", k=3)
    assert found.answered
    assert found.confidence.faq == "high"
    assert found.confidence.department in ("high", "low")
    assert found.faqs[0].id == "F6"
    for query in ("zzzzzz", "。", "ぬぬぬぬぬぬ"):
        nothing = searcher.search(query, k=3)
        assert not nothing.answered, query
        assert nothing.confidence == PaneConfidence("none", "none", "none", "none"), query
        assert nothing.faqs, "staff still see the least bad hits, marked none"
    public = searcher.search("zzzzzz", filters=Filters(kinds=("faq",), published_only=True))
    assert public.confidence == PaneConfidence(faq="none")
    assert not public.filtered  # every public search is like this


@pytest.mark.parametrize(
    ("query", "elsewhere"),
    [
        ("大阪市の粗大ごみの料金", True),
        ("横浜市の保育園の空き状況", True),
        ("ヨコハマ市の保育園", True),
        ("桜川の粗大ごみ", False),  # no 市: a place in the city, or the city itself
        ("大阪市から引っ越してきた", False),  # said otherwise: a question for this city
        ("粗大ごみは大阪市の料金と同じ？", False),  # not what the question opens with
        ("市の粗大ごみの料金", False),
        # An outside clerk's probe: the owner said with its city hall, its 庁, or で and a
        # thing done there.
        ("大阪市で粗大ごみを出したい", True),
        ("大阪市で住民票を取りたい", True),
        ("横浜市役所 住民票", True),
        ("大阪市役所の電話番号", True),
        ("大阪府庁の電話", True),
        ("大阪市に引っ越します", False),  # moving there: this city's 転出
        ("大阪市在住の母の介護", False),  # a citizen's mother far away: asked here
        ("大阪市内の病院", False),
        ("大阪市民です", False),
        # A reviewer's in-domain questions: where something happened or someone works, a
        # place and a procedure with no particle, the corpus's own city named too.
        ("横浜市で母が亡くなった", False),
        ("大阪市で働いています。住民税はどこに払いますか", False),
        ("大阪市 転出", False),
        ("横浜市 死亡 届", False),
        ("横浜市役所に勤めています", False),
        ("大阪市で働いていますが保育園は桜川市で申し込めますか", False),
    ],
)
def test_a_question_about_another_citys_service(
    tokenizer: MeCabTokenizer, query: str, elsewhere: bool
) -> None:
    known = {"桜川", "粗大", "塵", "料金", "保育"}
    assert names_elsewhere(tokenizer.morphemes(query), known) == elsewhere
    # The corpus's own city passes.
    assert not names_elsewhere(tokenizer.morphemes(query), known | {"大阪", "横浜", "ヨコハマ"})


def test_the_searcher_has_no_answer_for_another_citys_service(searcher: Searcher) -> None:
    mine = searcher.search("粗大ごみの料金", k=3)
    assert mine.answered
    theirs = searcher.search("大阪市の粗大ごみの料金", k=3)
    assert not theirs.answered
    assert theirs.confidence.faq == "none"
    assert theirs.faqs, "staff still see the hits, marked none"


def test_a_lexical_search_is_never_sure(searcher: Searcher) -> None:
    result = searcher.search("粗大ごみを出したい", k=3, mode="lexical")
    assert result.confidence.faq == "low"  # words in common; no model to vouch for the meaning
    assert searcher.search("ピザの配達", k=3, mode="lexical").confidence.faq == "none"


@pytest.mark.parametrize(
    ("filters", "narrowed"),
    [
        (Filters(), False),
        (Filters(kinds=("department", "faq", "case", "manual")), False),
        (Filters(kinds=("faq",), published_only=True), False),
        (Filters(kinds=("faq", "case")), True),
        (Filters(departments=("市民課",)), True),
        (Filters(categories=("介護",)), True),
        (Filters(date_from="2024-01-01"), True),
        (Filters(date_to="2024-01-01"), True),
        (Filters(kinds=("faq",), published_only=True, categories=("介護",)), True),
    ],
)
def test_a_search_knows_whether_it_was_narrowed(
    searcher: Searcher, filters: Filters, narrowed: bool
) -> None:
    assert filters.narrowed is narrowed
    assert searcher.search("転入", k=3, filters=filters).filtered is narrowed


def test_the_scale_follows_the_searchers_title_weight(searcher: Searcher) -> None:
    first = searcher.calibration
    weight = searcher.config.title_weight
    searcher.config = replace(searcher.config, title_weight=0.0)
    assert searcher.calibration != first  # scores blend the vectors differently now
    searcher.config = replace(searcher.config, title_weight=weight)
    assert searcher.calibration == first
