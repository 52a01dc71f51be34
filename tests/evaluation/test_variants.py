"""eval/variants.py: kana, half-kana and typo variants of queries (issue 16)."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

# Written for these tests (not taken from any evaluation set).
SENTENCES = [
    "住民票の写しを郵送で請求する方法を教えてください",
    "粗大ごみの収集を申し込みたいのですが、料金はいくらですか？",
    "児童手当の申請に必要な書類は何ですか",
    "図書館で本を借りるには利用カードが必要ですか",
    "引っ越しをしたので転入届を出したい",
    "保育園の空き状況を知りたい",
]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_variants", REPO / "eval" / "variants.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


variants = _load()


@pytest.fixture(scope="module")
def analyzer() -> Any:
    return variants.Analyzer()


def test_to_hiragana() -> None:
    assert variants.to_hiragana("ジュウミンヒョウ") == "じゅうみんひょう"
    assert variants.to_hiragana("ヴァイオリン・データ ABC") == "ゔぁいおりん・でーた ABC"


def test_kana_variant_leaves_no_kanji(analyzer: Any) -> None:
    for text in SENTENCES:
        kana = variants.kana_variant(text, analyzer(text))
        assert not variants.has_kanji(kana), kana
        assert kana != text
    text = "住民票の写しを郵送で請求する方法を教えてください"
    assert variants.kana_variant(text, analyzer(text)) == (
        "じゅうみんひょうのうつしをゆうそうでせいきゅうするほうほうをおしえてください"
    )


def test_kana_variant_keeps_words_without_kanji(analyzer: Any) -> None:
    text = "粗大ごみの収集を申し込みたいのですが、料金はいくらですか？"
    kana = variants.kana_variant(text, analyzer(text))
    assert kana.startswith("そだいごみの")
    assert kana.endswith("はいくらですか？")
    # Katakana words have no kanji: kept as written.
    text = "マイナンバーカードの暗証番号"
    assert variants.kana_variant(text, analyzer(text)) == "マイナンバーカードのあんしょうばんごう"
    # The hira variant types the loanword in hiragana too, as a phone without conversion does.
    assert variants.hira_variant(text, analyzer(text)) == "まいなんばーかーどのあんしょうばんごう"


def test_mixed_variant_converts_every_second_content_word() -> None:
    # 甲(noun) の 乙(noun) を 丙(verb) て 丁(adverb) 戊(形状詞) 己(adjective) カナ(noun):
    # content words 甲 乙 丙 丁 己 カナ; the 1st, 3rd and 5th in hiragana.
    parts = [("甲", "名詞", "こう"), ("の", "助詞", "の"), ("乙", "名詞", "おつ"),
             ("を", "助詞", "を"), ("丙", "動詞", "へい"), ("て", "助詞", "て"),
             ("丁", "副詞", "てい"), ("戊", "形状詞", "ぼ"), ("己", "形容詞", "き"),
             ("カナ", "名詞", "かな")]  # fmt: skip
    text = "".join(p for p, _, _ in parts)
    words, pos = [], 0
    for surface, pos1, reading in parts:
        words.append(variants.Word(surface, pos, pos1, reading))
        pos += len(surface)
    assert variants.mixed_variant(text, words) == "こうの乙をへいて丁戊きカナ"


def test_mixed_variant_on_a_real_sentence(analyzer: Any) -> None:
    text = "住民票の写しを郵送で請求する方法を教えてください"
    # Content words: 住民 票 写し 郵送 請求 する 方法 教え ください; the 1st, 3rd... in hiragana.
    assert variants.mixed_variant(text, analyzer(text)) == (
        "じゅうみん票のうつしを郵送でせいきゅうするほうほうを教えてください"
    )


def test_mixed_variant_changes_about_half_the_content_words(analyzer: Any) -> None:
    for text in SENTENCES:
        words = analyzer(text)
        content = [w for w in words if w.content]
        converted = [w for w in content[0::2] if variants.has_kanji(w.surface)]
        kept = content[1::2]
        mixed = variants.mixed_variant(text, words)
        assert len(content[0::2]) == (len(content) + 1) // 2
        assert converted, text
        assert any(variants.has_kanji(w.surface) for w in kept), text
        for w in converted:
            assert w.reading in mixed
        for w in kept:
            assert w.surface in mixed
        assert variants.has_kanji(mixed)


def _typo_span(original: str, typo: str) -> int:
    """The index in ``original`` of the character dropped or doubled in ``typo``."""
    n = len(original)
    if len(typo) == n - 1:
        found = [i for i in range(n) if original[:i] + original[i + 1 :] == typo]
    else:
        assert len(typo) == n + 1, (original, typo)
        found = [i for i in range(n) if original[: i + 1] + original[i:] == typo]
    assert found, (original, typo)
    return found[0]


def test_typo_changes_one_content_word_by_one_character(analyzer: Any) -> None:
    ops = set()
    for text in SENTENCES:
        words = analyzer(text)
        for seed in range(20):
            typo = variants.typo_variant(text, words, random.Random(seed))
            i = _typo_span(text, typo)
            ops.add(len(typo) - len(text))
            # Every index the edit could be at lies in an eligible word (doubled letters
            # make the index ambiguous, never the word).
            hits = [
                w
                for w in words
                if w.content and len(w.surface) >= 2 and w.start <= i < w.start + len(w.surface)
            ]
            assert len(hits) == 1, (text, typo)
    assert ops == {-1, 1}  # both operations occur


def test_typo_without_an_eligible_word_is_unchanged(analyzer: Any) -> None:
    for text in ["。", "", "の"]:
        assert variants.typo_variant(text, analyzer(text), random.Random(1)) == text


def test_spaces_and_punctuation_are_kept(analyzer: Any) -> None:
    text = "  住民票　の 写し。"
    assert variants.kana_variant(text, analyzer(text)) == "  じゅうみんひょう　の うつし。"


def _beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        json.dumps(
            {"_id": "d1", "text": "住民票の写しは市民課で請求できます。"}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    rows = [
        {"_id": str(i), "text": t, **({"department": "市民課"} if i % 2 else {})}
        for i, t in enumerate(SENTENCES)
    ]
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n0\td1\t1\n")
    return folder


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_write_variants_is_a_beir_folder_and_reproducible(tmp_path: Path, analyzer: Any) -> None:
    src = _beir(tmp_path / "src")
    a = tmp_path / "a"
    manifest = variants.write_variants(src, a, seed=13, analyzer=analyzer)
    variants.write_variants(src, tmp_path / "b", seed=13, analyzer=analyzer)
    variants.write_variants(src, tmp_path / "c", seed=14, analyzer=analyzer)
    assert manifest["queries"] == len(SENTENCES)
    assert (a / "queries.jsonl").read_bytes() == (src / "queries.jsonl").read_bytes()
    assert (a / "corpus.jsonl").read_bytes() == (src / "corpus.jsonl").read_bytes()
    assert (a / "qrels" / "test.tsv").read_bytes() == (src / "qrels" / "test.tsv").read_bytes()
    original = _read(src / "queries.jsonl")
    for name in variants.VARIANTS:
        rows = _read(a / f"queries-{name}.jsonl")
        assert [r["_id"] for r in rows] == [r["_id"] for r in original]
        assert [r.get("department") for r in rows] == [r.get("department") for r in original]
        assert (a / f"queries-{name}.jsonl").read_bytes() == (
            tmp_path / "b" / f"queries-{name}.jsonl"
        ).read_bytes()
    assert (a / "queries-typo.jsonl").read_bytes() != (
        tmp_path / "c" / "queries-typo.jsonl"
    ).read_bytes()
    # Rewriting over a previous output works.
    variants.write_variants(src, a, seed=13, analyzer=analyzer)


def test_a_query_variant_does_not_depend_on_the_file_order(analyzer: Any) -> None:
    text = SENTENCES[0]
    first = variants.make_variants(text, analyzer, variants.query_rng(13, "q7"))
    variants.make_variants(SENTENCES[1], analyzer, variants.query_rng(13, "q8"))
    again = variants.make_variants(text, analyzer, variants.query_rng(13, "q7"))
    assert first == again
