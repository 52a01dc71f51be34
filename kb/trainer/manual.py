"""Manual drafts for one department, assembled from its closed cases: no generative model.

The draft lists the department's contact details, its topics (largest first) and, for each,
the keywords, the channels, the three representative cases with how they were resolved, the
published FAQ nearest the topic and the departments the cases went to. It is deterministic:
the same index gives the same draft, byte for byte, so a trainer can diff two drafts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.errors import TrainerError
from kb.messages import msg
from kb.text.mecab import MeCabTokenizer
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.docx_writer import WordBlock, write_docx
from kb.trainer.gaps import gap_topics
from kb.trainer.topics import Topic, TopicSet, compute_topics, trend

RELATED_FAQ = 3
MIN_TREND_CASES = 10


class UnknownDepartment(TrainerError):
    """The department is not in the directory (the message lists close names)."""


@dataclass(frozen=True)
class ManualDraft:
    department: str
    title: str
    blocks: tuple[WordBlock, ...]
    case_ids: tuple[str, ...] = ()
    """The cases whose text the draft shows (its topics' representative cases): audited."""

    def markdown(self) -> str:
        """The draft as Markdown."""
        lines = [f"# {self.title}", ""]
        for kind, level, content in self.blocks:
            if kind == "heading":
                lines += [f"{'#' * (level + 1)} {content}", ""]
            elif kind == "paragraph":
                lines += [str(content), ""]
            elif kind == "bullet":
                lines.append(f"{'  ' * max(0, level - 1)}- {content}")
            elif kind == "table" and not isinstance(content, str):
                rows = list(content)
                lines.append("| " + " | ".join(rows[0]) + " |")
                lines.append("|" + "---|" * len(rows[0]))
                lines += [
                    "| " + " | ".join(c.replace("|", "｜") for c in r) + " |" for r in rows[1:]
                ]
                lines.append("")
        text = "\n".join(lines)
        # A list ends before the next heading or paragraph.
        return text.replace("\n#", "\n\n#").replace("\n\n\n", "\n\n").rstrip() + "\n"

    def write(self, path: Path, fmt: str = "md") -> Path:
        """Write the draft as ``md`` or ``docx`` to ``path``."""
        if fmt == "md":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.markdown(), encoding="utf-8")
            return path
        if fmt == "docx":
            return write_docx(path, self.title, list(self.blocks), subject=self.department)
        raise ValueError(f"format must be 'md' or 'docx', not {fmt!r}")


def related_faqs(
    corpus: TrainerCorpus, topic: Topic, n: int = RELATED_FAQ
) -> list[tuple[str, float]]:
    """The published FAQ entries nearest the topic's cases: ``(doc id, mean cosine)``."""
    index = {c.doc_id: i for i, c in enumerate(corpus.cases)}
    rows = [index[c] for c in topic.case_ids if c in index]
    if not rows or not corpus.faqs:
        return []
    scores = np.asarray(corpus.case_vectors[rows] @ corpus.faq_vectors.T).mean(axis=0)
    best = np.argsort(-scores, kind="stable")[:n]
    return [(corpus.faqs[int(i)].doc_id, round(float(scores[i]), 4)) for i in best]


def _local(doc_id: str) -> str:
    return doc_id.partition(":")[2] or doc_id


def resolve_department(corpus: TrainerCorpus, name: str) -> str:
    """The directory name for ``name`` (exact, or an alias); a clear error otherwise."""
    for d in corpus.departments:
        if name == d.name or name in d.aliases:
            return d.name
    close = [d.name for d in corpus.departments if name and (name in d.name or d.name in name)]
    hint = msg("trainer.did_you_mean", names="、".join(close)) if close else ""
    known = "、".join(d.name for d in corpus.departments)
    raise UnknownDepartment(
        msg("trainer.unknown_department", name=name[:40], hint=hint, known=known)
    )


def build_manual(
    corpus: TrainerCorpus,
    tokenizer: MeCabTokenizer,
    department: str,
    *,
    topics: TopicSet | None = None,
    low_score: float = 0.0,
) -> ManualDraft:
    """The draft manual of ``department`` (see the module docstring).

    Args:
        corpus: Cases, FAQ and directory of the serving index.
        tokenizer: For topic keywords.
        department: A directory name or alias.
        topics: Precomputed topics of the department (computed when omitted).
        low_score: The topic coverage line (:func:`kb.trainer.gaps.gap_topics`): topics under
            it are marked as having no close FAQ. 0: no marking.
    """
    name = resolve_department(corpus, department)
    topic_set = topics or compute_topics(corpus, tokenizer, department=name)
    dept = corpus.department(name)
    cases = {c.doc_id: c for c in corpus.cases}
    faqs = {f.doc_id: f for f in corpus.faqs}
    total = sum(t.size for t in topic_set.topics)
    # Topics no published FAQ covers (the same test as `kb trainer gaps`).
    gaps = {g.topic.id for g in gap_topics(corpus, topic_set, low_score)} if low_score else set()
    blocks: list[WordBlock] = []
    months = list(topic_set.months)
    span = f"{months[0]}〜{months[-1]}" if months else "期間なし"
    blocks.append(
        (
            "paragraph",
            0,
            f"この文書は、{name}が対応した完了済みの相談 {total} 件（{span}）から自動で作成した"
            "下書きです。内容を確認し、加筆・修正してからお使いください。",
        )
    )
    blocks.append(("heading", 1, "担当課の概要"))
    if dept is not None:
        blocks.append(("bullet", 1, f"担当業務：{dept.duties}"))
        if dept.phone:
            blocks.append(("bullet", 1, f"電話：{dept.phone}"))
        if dept.location:
            blocks.append(("bullet", 1, f"窓口：{dept.location}"))
        if dept.hours:
            blocks.append(("bullet", 1, f"受付時間：{dept.hours}"))
    if not topic_set.topics:
        blocks.append(("paragraph", 0, "完了した相談の記録がまだありません。"))
        return ManualDraft(name, f"{name} 相談対応マニュアル（下書き）", tuple(blocks))

    blocks.append(("heading", 1, "相談の傾向"))
    rows: list[tuple[str, ...]] = [("トピック", "件数", "主な経路", "最近3か月の傾向")]
    for t in topic_set.topics:
        # A handful of cases a month apart says nothing about a trend.
        words = _trend_words(trend(t)) if t.size >= MIN_TREND_CASES else "（件数が少ない）"
        rows.append((t.label, str(t.size), t.channel or "-", words))
    blocks.append(("table", 0, tuple(rows)))

    referred: Counter[str] = Counter()
    shown: list[str] = []
    for n, topic in enumerate(topic_set.topics, start=1):
        blocks.append(("heading", 1, f"{n}. {topic.label}（{topic.size}件）"))
        blocks.append(("paragraph", 0, f"キーワード：{'、'.join(topic.keywords) or '-'}"))
        channels = "、".join(f"{c} {k}件" for c, k in topic.channels)
        blocks.append(("paragraph", 0, f"相談経路：{channels or '-'}"))
        blocks.append(("heading", 2, "代表的な事例と対応"))
        for case_id in topic.representative:
            case = cases.get(case_id)
            if case is None:
                continue
            shown.append(case_id)
            meta = "、".join(x for x in (case.date, case.channel) if x)
            blocks.append(("bullet", 1, f"事例 {_local(case_id)}（{meta}）"))
            blocks.append(("bullet", 2, f"相談：{case.title}"))
            blocks.append(("bullet", 2, f"対応：{case.body}"))
            others = [d for d in case.departments if d != name]
            if others:
                blocks.append(("bullet", 2, f"引継ぎ・連携先：{'、'.join(others)}"))
        blocks.append(("heading", 2, "関連するFAQ"))
        related = related_faqs(corpus, topic)
        if not related:
            blocks.append(("paragraph", 0, "公開FAQはありません。"))
        elif topic.id in gaps:
            blocks.append(
                (
                    "paragraph",
                    0,
                    "このトピックの相談に近い公開FAQはありません（FAQ候補の作成を検討してください）。"
                    "最も近いもの：",
                )
            )
        for faq_id, _score in related:
            faq = faqs[faq_id]
            owner = f"（{faq.departments[0]}）" if faq.departments else ""
            blocks.append(("bullet", 1, f"{_local(faq_id)} {faq.title}{owner}"))
        blocks.append(("heading", 2, "関係する担当課"))
        involved = [(d, k) for d, k in topic.departments if d != name]
        if not involved:
            blocks.append(("paragraph", 0, f"{name}だけで完結した相談です。"))
        for d, k in involved:
            referred[d] += k
            entry = corpus.department(d)
            phone = f"（{entry.phone}）" if entry and entry.phone else ""
            blocks.append(("bullet", 1, f"{d}{phone}：{k}件"))

    if referred:
        blocks.append(("heading", 1, "引継ぎ先の担当課一覧"))
        rows = [("担当課", "件数", "電話", "窓口")]
        for d, k in sorted(referred.items(), key=lambda kv: (-kv[1], kv[0])):
            entry = corpus.department(d)
            rows.append((d, str(k), entry.phone if entry else "", entry.location if entry else ""))
        blocks.append(("table", 0, tuple(rows)))
    return ManualDraft(
        name, f"{name} 相談対応マニュアル（下書き）", tuple(blocks), case_ids=tuple(shown)
    )


def _trend_words(ratio: float) -> str:
    if ratio >= 1.3:
        return f"増加（{ratio:.1f}倍）"
    if ratio <= 0.7:
        return f"減少（{ratio:.1f}倍）"
    return f"横ばい（{ratio:.1f}倍）"
