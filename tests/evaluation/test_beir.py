"""Reading a BEIR dataset folder (kb/evaluation/beir.py): a broken one is a clear error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kb.errors import InputError
from kb.evaluation.beir import load_dataset

CORPUS = '{"_id": "D1", "title": "住民票", "text": "市民課で"}\n{"_id": "D2", "text": "粗大ごみ"}\n'


def _dataset(tmp_path: Path, *, qrels: bytes = b"query-id\tcorpus-id\tscore\nQ1\tD1\t1\n") -> Path:
    root = tmp_path / "ds"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(CORPUS, encoding="utf-8")
    (root / "queries.jsonl").write_text('{"_id": "Q1", "text": "住民票"}\n', encoding="utf-8")
    (root / "qrels" / "test.tsv").write_bytes(qrels)
    return root


def test_a_dataset_is_read_with_its_judgments(tmp_path: Path) -> None:
    data = load_dataset(_dataset(tmp_path))
    assert [d.doc_id for d in data.corpus] == ["faq:D1", "faq:D2"]
    assert data.qrels == {"Q1": {"D1": 1}}
    assert [q.id for q in data.judged_queries()] == ["Q1"]


@pytest.mark.parametrize(
    ("qrels", "said"),
    [
        # An outside tester's broken datasets: ValueError and UnicodeDecodeError tracebacks.
        (b"Q1\tD1\t1\nQ1\tD2\tone\n", "test.tsv:2: score 'one' is not a whole number"),
        (b"\xff\xfeQ1\tD1\t1\n", "test.tsv: cannot read"),
        (b"Q1\tD1\t1\nQ1\tD2\n", "test.tsv:2: expected query-id, corpus-id, score"),
    ],
)
def test_a_broken_qrels_file_is_named_with_its_line(
    tmp_path: Path, qrels: bytes, said: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_dataset(_dataset(tmp_path, qrels=qrels))
    assert said in str(caught.value)


def test_an_undecodable_or_empty_corpus_is_an_error(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    (root / "corpus.jsonl").write_bytes(b"\x81\xff")
    with pytest.raises(InputError, match=r"corpus\.jsonl: cannot read"):
        load_dataset(root)
    (root / "corpus.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"corpus\.jsonl: no documents"):
        load_dataset(root)


def test_a_repeated_corpus_id_is_reported_with_its_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = _dataset(tmp_path)
    with (root / "corpus.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"_id": "D1", "text": "重複"}\n')
    with caplog.at_level(logging.WARNING, logger="kb.evaluation.beir"):
        load_dataset(root)
    assert "corpus.jsonl:3: _id 'D1' again" in caplog.text
