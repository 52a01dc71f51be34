"""Hostile text in every field of every reader, through the whole ingest (hypothesis).

Each generated file is read, masked, tokenized and stored by :func:`kb.ingest.pipeline.ingest`
into an in-memory store: the run must end with a report (never an exception), every row is
either stored or reported with its file and line, and everything stored or reported can be
written as UTF-8 (a lone surrogate would break the store, the CLI's output and the audit log).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.ingest.limits import InputLimits
from kb.ingest.pipeline import IngestReport, ingest
from kb.store import Store
from kb.text.mecab import MeCabTokenizer
from tests.hostile import hostile_text

FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_TOKENIZER = MeCabTokenizer()
# Small enough that generated runs pass them now and then, so both outcomes are exercised.
_LIMITS = InputLimits(max_record_title_chars=4_000, max_record_body_chars=6_000)

file_text = hostile_text(surrogates=False)
json_text = hostile_text(surrogates=True)


def _ingest(name: str, data: bytes) -> tuple[IngestReport, dict[str, str]]:
    """Ingest one file; the report and the stored documents' text by id."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        store = Store(None)
        try:
            report = ingest([path], store, tokenizer=_TOKENIZER, limits=_LIMITS)
            ids = store.document_ids()
            docs = store.get_documents(ids)
        finally:
            store.close()
    for error in report.errors:
        str(error).encode()
        assert error.source
    texts = {i: f"{d.title}\n{d.body}" for i, d in docs.items()}
    for text in texts.values():
        text.encode()
    return report, texts


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@FAST
@given(st.lists(st.tuples(file_text, file_text), min_size=1, max_size=3))
def test_csv_rows_of_hostile_text(rows: list[tuple[str, str]]) -> None:
    lines = ["id,question,answer"]
    lines += [f"F{i},{_csv_cell(q)},{_csv_cell(a)}" for i, (q, a) in enumerate(rows)]
    report, texts = _ingest("faq.csv", "\n".join(lines).encode())
    assert report.documents + len(report.errors) >= 1
    assert len(texts) <= len(rows)


@FAST
@given(st.lists(st.tuples(json_text, json_text), min_size=1, max_size=3))
def test_jsonl_rows_of_hostile_text(rows: list[tuple[str, str]]) -> None:
    # json.dumps writes a lone surrogate as a \ud800 escape: the one way a file carries one.
    lines = [
        json.dumps({"id": f"C{i}", "date": "2024-04-01", "summary": s, "resolution": r})
        for i, (s, r) in enumerate(rows)
    ]
    report, texts = _ingest("cases.jsonl", "\n".join(lines).encode())
    assert len(texts) + len(report.errors) >= 1
    for i, line in enumerate(lines):
        # The reader sees what json.loads gives: an escaped high-low pair is one character.
        received = json.loads(line)
        if any("\ud800" <= ch <= "\udfff" for value in received.values() for ch in value):
            assert f"case:C{i}" not in texts


@FAST
@given(file_text, file_text)
def test_markdown_and_text_manuals_of_hostile_text(heading: str, body: str) -> None:
    text = f"# 手引き\n\n## {heading.replace(chr(10), ' ')}\n\n{body}\n\n本文です。\n"
    for name in ("manual.md", "manual.txt"):
        report, texts = _ingest(name, text.encode())
        # A manual with a body is stored, or refused as a whole with a reason.
        assert texts or report.failed_files or report.errors
