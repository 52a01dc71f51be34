"""FAQ gaps: what citizens and staff ask that no published FAQ answers well.

Three views, all from data already recorded:

* **gap topics**: case topics (:mod:`kb.trainer.topics`) whose cases are, in the median, far
  from every published FAQ question (cosine of the stored vectors below the low-score line);
* **gap queries**: frequent queries of the query log (masked) that the FAQ did not answer:
  the search said it found no answer (:mod:`kb.search.confidence`), or found no published
  FAQ or only a low-scoring one; ranked by how often they were asked;
* **rates over time**: the share of zero-hit and low-score searches per month (or day), and
  the "this helped" rate of every FAQ entry from the feedback store.

Searches the console narrowed (a pane unchecked, a filter set) are left out of the query views:
what a filtered search did not find says nothing about what the FAQ lacks.

The low-score lines are dense (cosine) scores, so they depend on the model (see
:func:`low_score_line`). Queries and topics have separate lines: a query is embedded as a
query (with the e5 ``query:`` prompt) against the FAQ's question and answer, while a topic's
cases are stored document vectors compared with the FAQ questions, a scale e5 puts higher.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.store import FeedbackRecord, QueryLogRecord
from kb.text.normalize import normalize
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.topics import Topic, TopicSet
from kb.types import DocId

E5_LOW_SCORE = 0.86
"""Query line of the e5 family. On the 220 demo eval queries (all have a relevant FAQ) the
best published FAQ scores 0.863 at the 5th percentile and 0.901 in the median; off-topic
queries (天気, ラーメン) score 0.83-0.85."""
E5_TOPIC_LOW_SCORE = 0.90
"""Topic line of the e5 family: the median demo case summary is 0.903 from its nearest FAQ."""
OTHER_LOW_SCORE = 0.5
"""Both lines for other models (the fake test embedder among them)."""


def low_score_line(model: str, configured: float = 0.0, *, topics: bool = False) -> float:
    """The cosine score under which a best FAQ counts as "does not answer it".

    Args:
        model: The index's model id.
        configured: ``KB_TRAINER_LOW_SCORE`` (or ``KB_TRAINER_TOPIC_LOW_SCORE``); 0 means the
            model's default.
        topics: The line for topic coverage instead of the one for logged queries.
    """
    if configured > 0:
        return configured
    if "e5" in model.lower():
        return E5_TOPIC_LOW_SCORE if topics else E5_LOW_SCORE
    return OTHER_LOW_SCORE


@dataclass(frozen=True)
class GapTopic:
    topic: Topic
    coverage: float
    """Median over the topic's cases of the best published-FAQ cosine score."""
    best_faq: str
    """The published FAQ nearest the topic (doc id), for the trainer to compare."""
    best_faq_question: str


@dataclass(frozen=True)
class GapQuery:
    query: str
    """Masked and normalized, as logged."""
    count: int
    zero_hits: int
    best_score: float | None
    """Best published-FAQ dense score seen for it; ``None``: never any FAQ."""
    last_seen: str


@dataclass(frozen=True)
class PeriodRate:
    period: str
    """``YYYY-MM`` or ``YYYY-MM-DD``."""
    searches: int
    zero_hit: int
    low_score: int

    @property
    def zero_hit_rate(self) -> float:
        return self.zero_hit / self.searches if self.searches else 0.0

    @property
    def low_score_rate(self) -> float:
        return self.low_score / self.searches if self.searches else 0.0


@dataclass(frozen=True)
class FaqHelpRate:
    faq_id: str
    """Doc id, ``faq:F0001``."""
    question: str
    helped: int
    """「役に立った」 (staff) plus 「はい」 (widget)."""
    not_helped: int
    """「いいえ」 in the widget. Staff only ever say what helped: an entry shown beside the one
    that helped was passed over, not judged, and counts in ``shown`` alone."""
    shown: int

    @property
    def rate(self) -> float | None:
        rated = self.helped + self.not_helped
        return self.helped / rated if rated else None


@dataclass(frozen=True)
class GapReport:
    low_score: float
    """The line for logged queries."""
    topic_low_score: float
    """The line for topic coverage."""
    topics: tuple[GapTopic, ...]
    queries: tuple[GapQuery, ...]
    rates: tuple[PeriodRate, ...]
    helped: tuple[FaqHelpRate, ...]
    searches: int
    """Logged searches considered."""


def _faq_scores(corpus: TrainerCorpus, vectors: np.ndarray) -> np.ndarray:
    if not corpus.faqs or vectors.size == 0:
        return np.zeros((len(vectors), 0), dtype=np.float32)
    return np.asarray(vectors @ corpus.faq_vectors.T, dtype=np.float32)


def gap_topics(corpus: TrainerCorpus, topics: TopicSet, low_score: float) -> list[GapTopic]:
    """Topics whose cases no published FAQ covers, largest first.

    A topic is a gap when the median of its cases' best FAQ score is below ``low_score``:
    most of what was asked has no FAQ near it.
    """
    index = {c.doc_id: i for i, c in enumerate(corpus.cases)}
    out = []
    for topic in topics.topics:
        rows = [index[c] for c in topic.case_ids if c in index]
        scores = _faq_scores(corpus, corpus.case_vectors[rows])
        if scores.shape[1] == 0:
            coverage, best = 0.0, ""
        else:
            coverage = float(np.median(scores.max(axis=1)))
            best = corpus.faqs[int(np.argmax(scores.mean(axis=0)))].doc_id
        if coverage < low_score:
            faq = corpus.faq(best) if best else None
            out.append(GapTopic(topic, round(coverage, 4), best, faq.title if faq else ""))
    out.sort(key=lambda g: (-g.topic.size, g.coverage, g.topic.id))
    return out


_SPACES = re.compile(r"\s+")


def query_key(query: str) -> str:
    """The form logged queries are grouped by: normalized, lower case, single spaces."""
    return _SPACES.sub(" ", normalize(query)).strip().lower()


def gap_queries(
    records: Sequence[QueryLogRecord], low_score: float, *, min_count: int = 1
) -> list[GapQuery]:
    """Logged queries that found no good published FAQ, most frequent first.

    A query (grouped by :func:`query_key`) is a gap when none of its searches got an answer
    from the FAQ (:func:`unanswered`). Filtered searches are left out.
    """
    groups: dict[str, list[QueryLogRecord]] = defaultdict(list)
    for record in records:
        key = query_key(record.query)
        if key and not record.filtered:
            groups[key].append(record)
    out = []
    for key, group in groups.items():
        scores = [r.top_faq_score for r in group if r.top_faq_score is not None]
        best = max(scores) if scores else None
        if len(group) < min_count or not all(unanswered(r, low_score) for r in group):
            continue
        out.append(
            GapQuery(
                query=key,
                count=len(group),
                zero_hits=sum(r.zero_hit for r in group),
                best_score=None if best is None else round(best, 4),
                last_seen=max(r.created_at for r in group),
            )
        )
    out.sort(key=lambda g: (-g.count, -g.zero_hits, g.best_score or 0.0, g.query))
    return out


def unanswered(record: QueryLogRecord, low_score: float) -> bool:
    """Whether the FAQ did not answer a logged search (well).

    The search said it found no answer (``answered`` false, whatever the score), or no
    published FAQ came back, or only one scoring under ``low_score``.
    """
    if record.answered is False:
        return True
    return record.top_faq_score is None or record.top_faq_score < low_score


def rates_over_time(
    records: Sequence[QueryLogRecord], low_score: float, *, period: str = "month"
) -> list[PeriodRate]:
    """Zero-hit and low-score counts per month (``period="month"``) or day, in order.

    A search is zero-hit when nothing at all came back, and low-score when the FAQ did not
    answer it (:func:`unanswered`). Filtered searches are not counted.
    """
    if period not in ("month", "day"):
        raise ValueError(f"period must be 'month' or 'day', not {period!r}")
    width = 7 if period == "month" else 10
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in records:
        if r.filtered:
            continue
        c = counts[r.created_at[:width]]
        c[0] += 1
        if r.zero_hit:
            c[1] += 1
        elif unanswered(r, low_score):
            c[2] += 1
    return [PeriodRate(p, *counts[p]) for p in sorted(counts)]


def help_rates(corpus: TrainerCorpus, feedback: Sequence[FeedbackRecord]) -> list[FaqHelpRate]:
    """The "this helped" rate of each FAQ entry that feedback mentions, worst first.

    Widget answers (はい / いいえ) rate the FAQ they were given for. A staff 「役に立った」
    records what was clicked and nothing else: the FAQ clicked counts as helped, the other
    entries on screen only as shown (counsellors click the one that helped and pass over the
    rest, which says nothing about them).
    """
    helped: Counter[str] = Counter()
    not_helped: Counter[str] = Counter()
    shown: Counter[str] = Counter()
    for record in feedback:
        faq_shown = [s for s in record.shown if DocId.kind_of(s) == "faq"]
        shown.update(set(faq_shown))
        if record.helpful is not None and DocId.kind_of(record.helped_id) == "faq":
            (helped if record.helpful else not_helped)[record.helped_id] += 1
        elif DocId.kind_of(record.helped_id) == "faq":
            helped[record.helped_id] += 1
    titles = {f.doc_id: f.title for f in corpus.faqs}
    ids = set(helped) | set(not_helped)
    out = [
        FaqHelpRate(i, titles.get(i, ""), helped[i], not_helped[i], max(shown[i], 0)) for i in ids
    ]

    def order(r: FaqHelpRate) -> tuple[float, int, str]:
        rate = r.rate
        return (1.0 if rate is None else rate, -(r.helped + r.not_helped), r.faq_id)

    out.sort(key=order)
    return out


MAX_GAP_QUERIES = 1000
"""Gap queries a report lists, most frequent first: the widget's visitors write the query log,
and a report of every distinct query they typed (67 MB of JSON after a flood) is read by
nobody."""


def gap_report(
    corpus: TrainerCorpus,
    topics: TopicSet,
    queries: Sequence[QueryLogRecord],
    feedback: Sequence[FeedbackRecord],
    *,
    low_score: float,
    topic_low_score: float,
    min_count: int = 1,
    period: str = "month",
) -> GapReport:
    """All gap views in one report (what ``kb trainer gaps`` and ``/trainer`` show)."""
    return GapReport(
        low_score=low_score,
        topic_low_score=topic_low_score,
        topics=tuple(gap_topics(corpus, topics, topic_low_score)),
        queries=tuple(gap_queries(queries, low_score, min_count=min_count)[:MAX_GAP_QUERIES]),
        rates=tuple(rates_over_time(queries, low_score, period=period)),
        helped=tuple(help_rates(corpus, feedback)),
        searches=len(queries),
    )
