"""The trainer's view of a serving index: cases and published FAQ with their stored vectors.

Everything is read from the index folder (the store snapshot and the ``.npy`` vectors written
at build time), so the trainer tools never load the embedding model and never disturb the
live store. A document's vector is the mean of its chunks' title vectors (the case summary,
the FAQ question): what citizens ask, which is what topics and gaps are about.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.index.folder import IndexFolder
from kb.types import Department, Document

OPEN_STATUSES = frozenset({"対応中", "未対応", "継続", "継続中", "保留", "open", "pending"})
"""Case statuses that mean "not closed yet": such cases are left out of topics."""


@dataclass(frozen=True)
class TrainerCorpus:
    """Closed cases and published FAQ entries of one index build, with one vector each."""

    folder: Path
    model: str
    cases: tuple[Document, ...]
    case_vectors: np.ndarray
    """float32 ``[len(cases), d]``, L2-normalised, aligned with ``cases``."""
    faqs: tuple[Document, ...]
    """Published FAQ entries only."""
    faq_vectors: np.ndarray
    departments: tuple[Department, ...]

    def case(self, doc_id: str) -> Document | None:
        return next((c for c in self.cases if c.doc_id == doc_id), None)

    def faq(self, doc_id: str) -> Document | None:
        return next((f for f in self.faqs if f.doc_id == doc_id), None)

    def department(self, name: str) -> Department | None:
        return next((d for d in self.departments if d.name == name), None)


def _doc_vectors(
    doc_ids: list[str], chunk_docs: np.ndarray, vectors: np.ndarray, dim: int
) -> np.ndarray:
    positions: dict[str, list[int]] = defaultdict(list)
    for i, doc_id in enumerate(chunk_docs):
        positions[str(doc_id)].append(i)
    out = np.zeros((len(doc_ids), dim), dtype=np.float32)
    for row, doc_id in enumerate(doc_ids):
        rows = positions.get(doc_id)
        if rows:
            v = np.asarray(vectors[rows], dtype=np.float32).mean(axis=0)
            out[row] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


def load_corpus(folder: Path) -> TrainerCorpus:
    """Read the closed cases and published FAQ of the index build in ``folder``."""
    index = IndexFolder(folder)
    manifest = index.manifest()
    store = index.open_snapshot()
    try:
        meta = store.chunk_metadata()
        case_ids = store.document_ids("case")
        faq_ids = store.document_ids("faq")
        docs = store.get_documents(case_ids + faq_ids)
        departments = tuple(store.departments())
    finally:
        store.close()
    meta = index.align(meta)  # in the build's row order, as the vectors are
    title_vectors = index.title_vectors()
    cases = tuple(
        docs[i] for i in case_ids if i in docs and docs[i].status.strip() not in OPEN_STATUSES
    )
    faqs = tuple(docs[i] for i in faq_ids if i in docs and docs[i].published)
    dim = manifest.dim
    return TrainerCorpus(
        folder=folder,
        model=manifest.model,
        cases=cases,
        case_vectors=_doc_vectors([c.doc_id for c in cases], meta["doc_id"], title_vectors, dim),
        faqs=faqs,
        faq_vectors=_doc_vectors([f.doc_id for f in faqs], meta["doc_id"], title_vectors, dim),
        departments=departments,
    )
