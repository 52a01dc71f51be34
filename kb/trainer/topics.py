"""Topics: clusters of closed cases, per department and overall, labelled by keywords.

Cases are clustered by spherical k-means (FAISS, through :func:`kb.index.dense.kmeans`) on
their stored summary vectors, so nothing is embedded again. A topic is labelled with its
characteristic MeCab keywords: c-TF-IDF, i.e. how often a noun lemma occurs in the topic's
case summaries times its inverse document frequency over *all* closed cases, so words every
case shares (相談, 市) never label a topic. Each topic carries its size, its monthly counts,
its typical channel, the departments involved and the three cases nearest its centroid.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kb.index.dense import kmeans
from kb.text.masking import strip_placeholders
from kb.text.mecab import STOP_LEMMAS, MeCabTokenizer
from kb.text.normalize import normalize
from kb.trainer.corpus import TrainerCorpus

KEYWORDS = 5
REPRESENTATIVES = 3
MAX_TOPICS = 30

# Words that describe the consultation itself rather than what it was about.
_GENERIC = frozenset(
    {
        "相談", "来所", "電話", "窓口", "メール", "本人", "男性", "女性", "市民", "市内", "今回",
        "手続き", "手続", "問い合わせ", "問合せ", "確認", "希望", "内容", "場合", "自分", "年代",
        "歳代", "代", "さん", "方法", "必要", "こと", "もの", "ため", "よう", "とき", "案内",
        "まま", "ほう", "ところ", "ほか", "担当", "最近", "先日", "以前", "当日", "翌日", "毎日",
        "全部", "自身", "ほとんど", "様子", "状態", "連絡", "説明", "対応", "利用", "今後",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Topic:
    """One cluster of closed cases."""

    id: str
    """``"all-03"`` for overall topics, ``"市民課-01"`` for a department's."""
    department: str
    """The department whose cases were clustered; ``""`` for overall topics."""
    label: str
    """The top keywords joined with 「・」."""
    keywords: tuple[str, ...]
    size: int
    case_ids: tuple[str, ...]
    """Member cases, nearest to the centroid first."""
    representative: tuple[str, ...]
    """The (up to) three member cases nearest the centroid."""
    monthly: tuple[tuple[str, int], ...]
    """``("2025-04", n)`` for every month from the first to the last case of the corpus."""
    channel: str
    """The most frequent channel (窓口, 電話...)."""
    channels: tuple[tuple[str, int], ...]
    departments: tuple[tuple[str, int], ...]
    """Departments the member cases went to, most frequent first."""
    cohesion: float
    """Mean cosine similarity of the members to the centroid."""


@dataclass(frozen=True)
class TopicSet:
    """Topics of one clustering run, with their centroids (aligned with ``topics``)."""

    department: str
    topics: tuple[Topic, ...]
    centroids: np.ndarray
    months: tuple[str, ...]

    def get(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


def default_k(n: int) -> int:
    """Number of topics for ``n`` cases: about sqrt(n / 2), between 1 and :data:`MAX_TOPICS`."""
    if n <= 3:
        return 1
    return max(2, min(MAX_TOPICS, round(math.sqrt(n / 2))))


def keyword_terms(tokenizer: MeCabTokenizer, text: str) -> list[str]:
    """Nouns of ``text`` that can label a topic (see :func:`_keyword_terms`)."""
    return list(_keyword_terms(tokenizer, text))


@lru_cache(maxsize=16384)
def _keyword_terms(tokenizer: MeCabTokenizer, text: str) -> tuple[str, ...]:
    """Nouns of ``text`` that can label a topic, runs of nouns joined (マイナンバーカード).

    Numbers, one-character nouns, generic desk words (相談, 男性...) and the masking's
    placeholders are left out and break a run. The written form is kept: a label reads as the
    cases were written.
    """
    out: list[str] = []
    run: list[str] = []
    end = -1
    # The masking's placeholders ([氏名], [番号]) are no topic's words.
    for token in tokenizer.analyze(normalize(strip_placeholders(text))):
        term = token.surface.strip()
        # A noun-like suffix (認知+症, 手続+き) extends a run but never starts one.
        joins = token.pos == "接尾辞" and bool(run) and token.start == end
        ok = (
            token.content
            and (token.pos == "名詞" or joins)
            and term not in STOP_LEMMAS
            and token.lemma not in _GENERIC
            and term not in _GENERIC
            and not any(ch.isdigit() for ch in term)
        )
        if ok and run and token.start == end:
            run.append(term)
        else:
            if _labels("".join(run)):
                out.append("".join(run))
            run = [term] if ok else []
        end = token.start + len(token.surface)
    if _labels("".join(run)):
        out.append("".join(run))
    return tuple(out)


def _labels(term: str) -> bool:
    """Whether a (joined) noun run can label a topic: two characters or more, not generic."""
    return len(term) >= 2 and term not in _GENERIC


def month_range(dates: Sequence[str]) -> tuple[str, ...]:
    """Every ``YYYY-MM`` from the earliest to the latest of ``dates`` (ISO), in order."""
    months = sorted({d[:7] for d in dates if len(d) >= 7})
    if not months:
        return ()
    (y, m), (y_end, m_end) = map(int, months[0].split("-")), map(int, months[-1].split("-"))
    out = []
    while (y, m) <= (y_end, m_end):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return tuple(out)


def compute_topics(
    corpus: TrainerCorpus,
    tokenizer: MeCabTokenizer,
    *,
    department: str = "",
    k: int | None = None,
    seed: int = 1234,
) -> TopicSet:
    """Cluster the closed cases of ``department`` (any of a case's departments), or all.

    Args:
        corpus: Cases and vectors of the serving index.
        tokenizer: MeCab tokenizer for the keywords.
        department: Restrict to cases handled by this department; ``""``: all cases.
        k: Number of topics; default :func:`default_k` of the number of cases.
        seed: k-means seed (the same corpus and seed give the same topics).

    Returns:
        Topics largest first.
    """
    months = month_range([c.date for c in corpus.cases])
    picked = [
        i for i, c in enumerate(corpus.cases) if not department or department in c.departments
    ]
    if not picked:
        return TopicSet(department, (), np.zeros((0, 0), dtype=np.float32), months)
    vectors = corpus.case_vectors[picked]
    centroids, labels = kmeans(vectors, k or default_k(len(picked)), seed=seed)

    # Document frequencies over all closed cases: the background the keywords stand out from.
    terms_of = {c.doc_id: keyword_terms(tokenizer, c.title) for c in corpus.cases}
    df: Counter[str] = Counter()
    for terms in terms_of.values():
        df.update(set(terms))
    n_docs = len(corpus.cases)

    clusters = []
    for label in range(len(centroids)):
        members = [picked[j] for j in np.flatnonzero(labels == label)]
        if not members:
            continue
        sims = corpus.case_vectors[members] @ centroids[label]
        order = np.argsort(-sims, kind="stable")
        members = [members[j] for j in order]
        clusters.append((label, members, float(np.mean(sims))))
    clusters.sort(key=lambda c: (-len(c[1]), corpus.cases[c[1][0]].doc_id))

    prefix = department or "all"
    topics = []
    kept_centroids = []
    for n, (label, members, cohesion) in enumerate(clusters, start=1):
        cases = [corpus.cases[i] for i in members]
        tf: Counter[str] = Counter()
        in_docs: Counter[str] = Counter()
        for case in cases:
            terms = terms_of[case.doc_id]
            tf.update(terms)
            in_docs.update(set(terms))
        total = sum(tf.values()) or 1
        min_docs = 2 if len(cases) >= 4 else 1
        scored = sorted(
            (
                (tf[t] / total) * math.log(1 + n_docs / df[t]),
                t,
            )
            for t in tf
            if in_docs[t] >= min_docs
        )
        keywords = tuple(t for _, t in sorted(scored, key=lambda s: (-s[0], s[1]))[:KEYWORDS])
        channels = Counter(c.channel for c in cases if c.channel).most_common()
        depts: Counter[str] = Counter()
        for case in cases:
            depts.update(case.departments)
        per_month = Counter(c.date[:7] for c in cases if c.date)
        topics.append(
            Topic(
                id=f"{prefix}-{n:02d}",
                department=department,
                label="・".join(keywords[:3]) or cases[0].title[:20],
                keywords=keywords,
                size=len(cases),
                case_ids=tuple(c.doc_id for c in cases),
                representative=tuple(c.doc_id for c in cases[:REPRESENTATIVES]),
                monthly=tuple((m, per_month.get(m, 0)) for m in months),
                channel=channels[0][0] if channels else "",
                channels=tuple(channels),
                departments=tuple(sorted(depts.items(), key=lambda kv: (-kv[1], kv[0]))),
                cohesion=round(cohesion, 4),
            )
        )
        kept_centroids.append(centroids[label])
    return TopicSet(department, tuple(topics), np.stack(kept_centroids), months)


def trend(topic: Topic, recent: int = 3) -> float:
    """Cases per month in the last ``recent`` months over the topic's overall monthly mean.

    Above 1: the topic is growing; below 1: fading; 0 for an empty topic.
    """
    counts = [n for _, n in topic.monthly]
    if not counts or topic.size == 0:
        return 0.0
    mean = sum(counts) / len(counts)
    last = counts[-recent:]
    return round((sum(last) / len(last)) / mean, 2) if mean else 0.0
