"""The scaled-corpus generator and derived vectors of the benchmarks (small sizes)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bench.scale import (
    BODY_LIMIT,
    DerivedVectors,
    generate,
    load_base,
    read_bases,
    write_level,
)
from kb.embed.embedder import FakeEmbedder
from kb.ingest.pipeline import ingest
from kb.store import Store, text_hash


@pytest.fixture(scope="module")
def base():  # type: ignore[no-untyped-def]
    return load_base()


def test_generation_is_deterministic_per_seed(base) -> None:  # type: ignore[no-untyped-def]
    a = list(generate(base, 50, seed=3))
    b = list(generate(base, 50, seed=3))
    c = list(generate(base, 50, seed=4))
    assert a == b
    assert a != c


def test_records_recombine_within_one_department(base) -> None:  # type: ignore[no-untyped-def]
    demo = {d.doc_id: d for d in (*base.faq, *base.cases)}
    kinds = set()
    for kind, record, src in generate(base, 400, seed=1):
        kinds.add(kind)
        origin = demo[src]
        assert origin.kind == kind
        if kind == "faq":
            assert record["department"] == origin.departments[0]
            body = str(record["answer"])
            # Every sentence of the answer comes from an answer of the same department.
            pool = "".join(d.body for d in base.faq_by_dept[origin.departments[0]])
        else:
            assert record["departments"] == list(origin.departments)
            body = str(record["resolution"])
            pool = "".join(d.body for d in base.case_by_dept[origin.departments[0]])
            assert str(record["date"]) >= "2015-01-01"
        assert 0 < len(body) <= BODY_LIMIT
        # Numbers are redrawn; the words around them are the department's own.
        first = re.sub(r"[0-9,]+", "", body.split("。")[0])
        assert first
        assert first in re.sub(r"[0-9,]+", "", pool)
    assert kinds == {"faq", "case"}


def test_level_ingests_cleanly_to_exactly_the_target(tmp_path: Path, base) -> None:  # type: ignore[no-untyped-def]
    target = base.demo_chunks + 300
    level = write_level(tmp_path, target, seed=7, base=base)
    assert level.generated == 300
    store = Store(tmp_path / "kb.sqlite")
    report = ingest([level.corpus], store)
    assert not report.errors, report.errors[:3]
    assert report.chunks == target
    bases = read_bases(level.bases)
    assert len(bases) == 300
    stored = set(store.document_ids())
    assert set(bases) <= stored
    assert set(bases.values()) <= stored  # every base is a demo document in the same store
    # A complete level is reused as it is.
    again = write_level(tmp_path, target, seed=7, base=base)
    assert again == level


def test_level_smaller_than_the_demo_corpus_is_refused(tmp_path: Path, base) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="less than the demo corpus"):
        write_level(tmp_path, base.demo_chunks - 1, base=base)


def test_derived_vectors() -> None:
    real = FakeEmbedder(32)
    texts = ["住民票の写しがほしい", "ごみの出し方を知りたい"]
    vecs = real.encode_documents(texts)
    derived = DerivedVectors(
        real,
        {text_hash(t): v for t, v in zip(texts, vecs, strict=True)},
        {text_hash("住民票の写しを郵送で"): text_hash(texts[0])},
        noise=0.02,
        mix=0.1,
    )
    assert derived.model_id == real.model_id
    assert derived.dim == 32
    out = derived.encode_documents([texts[0], "住民票の写しを郵送で", "住民票の写しを郵送で"])
    np.testing.assert_allclose(out[0], vecs[0], rtol=1e-6)  # a demo text keeps its vector
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(out[1], out[2])  # same text, same vector
    assert float(out[1] @ vecs[0]) > 0.8  # near its base
    assert not np.allclose(out[1], vecs[0])
    with pytest.raises(KeyError, match="no base vector"):
        derived.encode_documents(["どこにもない文"])
    np.testing.assert_allclose(derived.encode_queries(["ごみ"]), real.encode_queries(["ごみ"]))


def test_sentence_memo_masker_masks_like_the_masker_sentence_by_sentence() -> None:
    from bench.scale import SentenceMemoMasker
    from kb.text.masking import FULL, PUBLISHED, Masker

    base = Masker(keep_phones=["099-555-1101"], keep_words=["市民課"])
    memo = SentenceMemoMasker(base)
    call = "山田太郎さんから電話（090-1234-5678）。"
    text = f"{call}市民課 099-555-1101 を案内。{call}"
    for profile in (FULL, PUBLISHED):
        expected = "".join(base.mask(s, profile) for s in re.split(r"(?<=。)", text) if s)
        assert memo.mask(text, profile) == expected
        assert memo.mask(text, profile) == base.mask(text, profile)
    assert "099-555-1101" in memo.mask(text)
    assert "090-1234-5678" not in memo.mask(text)
