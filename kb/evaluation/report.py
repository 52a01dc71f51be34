"""The `kb eval --report` folder: a Markdown table, a PNG chart and the failures per query."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb.evaluation.beir import Dataset
from kb.evaluation.results import FileReport, ModeReport, files_table, markdown_table


def write_report(
    folder: Path,
    dataset: Dataset,
    reports: dict[str, ModeReport],
    model: str,
    published: dict[str, float],
    *,
    variants: Sequence[FileReport] = (),
) -> None:
    """Write ``report.md``, ``ndcg.png`` and ``failures.jsonl`` into ``folder``.

    With ``variants`` (several queries files scored on the same index, ``dataset`` and
    ``reports`` being the first), ``report.md`` gets a table of them all and each failure
    names its ``queries_file``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Retrieval evaluation: {dataset.name}",
        "",
        f"{len(dataset.judged_queries())} queries, {len(dataset.corpus)} documents, "
        f"model `{model}`.",
        "",
        markdown_table(reports),
        "",
    ]
    several = len(variants) > 1
    if several:
        lines += ["## Queries files", "", files_table(variants), ""]
    if published:
        lines += ["## Published reference results (nDCG@10)", "", "| system | nDCG@10 |",
                  "|---|---|"]  # fmt: skip
        lines += [f"| {name} | {score:.3f} |" for name, score in published.items()]
        lines.append("")
    lines += ["![nDCG@10 by mode](ndcg.png)", ""]
    (folder / "report.md").write_text("\n".join(lines), encoding="utf-8")
    _chart(folder / "ndcg.png", dataset.name, reports, published)
    runs = variants if several else [FileReport("", dataset, reports)]
    with (folder / "failures.jsonl").open("w", encoding="utf-8") as fh:
        for run in runs:
            for row in _failures(run.dataset, run.reports):
                if several:
                    row = {"queries_file": run.queries_file, **row}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _failures(dataset: Dataset, reports: dict[str, ModeReport]) -> list[dict[str, Any]]:
    """Queries not ranked perfectly (or whose first department is wrong), per mode."""
    rows = []
    for mode, rep in reports.items():
        for o in rep.outcomes:
            qrels = dataset.qrels[o.query.id]
            if o.ndcg >= 1.0 and (
                not o.query.department or o.departments[:1] == (o.query.department,)
            ):
                continue
            rows.append(
                {
                    "mode": mode,
                    "query_id": o.query.id,
                    "query": o.query.text,
                    "ndcg@10": round(o.ndcg, 4),
                    "expected": {d: g for d, g in qrels.items() if g > 0},
                    "got": list(o.ranked),
                    "department": o.query.department,
                    "got_departments": list(o.departments),
                }
            )
    return rows


def _chart(
    path: Path, name: str, reports: dict[str, ModeReport], published: dict[str, float]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"kb {m}" for m in reports] + list(published)
    values = [float(r.metrics["ndcg@10"] or 0.0) for r in reports.values()] + list(
        published.values()
    )
    colors = ["#1f77b4"] * len(reports) + ["#bbbbbb"] * len(published)
    order = sorted(range(len(values)), key=lambda i: values[i])
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(values) + 1.2))
    ax.barh([labels[i] for i in order], [values[i] for i in order],
            color=[colors[i] for i in order])  # fmt: skip
    for y, i in enumerate(order):
        ax.text(values[i] + 0.005, y, f"{values[i]:.3f}", va="center", fontsize=9)
    ax.set_xlabel("nDCG@10")
    ax.set_xlim(0, max([*values, 0.1]) * 1.15)
    ax.set_title(f"{name}: kb modes (blue) vs published results (grey)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
