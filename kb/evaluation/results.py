"""What an evaluation run produces: per-query outcomes, per-mode metrics, their table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kb.evaluation.beir import Dataset, EvalQuery


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


@dataclass(frozen=True)
class FileReport:
    """The reports of every mode on one queries file (same corpus, qrels and index)."""

    queries_file: str
    dataset: Dataset
    """The dataset with this file's queries."""
    reports: dict[str, ModeReport]


COLUMNS = ("ndcg@10", "recall@10", "mrr@10", "hit@1", "hit@5", "dept_acc@1", "dept_acc@3",
           "latency_ms_p50", "latency_ms_p95")  # fmt: skip


def _cells(rep: ModeReport) -> str:
    cells = []
    for c in COLUMNS:
        v = rep.metrics.get(c)
        cells.append("–" if v is None else f"{v:.3f}" if "latency" not in c else f"{v:.1f}")
    return " | ".join(cells)


def markdown_table(reports: dict[str, ModeReport]) -> str:
    lines = ["| mode | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += [f"| {name} | {_cells(rep)} |" for name, rep in reports.items()]
    return "\n".join(lines)


def files_table(runs: Sequence[FileReport]) -> str:
    """One table for several queries files: a row per (queries file, mode), in run order."""
    head = "| queries | n | mode | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|---" * (len(COLUMNS) + 3) + "|"]
    for run in runs:
        n = len(run.dataset.judged_queries())
        lines += [
            f"| {run.queries_file} | {n} | {mode} | {_cells(rep)} |"
            for mode, rep in run.reports.items()
        ]
    return "\n".join(lines)


__all__ = ["COLUMNS", "FileReport", "ModeReport", "QueryOutcome", "files_table", "markdown_table"]
