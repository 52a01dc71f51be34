"""Reading a BEIR-layout dataset: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/*.tsv``."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from kb.errors import InputError
from kb.text.markup import html_to_text
from kb.types import DocId, Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalQuery:
    id: str
    text: str
    department: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    path: Path
    corpus: tuple[Document, ...]
    queries: tuple[EvalQuery, ...]
    qrels: dict[str, dict[str, int]]
    content_hash: str

    def judged_queries(self) -> tuple[EvalQuery, ...]:
        """Queries that have at least one relevant document."""
        return tuple(
            q for q in self.queries if any(g >= 1 for g in self.qrels.get(q.id, {}).values())
        )


def _lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file (a byte-order mark allowed)."""
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read: {exc}") from exc


def _jsonl(path: Path) -> list[tuple[int, dict[str, object]]]:
    """The objects of a JSONL file, each with its line number."""
    rows = []
    for n, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(str(path), f"invalid JSON: {exc.msg}", line=n) from exc
        if not isinstance(row, dict) or "_id" not in row:
            raise InputError(str(path), "expected an object with an _id", line=n, field="_id")
        rows.append((n, row))
    return rows


def load_queries(path: Path) -> tuple[EvalQuery, ...]:
    """The queries of a BEIR ``queries*.jsonl`` file: ``_id``, ``text``, ``department``."""
    return tuple(
        EvalQuery(str(r["_id"]), str(r.get("text") or ""), str(r.get("department") or ""))
        for _, r in _jsonl(path)
    )


def load_dataset(path: Path, queries_file: str = "queries.jsonl") -> Dataset:
    """Load a BEIR folder. Corpus entries become published FAQ documents (``faq:<_id>``)."""
    if not (path / "corpus.jsonl").is_file():
        raise InputError(str(path), "not a BEIR dataset folder: corpus.jsonl is missing")
    digest = hashlib.sha256()
    corpus = []
    seen: set[str] = set()
    for n, row in _jsonl(path / "corpus.jsonl"):
        doc_id = DocId.of("faq", str(row["_id"]))
        if doc_id in seen:
            # The later entry replaces the earlier one in the index: said, not silent.
            log.warning(
                "%s:%d: _id %r again: this entry replaces the earlier one",
                path / "corpus.jsonl",
                n,
                row["_id"],
            )
        seen.add(doc_id)
        dept = str(row.get("department") or "")
        doc = Document(
            doc_id=doc_id,
            kind="faq",
            title=html_to_text(str(row.get("title") or "")),
            body=html_to_text(str(row.get("text") or "")),
            departments=(dept,) if dept else (),
            published=True,
            source=f"{path / 'corpus.jsonl'}",
        )
        digest.update(json.dumps([doc.doc_id, doc.title, doc.body, dept]).encode())
        corpus.append(doc)
    if not corpus:
        raise InputError(str(path / "corpus.jsonl"), "no documents")
    queries = load_queries(path / queries_file)
    qrels: dict[str, dict[str, int]] = {}
    qrel_files = sorted((path / "qrels").glob("*.tsv"))
    if not qrel_files:
        raise InputError(str(path / "qrels"), "no qrels/*.tsv file")
    for qrel_file in qrel_files:
        for n, line in enumerate(_lines(qrel_file), start=1):
            parts = line.strip().split("\t")
            if not line.strip() or (n == 1 and not parts[-1].lstrip("-").isdigit()):
                continue  # header
            if len(parts) != 3:
                raise InputError(str(qrel_file), "expected query-id, corpus-id, score", line=n)
            qid, did, score = parts
            try:
                grade = int(score)
            except ValueError:
                raise InputError(
                    str(qrel_file), f"score {score[:20]!r} is not a whole number", line=n
                ) from None
            qrels.setdefault(qid, {})[did] = grade
    return Dataset(
        name=path.name,
        path=path,
        corpus=tuple(corpus),
        queries=queries,
        qrels=qrels,
        content_hash=digest.hexdigest()[:16],
    )
