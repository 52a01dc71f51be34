"""The reading field and the corpus vocabulary (kb/index/readings.py), and where they are kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import IndexError_
from kb.index import readings as readings_module
from kb.index.builder import build_index
from kb.index.folder import IndexFolder, IndexRoot
from kb.index.lexical import LexicalIndex
from kb.index.readings import (
    ReadingsBuilder,
    Vocabulary,
    reading_segments,
    reading_terms,
)
from kb.store import Store
from kb.text.mecab import MeCabTokenizer


def _builder(texts: list[str], tokenizer: MeCabTokenizer) -> ReadingsBuilder:
    builder = ReadingsBuilder(len(texts))
    for text in texts:
        builder.add(tokenizer.readings(""), tokenizer.readings(text))
    return builder


def test_segments_are_hiragana_cut_at_punctuation(tokenizer: MeCabTokenizer) -> None:
    readings = tokenizer.readings("住民票の写し、コンビニ交付。")
    assert reading_segments(readings) == ["じゅうみんひょうのうつし", "こんびにこうふ"]
    terms = reading_terms(readings)
    assert terms[:3] == ["じゅ", "ゅう", "うみ"]
    assert "しこ" not in terms  # no bigram across the comma


def test_kana_query_and_kanji_text_share_reading_terms(tokenizer: MeCabTokenizer) -> None:
    kanji = set(reading_terms(tokenizer.readings("国民健康保険の手続き")))
    kana = set(reading_terms(tokenizer.readings("こくみんけんこうほけんのてつづき")))
    assert kanji == kana


def test_a_reading_converts_when_the_corpus_writes_it_so_more_often_than_not(
    tokenizer: MeCabTokenizer,
) -> None:
    texts = [
        "国民健康保険に加入する。",
        "国民健康保険の保険料を納める。",
        "市内の施設を利用する。",
        "申請しないのですか。",
        "手続きしないと困ります。",
        "何もしない日。",
    ]
    _, vocabulary = _builder(texts, tokenizer).build()
    assert vocabulary.conversions["こくみんけんこうほけん"] == "国民健康保険"
    assert vocabulary.conversions["こくみん"] == "国民"
    # 「しない」 occurs four times, once as 市内: it stays kana (at two of four, it would not).
    assert "しない" not in vocabulary.conversions
    assert vocabulary.words["国民健康保険"] == 2
    assert "施設" not in vocabulary.words  # seen once


def test_a_word_the_corpus_writes_in_kana_is_not_converted(tokenizer: MeCabTokenizer) -> None:
    texts = ["ふるさと納税のお礼。"] * 3 + ["故郷を思う。"]
    _, vocabulary = _builder(texts, tokenizer).build()
    assert "ふるさと" not in vocabulary.conversions
    assert vocabulary.conversions["ふるさとのうぜい"] == "ふるさと納税"


def test_a_loanword_the_corpus_writes_in_katakana_converts_to_it(
    tokenizer: MeCabTokenizer,
) -> None:
    # A phone without conversion types マイナンバーカード as まいなんばーかーど.
    texts = ["マイナンバーカードを紛失した。", "マイナンバーカードの更新。", "ごみの出し方。"] * 2
    _, vocabulary = _builder(texts, tokenizer).build()
    assert vocabulary.conversions["まいなんばーかーど"] == "マイナンバーカード"
    assert vocabulary.conversions["かーど"] == "カード"
    assert "ごみ" not in vocabulary.conversions  # written in hiragana: stays as typed


def test_the_field_is_aligned_with_the_chunks(tokenizer: MeCabTokenizer) -> None:
    builder = ReadingsBuilder(2)
    builder.add(tokenizer.readings("住民票"), tokenizer.readings("コンビニで取れます。"))
    builder.add(tokenizer.readings("粗大ごみ"), tokenizer.readings("申し込んでください。"))
    field, _ = builder.build()
    assert field.n_docs == 2
    scores = field.score(reading_terms(tokenizer.readings("じゅうみんひょう")))
    assert scores[0] > 0
    assert scores[1] == 0
    scores = field.score(reading_terms(tokenizer.readings("そだいゴミ")))
    assert scores[1] > scores[0]


def test_the_occurrence_sample_spreads_over_the_corpus(
    tokenizer: MeCabTokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readings_module, "OCCURRENCE_SAMPLE", 2)
    texts = ["市内の施設。"] * 2 + ["申請しない。"] * 4
    # 6 chunks, a sample of 2: every third chunk (市内 and しない), not the first two (市内
    # twice), so 「しない」 is counted 6 times, 市内 2 of them.
    _, vocabulary = _builder(texts, tokenizer).build()
    assert "しない" not in vocabulary.conversions
    _, vocabulary = _builder(texts[:2], tokenizer).build()
    assert vocabulary.conversions["しない"] == "市内"


def test_vocabulary_round_trip_and_refusals(tmp_path: Path) -> None:
    vocabulary = Vocabulary({"じゅうみんひょう": "住民票"}, {"住民票": 3})
    path = tmp_path / "words.json"
    vocabulary.save(path)
    assert Vocabulary.load(path) == vocabulary
    with pytest.raises(IndexError_, match="older kb"):
        Vocabulary.load(tmp_path / "missing.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "version": "0"}), encoding="utf-8")
    with pytest.raises(IndexError_, match="readings version '0'"):
        Vocabulary.load(path)
    path.write_text(json.dumps({**data, "words": []}), encoding="utf-8")
    with pytest.raises(IndexError_, match="damaged"):
        Vocabulary.load(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(IndexError_, match="kb build"):
        Vocabulary.load(path)


def test_build_writes_readings_beside_the_lexical_index(
    store: Store, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    report = build_index(store, fake_embedder, tmp_path / "idx")
    folder = IndexRoot(tmp_path / "idx").current()
    field, vocabulary = folder.load_readings()
    assert field.n_docs == folder.load_lexical().n_docs == report.chunks
    assert vocabulary.conversions["じゅうみんひょう"] == "住民票"
    assert vocabulary.words["住民票"] >= 2


def test_a_build_without_readings_is_refused(
    store: Store, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    build_index(store, fake_embedder, tmp_path / "idx")
    folder = IndexRoot(tmp_path / "idx").current()
    (folder.path / "readings_words.json").unlink()
    with pytest.raises(IndexError_, match="kb build"):
        folder.load_readings()


def test_a_damaged_reading_field_is_refused(tmp_path: Path) -> None:
    folder = IndexFolder(tmp_path)
    field = LexicalIndex.build([["じゅ"]], [["ゅう"]])
    folder.save_readings(field, Vocabulary({}, {}))
    loaded, _ = folder.load_readings()
    np.testing.assert_allclose(loaded.score(["じゅ"]), field.score(["じゅ"]))
    (tmp_path / "readings.npz").write_bytes(b"not a zip")
    with pytest.raises(IndexError_, match="reading field"):
        folder.load_readings()


def test_occurrences_match_a_naive_count() -> None:
    import random

    from kb.index.readings import _occurrences

    rng = random.Random(3)
    streams = [
        "".join(rng.choice("しないかこく") for _ in range(rng.randint(0, 40))) for _ in range(50)
    ]
    keys = ["しない", "ない", "こく", "こくこく", "かかかか", "しなく", "くし"]
    naive = {k: sum(s[i : i + len(k)] == k for s in streams for i in range(len(s))) for k in keys}
    counted = _occurrences(streams, keys)
    assert {k: counted.get(k, 0) for k in keys} == naive


def test_the_vocabulary_keeps_the_most_frequent_words(
    tokenizer: MeCabTokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readings_module, "MAX_WORDS", 2)
    monkeypatch.setattr(readings_module, "MAX_CONVERSIONS", 1)
    texts = ["国民年金。"] * 3 + ["住民票。"] * 2
    _, vocabulary = _builder(texts, tokenizer).build()
    assert list(vocabulary.words) == ["国民", "国民年金"]  # 3 each; 年金 ties, then loses
    assert list(vocabulary.conversions) == ["こくみん"]


def test_the_field_from_term_ids_equals_the_field_from_the_bigrams(
    tokenizer: MeCabTokenizer,
) -> None:
    # The builder keeps each chunk's bigrams as ids; the field must be what the bigram
    # strings themselves give, row for row and score for score.
    pairs = [
        ("住民票の写し", "コンビニで住民票の写しが取れます。マイナンバーカードが必要です。"),
        ("粗大ごみ", "粗大ごみは申し込んでください。ごみの日に出せます。"),
        ("", "じゅうみんひょうは市役所でも取れます。"),
        ("国民健康保険", "国民健康保険の保険料は、所得に応じて決まります。"),
    ]
    builder = ReadingsBuilder(len(pairs))
    titles, texts = [], []
    for title, text in pairs:
        builder.add(tokenizer.readings(title), tokenizer.readings(text))
        titles.append(reading_terms(tokenizer.readings(title)))
        texts.append(reading_terms(tokenizer.readings(text)))
    field, _ = builder.build()
    expected = LexicalIndex.build(titles, texts)
    assert field.vocab == expected.vocab
    assert list(field.vocab) == list(expected.vocab)
    got, want = field._matrix, expected._matrix
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)
