"""What an evaluation run produces: per-query outcomes, per-mode metrics, their table."""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.evaluation.beir import EvalQuery


@dataclass(frozen=True)
class QueryOutcome:
    query: EvalQuery
    ranked: tuple[str, ...]
    departments: tuple[str, ...]
    latency_ms: float
    ndcg: float


@dataclass(frozen=True)
class ModeReport:
    mode: str
    metrics: dict[str, float | None]
    outcomes: tuple[QueryOutcome, ...] = field(repr=False, default=())


def markdown_table(reports: dict[str, ModeReport]) -> str:
    cols = ["ndcg@10", "recall@10", "mrr@10", "hit@1", "hit@5", "dept_acc@1", "dept_acc@3",
            "latency_ms_p50", "latency_ms_p95"]  # fmt: skip
    lines = ["| mode | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, rep in reports.items():
        cells = []
        for c in cols:
            v = rep.metrics.get(c)
            cells.append("–" if v is None else f"{v:.3f}" if "latency" not in c else f"{v:.1f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


__all__ = ["ModeReport", "QueryOutcome", "markdown_table"]
