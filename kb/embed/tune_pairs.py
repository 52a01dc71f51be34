"""Training pairs for :mod:`kb.embed.tune`: the city's own texts as (query, positive) pairs.

FAQ entries give question → answer and closed consultation cases summary → response and
resolution (:data:`TUNE_KINDS`); a JSONL file adds others, such as a logged query → the result
that was opened (:func:`read_pairs_jsonl`). Every text is normalized as kb normalizes it before
embedding, so the model trains on what it will see.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import InputError
from kb.text.normalize import normalize
from kb.types import DocKind, Document

if TYPE_CHECKING:
    from kb.store import Store

TUNE_KINDS: tuple[DocKind, ...] = ("faq", "case")
"""Document kinds whose title ↔ body is a query ↔ answer pair (see :class:`kb.types.Document`).

Manual headings and department names are not questions anyone asks, so they are left out.
"""


@dataclass(frozen=True)
class TrainingPair:
    """One supervised example: ``positive`` answers ``query``.

    Attributes:
        query: Encoded with the model's query prompt (an FAQ question, a case summary, a
            logged search).
        positive: Encoded with the model's document prompt (an FAQ answer, a case resolution,
            the result that was opened).
    """

    query: str
    positive: str


def pairs_from_documents(
    docs: Iterable[Document],
    *,
    kinds: Sequence[DocKind] = TUNE_KINDS,
    max_pairs: int | None = None,
    seed: int = 0,
) -> list[TrainingPair]:
    """Turn FAQ entries and cases into (title → body) training pairs.

    Texts are normalized as kb normalizes them before embedding (the body keeps its line
    breaks, as chunks do), so the model trains on what it will see. Documents with an empty
    side, whose two sides are equal, or that repeat an earlier pair are skipped.

    Args:
        docs: Documents in a stable order (other kinds than ``kinds`` are ignored).
        kinds: Which document kinds to use.
        max_pairs: Keep at most this many, a seeded random sample in the original order.
        seed: Seed of that sample.

    Returns:
        The pairs.
    """
    pairs: list[TrainingPair] = []
    seen: set[TrainingPair] = set()
    for doc in docs:
        if doc.kind not in kinds:
            continue
        pair = TrainingPair(normalize(doc.title), normalize(doc.body, keep_newlines=True))
        if not pair.query or not pair.positive or pair.query == pair.positive or pair in seen:
            continue
        seen.add(pair)
        pairs.append(pair)
    return sample_pairs(pairs, max_pairs, seed=seed)


def pairs_from_store(
    store: Store,
    *,
    kinds: Sequence[DocKind] = TUNE_KINDS,
    max_pairs: int | None = None,
    seed: int = 0,
) -> list[TrainingPair]:
    """Training pairs from the FAQ entries and cases in ``store`` (see
    :func:`pairs_from_documents`), in document-id order within each kind.

    Args:
        store: The kb store.
        kinds: Which document kinds to use.
        max_pairs: Keep at most this many (seeded random sample).
        seed: Seed of that sample.

    Returns:
        The pairs.
    """
    docs: list[Document] = []
    for kind in kinds:
        ids = store.document_ids(kind)
        found = store.get_documents(ids)
        docs.extend(found[i] for i in ids if i in found)
    return pairs_from_documents(docs, kinds=kinds, max_pairs=max_pairs, seed=seed)


def sample_pairs(
    pairs: Sequence[TrainingPair], max_pairs: int | None, *, seed: int = 0
) -> list[TrainingPair]:
    """At most ``max_pairs`` of ``pairs``: a seeded random sample that keeps their order."""
    if max_pairs is None or len(pairs) <= max_pairs:
        return list(pairs)
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be at least 1, not {max_pairs}")
    keep = sorted(random.Random(seed).sample(range(len(pairs)), max_pairs))
    return [pairs[i] for i in keep]


def read_pairs_jsonl(path: Path) -> list[TrainingPair]:
    """Read extra pairs (for example logged query → opened result) from a JSONL file.

    Each line is an object with non-empty string fields ``query`` and ``positive``; blank lines
    are skipped. Both sides are normalized like documents and queries.

    Args:
        path: The file (UTF-8, with or without BOM).

    Returns:
        The pairs, in file order, duplicates dropped.

    Raises:
        InputError: The file cannot be read, or a line is not such an object (the message names
            the line and field).
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read: {exc}") from exc
    pairs: list[TrainingPair] = []
    seen: set[TrainingPair] = set()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(str(path), f"invalid JSON: {exc.msg}", line=n) from exc
        except ValueError as exc:  # a number longer than Python converts
            raise InputError(str(path), f"invalid JSON: {exc}", line=n) from exc
        if not isinstance(row, dict):
            raise InputError(str(path), 'expected an object {"query", "positive"}', line=n)
        sides: list[str] = []
        for name in ("query", "positive"):
            value = row.get(name)
            if not isinstance(value, str) or not normalize(value):
                raise InputError(str(path), "missing or empty string", line=n, field=name)
            sides.append(normalize(value, keep_newlines=name == "positive"))
        pair = TrainingPair(*sides)
        if pair not in seen:
            seen.add(pair)
            pairs.append(pair)
    return pairs


def pairs_hash(pairs: Sequence[TrainingPair]) -> str:
    """A hash of the pairs and their order: equal training data, equal hash."""
    h = hashlib.sha256()
    for pair in pairs:
        h.update(json.dumps([pair.query, pair.positive], ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()[:32]


__all__ = [
    "TUNE_KINDS",
    "TrainingPair",
    "pairs_from_documents",
    "pairs_from_store",
    "pairs_hash",
    "read_pairs_jsonl",
    "sample_pairs",
]
