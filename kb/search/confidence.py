"""How sure a search is of each pane: ``high``, ``low`` or ``none`` (no answer).

A raw cosine says little by itself. multilingual-e5 scores 「あしたの天気」 0.83 against a
city's FAQ and a real question 0.88; another model, or the same one tuned with ``kb tune``,
puts both somewhere else, and a larger corpus raises every best score. So the dense evidence is
read on a scale measured from the corpus itself: when an index is opened, each kind's document
titles serve as pseudo-queries against the *other* documents of that kind (:func:`calibrate`).
The mean and spread of those similarities (how close two different entries of this corpus
typically are) turn a query's best dense score into a z-score:

* ``z < 0``: the best match is no closer than two unrelated entries of the corpus are to each
  other on average: **none**;
* ``0 <= z < 1``: **low**;
* ``z >= 1``: **high**.

Three checks need no calibration at all (the tests of the query's words are in
:mod:`kb.search.query_words`):

* the query must say something: a Japanese query without a content word (「。」, 「こんにちは」),
  or a query in another script without a word ('zzzzzz', '？？', emoji) is never answered;
* a question that opens with a place the corpus never names, as the owner of what it asks
  (「大阪市の粗大ごみの料金」), is another city hall's to answer (:func:`names_elsewhere`);
* a Japanese query must share a word with one of the pane's best hits (a MeCab lemma of the
  query, as rewritten and expanded by the search, among the lemmas of the hit's text): when
  no word is in common, a dense match is a guess. Words, not the lexical score: kana
  bigrams of the reading field match nearly any text.

The cut points 0 and 1 are whole units of the corpus's own spread, not cosines, and 0 is the
one point that needs no data to choose: the corpus's own mean. Cross-validation over in-domain
and off-topic dev queries of two corpora (``eval/no_answer.py``) brackets it: the largest
threshold that still answers 97% of in-domain queries is -0.15 on the municipal FAQ alone and
+0.15 to +0.45 on both corpora pooled; the best balance of answered and refused is +0.45.
At 0: demo FAQ 99.5% of in-domain questions answered and 94.7% of off-topic ones refused,
municipal FAQ 96.0% and 87.9%. Fewer than 2% of off-topic questions reach ``high``.

A query is also read against a background of small talk (:mod:`kb.search.background`):
when its best dense score in a pane is no closer than its closest background question (by
more than :data:`BACKGROUND_MARGIN`), the pane has no answer, unless the score is ``high``
(z >= 1, never overruled); read that way, its z cut point is :data:`BACKGROUND_Z` (-0.3)
instead of 0, since the background refuses the small talk a lower cut point lets through.
Chosen together over both corpora's dev queries (most off-topic refusals while each corpus
answers 97% of its in-domain ones): demo 99.5% answered / 98.1% refused, municipal 97.3% /
94.7% (without the background 99.5% / 94.7% and 95.3% / 85.4%); 10-fold cross-validated 98.6%
/ 98.5% and 96.0% / 95.6% (docs/evaluation.md, "Small talk as the background").

A term of the corpus's own trade is answered at least ``low`` (:func:`specific`): a query whose
compound noun of four characters or more, with a word few chunks hold, is written so in a best
hit that holds every word of the query (「限度額適用認定証」, 「おくやみコーナー」). The model
reads such a term no better than a stranger's word, so its dense score alone refused them; the
compound as written is what everyday words the corpus happens to lack (「元気ですか」) never
have. On both corpora's dev queries it changes no decision (no off-topic question has such a
compound); on a second city's FAQ it answered 6 of 7 such terms, each with the right entry
first.

A query in another language (English, Chinese, Vietnamese...) is compared with Japanese text,
and the multilingual model scores such pairs lower across the board: on the demo FAQ the
median English in-domain question sits at z 0.0 and the median Japanese one at +2.9, while
off-topic questions in other languages sit 1.4-1.8 units below Japanese off-topic ones. So
the dense evidence of a query the search reads as another language is moved up by
:data:`LANGUAGE_OFFSET` before the cut points. Its margin over the background needs no such
move: the background is Japanese too, so both sides of the comparison cross languages alike.
The offset is chosen on off-topic queries only (the most that still refuses 90% of those in
other languages on each corpus, with the background read), so the in-domain figures are held
out for it: 1.8 in-sample, 1.6-1.85 over 10 folds; 1.6 ships. Answered English / Chinese /
Vietnamese demo questions: 50% / 66% / 20% with neither, 84% / 90% / 56% with the offset 1.0
alone (before), 96% / 94% / 82% now. Normalising by the query's own similarities to the
corpus instead (its best score minus its mean, over their spread) removes that offset too,
but also what tells a city question from an idle one (a city question is close to many
entries, not only to its answer), and separates worse in every language (``eval/no_answer.py
--features``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kb.types import (
    DOC_KINDS,
    ConfidenceLevel,
    Department,
    DocId,
    DocKind,
    Document,
    Hit,
    PaneConfidence,
)

NO_ANSWER_Z = 0.0
"""Below this z-score the best dense match is no answer (a query searched without the
background of :mod:`kb.search.background`; another language's with its offset added)."""
BACKGROUND_Z = -0.3
"""Below this z-score the best dense match of a query checked against the background is no
answer (another language's with its offset added): the background refuses small talk, so the
z threshold can answer more."""
BACKGROUND_MARGIN = -0.02
"""A query whose best dense score in a pane minus its best similarity to the
background is at most this is small talk there (:mod:`kb.search.background`). Chosen with
:data:`BACKGROUND_Z` over the in-domain and off-topic dev queries of both eval corpora
(``eval/no_answer.py``, cross-validated in docs/evaluation.md)."""
HIGH_Z = 1.0
"""From this z-score on the best dense match is a confident answer."""
LANGUAGE_OFFSET = 1.6
"""Added to the z-score of a query in another language than the corpus's (see above)."""
LEXICAL_DEPTH = 3
"""How many of a pane's best hits may carry the lexical evidence."""
TEXT_CHARS = 2000
"""How much of a hit's text (after its title) is read for shared words."""
PSEUDO_QUERIES = 256
"""Titles per kind used as pseudo-queries by :func:`calibrate`."""
TARGETS = 4096
"""Chunks per kind they are compared with."""

_RANK: dict[ConfidenceLevel, int] = {"none": 0, "low": 1, "high": 2}
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class KindScale:
    """The similarity of a title to the other documents of its kind: mean and spread."""

    mean: float
    std: float
    pairs: int
    """How many (pseudo-query, chunk) pairs the figures come from."""

    def z(self, score: float) -> float:
        """``score`` in units of the corpus's spread above its mean."""
        return (score - self.mean) / self.std


@dataclass(frozen=True)
class Calibration:
    """One :class:`KindScale` per kind (``None`` for a kind with fewer than two documents)."""

    faq: KindScale | None = None
    case: KindScale | None = None
    manual: KindScale | None = None
    department: KindScale | None = None

    def scale(self, kind: DocKind) -> KindScale | None:
        scale: KindScale | None = getattr(self, kind)
        return scale


@dataclass(frozen=True)
class PaneEvidence:
    """What a pane's hits say about whether the corpus answers the query."""

    hits: int
    dense_z: float | None
    """Best dense score as a z-score (:class:`KindScale`); ``None``: no dense side."""
    lexical: bool | None
    """Whether one of the best hits shares a word with the query (:func:`shares_words`);
    ``None``: no lexical side (a query in another language, or a dense-only search)."""
    content: bool
    """Whether the query has anything to search for (:func:`has_content`)."""
    japanese: bool = True
    """Whether the query is in the corpus's language; if not, its dense evidence is read with
    :data:`LANGUAGE_OFFSET`."""
    background: float | None = None
    """Best dense score minus the query's best similarity to the background questions
    (:mod:`kb.search.background`), in any language; ``None``: not compared (no dense side, no
    background)."""
    titled: bool = False
    """Whether every word of the query, a noun among them, is a word of the titles of several
    best hits (:func:`titled`): a keyword such as 「引っ越し」 that the corpus's own questions
    are about. The background of small talk does not overrule such a pane (its cut point
    stays the one read with the background)."""
    specific: bool = False
    """Whether one best hit holds every word of the query, a noun among them, and, as the
    query writes it, a compound noun of the query with a word rare in the index
    (:func:`specific`): a term of the corpus's own trade such as 「限度額適用認定証」 or
    「おくやみコーナー」, which the model reads no better than a stranger's word. Such a pane
    is answered at least ``low``."""


def calibrate(
    vectors: np.ndarray,
    title_vectors: np.ndarray,
    doc_of: np.ndarray,
    kind_positions: Mapping[DocKind, np.ndarray],
    *,
    title_weight: float,
    seed: int = 0,
) -> Calibration:
    """Measure each kind's scale from the index's own vectors (no model call).

    Args:
        vectors: Full-text chunk vectors, aligned with ``doc_of``.
        title_vectors: Title vectors, aligned likewise.
        doc_of: Document id of each chunk.
        kind_positions: Chunk positions of each kind.
        title_weight: The searcher's share of the title vector in a dense score, so that the
            scale is that of the scores it is applied to.
        seed: Seed of the (deterministic) samples.

    Returns:
        The calibration; a kind with fewer than two documents gets ``None``.
    """
    rng = np.random.default_rng(seed)
    scales: dict[str, KindScale | None] = {}
    for kind in DOC_KINDS:
        pos = np.asarray(kind_positions.get(kind, np.zeros(0, dtype=np.int64)))
        scales[kind] = _kind_scale(vectors, title_vectors, doc_of, pos, title_weight, rng)
    return Calibration(**scales)


def _kind_scale(
    vectors: np.ndarray,
    title_vectors: np.ndarray,
    doc_of: np.ndarray,
    pos: np.ndarray,
    title_weight: float,
    rng: np.random.Generator,
) -> KindScale | None:
    if pos.size < 2:
        return None
    queries = np.sort(rng.choice(pos, size=min(PSEUDO_QUERIES, pos.size), replace=False))
    targets = np.sort(rng.choice(pos, size=min(TARGETS, pos.size), replace=False))
    q = np.asarray(title_vectors[queries], dtype=np.float32)
    sims = (1.0 - title_weight) * (q @ np.asarray(vectors[targets], dtype=np.float32).T)
    if title_weight > 0:
        sims += title_weight * (q @ np.asarray(title_vectors[targets], dtype=np.float32).T)
    # A title against its own document's chunks is no "other entry".
    other = doc_of[queries][:, None] != doc_of[targets][None, :]
    values = sims[other]
    if values.size < 2:
        return None
    return KindScale(float(values.mean()), max(float(values.std()), 1e-6), int(values.size))


def has_words(text: str) -> bool:
    """Whether ``text`` has a word: two or more letters, not one letter repeated.

    For queries that are not Japanese, where there are no MeCab terms to count: 'zzzzzz',
    '？？' and emoji have none; 'sofa', 'thuế' and 「垃圾」 have one.
    """
    return any(len(set(m.group().lower())) > 1 for m in _WORD.finditer(text))


def has_content(text: str, terms: Sequence[str], japanese: bool) -> bool:
    """Whether a query has anything to search for: content words (Japanese) or a word."""
    return bool(terms) if japanese else has_words(text)


def hit_text(title: str, body: str) -> str:
    """What :func:`shares_words` reads of a hit: its title and the start of its text."""
    return f"{title}\n{body[:TEXT_CHARS]}"


def pane_evidence(
    hits: Sequence[Hit],
    scale: KindScale | None,
    *,
    content: bool,
    dense_side: bool,
    lexical: bool | None,
    japanese: bool = True,
    background: float | None = None,
    titled: bool = False,
    specific: bool = False,
) -> PaneEvidence:
    """The evidence of one pane's hits (best first); ``lexical`` from :func:`shares_words`;
    ``background``: the query's best similarity to the background questions; ``titled``
    from :func:`titled`; ``specific`` from :func:`specific`."""
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    z = scale.z(max(dense)) if dense_side and dense and scale is not None else None
    margin = None
    if dense_side and dense and background is not None:
        margin = max(dense) - background
    return PaneEvidence(
        hits=len(hits),
        dense_z=z,
        lexical=lexical,
        content=content,
        japanese=japanese,
        background=margin,
        titled=titled,
        specific=specific,
    )


def decide(
    evidence: PaneEvidence,
    *,
    no_answer_z: float = NO_ANSWER_Z,
    language_offset: float = LANGUAGE_OFFSET,
    background_z: float = BACKGROUND_Z,
    background_margin: float = BACKGROUND_MARGIN,
    specific_floor: bool = True,
) -> ConfidenceLevel:
    """``high``, ``low`` or ``none`` for one pane (see the module docstring).

    The keyword arguments are for ``eval/no_answer.py``, which cross-validates them; the
    service uses the defaults. ``specific_floor``: a :attr:`PaneEvidence.specific` pane is
    answered at least ``low``.
    """
    floor: ConfidenceLevel = "low" if specific_floor and evidence.specific else "none"
    if not evidence.content or not evidence.hits or evidence.lexical is False:
        return "none"
    if evidence.dense_z is None:
        # Words in common but no model to say the meaning matches (a lexical-only search).
        return "low"
    z = evidence.dense_z if evidence.japanese else evidence.dense_z + language_offset
    if evidence.background is not None:
        if evidence.background <= background_margin and z < HIGH_Z and not evidence.titled:
            # Closer to small talk than to anything the pane holds; a match the corpus's own
            # scale calls sure is never overruled (「お金がなくて今日食べるものもない」 is
            # close to 「今夜の献立が決まらない」 too). In another language both sides are
            # compared across languages, so the margin needs no offset.
            return floor
        cut = background_z
    else:
        cut = no_answer_z
    if z < cut:
        return floor
    return "high" if z >= max(HIGH_Z, cut) else "low"


def best(levels: Sequence[ConfidenceLevel]) -> ConfidenceLevel:
    """The most confident of ``levels`` (``none`` for no levels)."""
    return max(levels, key=_RANK.__getitem__, default="none")


def pane_confidence(
    levels: Mapping[DocKind, ConfidenceLevel], wanted: Sequence[DocKind]
) -> PaneConfidence:
    """The confidence of each pane shown, from the levels of the kinds searched.

    The department pane is ranked from the FAQ, case and directory hits, so it is as sure as
    the surest of them: when none of them found anything, its departments are a guess.
    """
    department = best([levels[k] for k in ("faq", "case", "department") if k in levels])
    return PaneConfidence(
        faq=levels.get("faq") if "faq" in wanted else None,
        case=levels.get("case") if "case" in wanted else None,
        manual=levels.get("manual") if "manual" in wanted else None,
        department=department if "department" in wanted else None,
    )


def is_answered(confidence: PaneConfidence) -> bool:
    """Whether a pane shown found an answer (``high`` or ``low``)."""
    panes = (confidence.faq, confidence.case, confidence.manual, confidence.department)
    return any(level not in (None, "none") for level in panes)


def best_texts(
    shown: Iterable[tuple[DocKind, Sequence[Hit]]],
    docs: Mapping[str, Document],
    directory_hits: Sequence[Hit],
    departments: Mapping[str, Department],
) -> dict[DocKind, list[str]]:
    """The texts of each pane's best hits that are read anyway: those on show, and the
    directory's (in memory). A pane not shown is judged on its meaning alone."""
    texts: dict[DocKind, list[str]] = {
        kind: [hit_text(docs[h.doc_id].title, docs[h.doc_id].body) for h in hits]
        for kind, hits in shown
    }
    texts["department"] = []
    for hit in directory_hits[:LEXICAL_DEPTH]:
        name = hit.departments[0] if hit.departments else DocId.local_of(hit.doc_id)
        entry = departments.get(name)
        if entry is not None:
            texts["department"].append(hit_text(entry.name, entry.duties))
    return {kind: found[:LEXICAL_DEPTH] for kind, found in texts.items()}
