"""The trainer dashboard as an HTML fragment with inline SVG charts, rendered on the server.

``/trainer`` fetches this fragment (with the staff key, like every console call) and inserts
it; the charts need no script. Every text from the data is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from kb.trainer.charts import bar_chart, line_chart
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.gaps import GapReport
from kb.trainer.manual import MIN_TREND_CASES
from kb.trainer.topics import Topic, TopicSet, trend
from kb.types import DocId

TREND_TOPICS = 3
MAX_ROWS = 20


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _trend(topic: Topic) -> str:
    # A handful of cases says nothing about a trend (as in the manual drafts).
    return f"{trend(topic):.1f}倍" if topic.size >= MIN_TREND_CASES else "-"


def dashboard_html(corpus: TrainerCorpus, topics: TopicSet, gaps: GapReport) -> str:
    """Topics, gaps and rates of one department (or all) as an HTML fragment."""
    scope = topics.department or "全体"
    cases = {c.doc_id: c for c in corpus.cases}
    parts = [
        f'<section class="trainer-section" id="topics"><h2>相談のトピック（{escape(scope)}）</h2>'
    ]
    if not topics.topics:
        parts.append("<p>完了した相談がありません。</p></section>")
    else:
        shown = topics.topics[:MAX_ROWS]
        parts.append(
            bar_chart(
                "トピック別の相談件数",
                [t.label for t in shown],
                [float(t.size) for t in shown],
                chart_id="chart-topic-sizes",
            )
        )
        top = topics.topics[:TREND_TOPICS]
        parts.append(
            line_chart(
                "月別の相談件数（上位トピック）",
                list(topics.months),
                [(t.label, [float(n) for _, n in t.monthly]) for t in top],
                chart_id="chart-monthly",
            )
        )
        parts.append(
            '<table class="topics"><thead><tr><th>ID</th><th>トピック</th><th>件数</th>'
            "<th>主な経路</th><th>傾向</th><th>代表的な事例</th></tr></thead><tbody>"
        )
        for t in shown:
            locals_ = [(c, escape(DocId.local_of(c))) for c in t.representative]
            examples = "".join(
                # Relative: the dashboard sits in /trainer, under a proxy's sub-path too.
                f'<li><a href="staff#case/{local}">{local}</a> '
                f"{escape(cases[c].title if c in cases else '')}</li>"
                for c, local in locals_
            )
            parts.append(
                f'<tr data-topic="{escape(t.id)}"><td>{escape(t.id)}</td>'
                f"<td>{escape(t.label)}<br><small>{escape('、'.join(t.keywords))}</small></td>"
                f"<td class=num>{t.size}</td><td>{escape(t.channel)}</td>"
                f"<td class=num>{_trend(t)}</td><td><ul>{examples}</ul></td></tr>"
            )
        parts.append("</tbody></table></section>")

    parts.append(
        '<section class="trainer-section" id="gaps"><h2>FAQが足りないところ</h2>'
        f"<p>最も近い公開FAQとの類似度が、トピックは {gaps.topic_low_score:.2f}、検索は "
        f"{gaps.low_score:.2f} 未満のものを「FAQなし」とみなします。</p>"
        "<h3>FAQのないトピック</h3>"
    )
    if not gaps.topics:
        parts.append("<p>すべてのトピックに近い公開FAQがあります。</p>")
    else:
        parts.append(
            '<table class="gap-topics"><thead><tr><th>トピック</th><th>件数</th>'
            "<th>FAQとの類似度</th><th>最も近いFAQ</th><th></th></tr></thead><tbody>"
        )
        for g in gaps.topics[:MAX_ROWS]:
            parts.append(
                f'<tr data-topic="{escape(g.topic.id)}"><td>{escape(g.topic.label)}</td>'
                f"<td class=num>{g.topic.size}</td><td class=num>{g.coverage:.2f}</td>"
                f"<td>{escape(DocId.local_of(g.best_faq))} {escape(g.best_faq_question)}</td>"
                f'<td><button type="button" class="draft" data-topic="{escape(g.topic.id)}">'
                "FAQ候補を作る</button></td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append(f"<h3>FAQが見つからなかった検索（{gaps.searches}件中）</h3>")
    if not gaps.queries:
        parts.append("<p>該当する検索はありません。</p>")
    else:
        parts.append(
            '<table class="gap-queries"><thead><tr><th>検索語（個人情報は伏せ字）</th>'
            "<th>回数</th><th>0件</th><th>最高類似度</th></tr></thead><tbody>"
        )
        for q in gaps.queries[:MAX_ROWS]:
            best = "-" if q.best_score is None else f"{q.best_score:.2f}"
            parts.append(
                f"<tr><td>{escape(q.query)}</td><td class=num>{q.count}</td>"
                f"<td class=num>{q.zero_hits}</td><td class=num>{best}</td></tr>"
            )
        parts.append("</tbody></table>")
    if gaps.rates:
        parts.append(
            line_chart(
                "検索の0件率・低スコア率",
                [r.period for r in gaps.rates],
                [
                    ("0件", [r.zero_hit_rate for r in gaps.rates]),
                    ("低スコア", [r.low_score_rate for r in gaps.rates]),
                ],
                percent=True,
                chart_id="chart-zero-hit",
            )
        )
    parts.append("<h3>FAQごとの「役に立った」率</h3>")
    if not gaps.helped:
        parts.append("<p>まだ評価がありません。</p>")
    else:
        parts.append(
            '<table class="help-rates"><thead><tr><th>FAQ</th><th>役に立った</th>'
            "<th>立たなかった</th><th>率</th></tr></thead><tbody>"
        )
        for h in gaps.helped[:MAX_ROWS]:
            parts.append(
                f"<tr><td>{escape(DocId.local_of(h.faq_id))} {escape(h.question)}</td>"
                f"<td class=num>{h.helped}</td><td class=num>{h.not_helped}</td>"
                f"<td class=num>{_pct(h.rate)}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "".join(parts)
