"""Suggest matches readings (kb/search/suggest.py): kana typed before conversion finds kanji."""

from __future__ import annotations

import pytest

from kb.search.suggest import Suggester
from kb.text.mecab import MeCabTokenizer

QUESTIONS = [
    ("A", "住民票の写しはどこで取れますか。", "市民課"),
    ("B", "コンビニで住民票を取れますか。", "市民課"),
    ("C", "粗大ごみの出し方", "ごみ減量推進課"),
    ("D", "国民健康保険に加入したい", "保険年金課"),
    ("E", "十五夜のお月見会はありますか", "文化振興課"),
]


@pytest.fixture(scope="module")
def suggester(tokenizer: MeCabTokenizer) -> Suggester:
    return Suggester(QUESTIONS, tokenizer)


def _ids(suggester: Suggester, text: str) -> list[str]:
    return [s.id for s in suggester.suggest(text)]


def test_kana_typed_before_conversion_finds_the_kanji_question(suggester: Suggester) -> None:
    # 「じゅうみ」: the start of 住民票 as typed; the question that starts with it comes first.
    assert _ids(suggester, "じゅうみ")[:2] == ["A", "B"]
    assert _ids(suggester, "じゅうみんひょう")[:2] == ["A", "B"]
    assert _ids(suggester, "こくみんけんこう")[0] == "D"
    assert _ids(suggester, "そだいごみ") == ["C"]


def test_half_converted_and_katakana_typing(suggester: Suggester) -> None:
    assert _ids(suggester, "住民ひょう")[:2] == ["A", "B"]
    assert _ids(suggester, "国民けんこう")[0] == "D"
    assert _ids(suggester, "こんびに")[0] == "B"


def test_readings_do_not_open_the_floodgates(suggester: Suggester) -> None:
    assert suggester.suggest("うちゅうりょこう") == []
    assert suggester.suggest("宇宙旅行") == []
    # One kana is matched on characters only, as before: no question holds 「ぬ」.
    assert suggester.suggest("ぬ") == []


def test_written_questions_still_rank_by_what_was_typed(suggester: Suggester) -> None:
    assert _ids(suggester, "住民票")[:2] == ["A", "B"]
    assert _ids(suggester, "粗大")[0] == "C"


def _reference(
    entries: list[tuple[str, str, str]], tokenizer: MeCabTokenizer, text: str, limit: int
) -> list[tuple[str, float]]:
    """The ranking rules of the suggester, applied naively to every question: the oracle."""
    from kb.index.readings import reading_segments
    from kb.text.normalize import normalize

    def compact(t: str) -> str:
        return "".join(normalize(t).split())

    def reading_of(t: str) -> str:
        return "".join(reading_segments(tokenizer.readings(normalize(t))))

    def bigrams(t: str) -> set[str]:
        return {t[i : i + 2] for i in range(len(t) - 1)}

    key = compact(text)[:100]
    if not key:
        return []
    typed_lemmas = set(tokenizer.lemmas(normalize(text))) if len(key) >= 2 else set()
    reading = reading_of(text[:100]) if len(key) >= 2 else ""
    scored = []
    for idx, (local_id, question, _) in enumerate(entries):
        qkey, qreading = compact(question), reading_of(question)
        if len(key) >= 2:
            cover = len(bigrams(key) & bigrams(qkey)) / len(bigrams(key))
        else:
            cover = 1.0 if key in qkey else 0.0
        own_cover = cover
        whole = cover >= 1.0
        if len(reading) >= 2:
            reading_cover = len(bigrams(reading) & bigrams(qreading)) / len(bigrams(reading))
            # Short text: the reading itself, not its bigrams found apart (120 questions:
            # never more than the 256 the suggester checks).
            short = len(key) <= 3 and len(reading) > 2
            whole = whole or (reading_cover >= 1.0 and (not short or reading in qreading))
            cover = max(cover, reading_cover)
        lemma_cover = 0.0
        if typed_lemmas:
            own = set(tokenizer.lemmas(normalize(question)))
            lemma_cover = len(typed_lemmas & own) / len(typed_lemmas)
        if cover < 0.5 and lemma_cover == 0:
            continue
        if qkey.startswith(key) or (reading and qreading.startswith(reading)):
            bonus = 1.0
        elif key in qkey or (len(reading) >= 2 and reading in qreading):
            bonus = 0.5
        else:
            bonus = 0.0
        holds = bonus == 1.0 or whole or lemma_cover >= 1.0
        typed_towards = own_cover >= 0.5 or lemma_cover > 0
        row = (-(cover + 0.8 * lemma_cover + bonus), len(qkey), idx, local_id, typed_towards)
        scored.append((*row, holds))
    # Short text nothing holds: only the questions sharing its own characters or a lemma.
    if len(key) <= 3 and not any(row[-1] for row in scored):
        scored = [row for row in scored if row[-2]]
    # What holds the typed text, when anything does: the rest is noise beside it.
    if len(text.split()) == 1 and any(row[-1] for row in scored):
        scored = [row for row in scored if row[-1]]
    return [(row[3], round(-row[0], 4)) for row in sorted(scored)[:limit]]


def test_ranking_matches_a_naive_oracle(tokenizer: MeCabTokenizer) -> None:
    import json
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "eval" / "datasets" / "demo"
    rows = [json.loads(line) for line in (demo / "corpus.jsonl").open(encoding="utf-8")]
    entries = [(str(r["_id"]), str(r["title"]), "") for r in rows[:120]]
    suggester = Suggester(entries, tokenizer)
    queries = [json.loads(line)["text"] for line in (demo / "queries.jsonl").open(encoding="utf-8")]
    typed = [*queries[:12], "じゅうみんひょう", "こくみんけんこうほけん", "ごみ", "ご", "住"]
    for query in typed:
        for end in range(1, min(len(query), 14) + 1):
            text = query[:end]
            got = [(s.id, s.score) for s in suggester.suggest(text, limit=5)]
            assert got == _reference(entries, tokenizer, text, 5), text


def test_half_matches_are_dropped_beside_questions_that_hold_one_typed_word(
    tokenizer: MeCabTokenizer,
) -> None:
    entries = [
        ("F1", "保育料はいくらですか。", ""),
        ("F2", "保育園に入りたい。", ""),
        ("F3", "介護保険料はいくらですか。", ""),  # shares only いく with ほいく
        ("F4", "原付バイクを廃車したい。", ""),
        ("F5", "児童手当の申請方法を教えてください。", ""),
        ("F6", "児童手当はいつ振り込まれますか。", ""),
    ]
    suggester = Suggester(entries, tokenizer)
    assert {s.id for s in suggester.suggest("ほいく")} == {"F1", "F2"}
    # Several words typed: every question that holds one of them still comes.
    assert {s.id for s in suggester.suggest("児童手当 申請")} >= {"F5", "F6"}


def test_short_text_no_question_holds_suggests_nothing_by_chance(
    tokenizer: MeCabTokenizer,
) -> None:
    # An outside clerk typed 天気 and got the driving licence (うんてんめんきょ shares てん and
    # んき with てんき), and ハンコ got 申告 and 転校 (んこ).
    entries = [
        ("F1", "運転免許証を返納したい。", ""),
        ("F2", "住民税の申告は必要ですか。", ""),
        ("F3", "子どもが転校します。", ""),
        ("F4", "年金の保険料が払えない。", ""),
    ]
    suggester = Suggester(entries, tokenizer)
    assert suggester.suggest("天気") == []
    assert suggester.suggest("ハンコ") == []
    # Typed towards a question (its own characters, a lemma) still suggests it.
    assert [s.id for s in suggester.suggest("年金払")] == ["F4"]
    assert [s.id for s in suggester.suggest("うんてん")] == ["F1"]
