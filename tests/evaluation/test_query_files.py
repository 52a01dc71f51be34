"""`kb eval --queries a.jsonl,b.jsonl`: several queries files on one index, in one report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.evaluation import runner
from kb.evaluation.report import write_report
from kb.evaluation.results import files_table
from kb.settings import Settings

CORPUS = [
    ("d1", "住民票の写しの請求", "住民票の写しは市民課の窓口で請求できます。", "市民課"),
    ("d2", "粗大ごみの出し方", "粗大ごみは電話で申し込み、収集日に出してください。", "環境課"),
    ("d3", "児童手当の申請", "児童手当の申請には通帳と保険証が必要です。", "子育て支援課"),
    ("d4", "図書館の利用カード", "図書館の利用カードは本人確認書類で作れます。", "図書館"),
]
QUERIES = {
    "queries.jsonl": ["住民票の写しがほしい", "粗大ごみを出したい", "児童手当の申請"],
    "queries-kana.jsonl": [
        "じゅうみんひょうのうつしがほしい",
        "そだいごみをだしたい",
        "じどうてあて",
    ],
}
QRELS = {"q1": "d1", "q2": "d2", "q3": "d3"}


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-faq"
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for _id, title, text, dept in CORPUS:
            row = {"_id": _id, "title": title, "text": text, "department": dept}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    depts = {"q1": "市民課", "q2": "環境課", "q3": "子育て支援課"}
    for name, texts in QUERIES.items():
        with (folder / name).open("w", encoding="utf-8") as fh:
            for i, text in enumerate(texts, start=1):
                row = {"_id": f"q{i}", "text": text, "department": depts[f"q{i}"]}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, d in QRELS.items()]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = runner.prepare_index

    def counting(dataset: Any, embedder: Any, settings: Settings) -> Path:
        calls.append(dataset.name)
        return real(dataset, embedder, settings)

    monkeypatch.setattr(runner, "prepare_index", counting)
    return calls


def test_evaluate_files_scores_each_file_on_one_index(
    dataset_dir: Path,
    settings: Settings,
    fake_embedder: FakeEmbedder,
    count_builds: list[str],
) -> None:
    files = ["queries.jsonl", "queries-kana.jsonl", "queries.jsonl"]
    runs, model = runner.evaluate_files(
        dataset_dir, settings, ["lexical", "hybrid"], embedder=fake_embedder, queries_files=files
    )
    assert model == fake_embedder.model_id
    assert count_builds == ["tiny-faq"]  # one index for every file
    assert [r.queries_file for r in runs] == ["queries.jsonl", "queries-kana.jsonl"]
    for run in runs:
        assert list(run.reports) == ["lexical", "hybrid"]
        assert len(run.dataset.judged_queries()) == 3
        assert len(run.dataset.corpus) == len(CORPUS)
    assert runs[1].dataset.queries[0].text == QUERIES["queries-kana.jsonl"][0]
    # The plain queries share their words with the documents: the lexical mode finds them.
    assert runs[0].reports["lexical"].metrics["hit@1"] == 1.0
    table = files_table(runs).splitlines()
    assert table[0].startswith("| queries | n | mode | ndcg@10 |")
    assert len(table) == 2 + 2 * 2
    assert table[2].startswith("| queries.jsonl | 3 | lexical | 1.000 |")
    assert table[5].startswith("| queries-kana.jsonl | 3 | hybrid |")


def test_evaluate_is_unchanged_for_one_file(
    dataset_dir: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    dataset, reports, model = runner.evaluate(
        dataset_dir, settings, ["lexical"], embedder=fake_embedder, queries_file="queries.jsonl"
    )
    runs, _ = runner.evaluate_files(
        dataset_dir, settings, ["lexical"], embedder=fake_embedder, queries_files=["queries.jsonl"]
    )
    assert dataset.queries == runs[0].dataset.queries
    assert reports["lexical"].metrics["ndcg@10"] == runs[0].reports["lexical"].metrics["ndcg@10"]
    assert model == fake_embedder.model_id


def _args(dataset_dir: Path, queries: str, out: Path) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    return parser.parse_args(
        [
            str(dataset_dir),
            "--modes",
            "lexical,hybrid",
            "--queries",
            queries,
            "--json",
            str(out / "metrics.json"),
            "--report",
            str(out / "report"),
        ]
    )


def test_cli_reports_several_files_side_by_side(
    dataset_dir: Path,
    settings: Settings,
    fake_embedder: FakeEmbedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    count_builds: list[str],
) -> None:
    monkeypatch.setattr(runner, "embedder_from_settings", lambda *a, **k: fake_embedder)
    out = tmp_path / "out"
    args = _args(dataset_dir, "queries.jsonl, queries-kana.jsonl", out)
    pytest.importorskip("matplotlib")
    assert runner.run_cli(args, settings) == 0
    printed = capsys.readouterr().out
    assert "2 queries files" in printed
    rows = [line for line in printed.splitlines() if line.startswith("| queries")]
    assert len(rows) == 5  # header + 2 files x 2 modes
    assert count_builds == ["tiny-faq"]

    data = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    # The single-file keys describe the first file, as before.
    assert data["dataset"] == "tiny-faq"
    assert data["queries"] == 3
    assert data["queries_file"] == "queries.jsonl"
    assert set(data["modes"]) == {"lexical", "hybrid"}
    assert data["default"]["mode"] == "hybrid"
    assert list(data["variants"]) == ["queries.jsonl", "queries-kana.jsonl"]
    assert data["variants"]["queries.jsonl"]["modes"] == data["modes"]
    kana = data["variants"]["queries-kana.jsonl"]
    assert kana["queries"] == 3
    assert set(kana["modes"]) == {"lexical", "hybrid"}
    assert kana["default"]["ndcg@10"] == kana["modes"]["hybrid"]["ndcg@10"]

    report = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Queries files" in report
    assert "| queries-kana.jsonl | 3 | hybrid |" in report
    failures = [
        json.loads(line)
        for line in (out / "report" / "failures.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert {f["queries_file"] for f in failures} <= {"queries.jsonl", "queries-kana.jsonl"}


def test_cli_with_one_file_prints_the_table_as_before(
    dataset_dir: Path,
    settings: Settings,
    fake_embedder: FakeEmbedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(runner, "embedder_from_settings", lambda *a, **k: fake_embedder)
    args = _args(dataset_dir, "queries.jsonl", tmp_path / "out")
    args.report = None
    assert runner.run_cli(args, settings) == 0
    printed = capsys.readouterr().out
    assert "tiny-faq: 3 queries" in printed
    assert "| mode | ndcg@10 |" in printed
    data = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
    assert list(data["variants"]) == ["queries.jsonl"]


def test_write_report_without_variants_keeps_its_shape(
    dataset_dir: Path, settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    dataset, reports, model = runner.evaluate(
        dataset_dir,
        settings,
        ["lexical"],
        embedder=fake_embedder,
        queries_file="queries-kana.jsonl",
    )
    write_report(tmp_path / "r", dataset, reports, model, {})
    assert "## Queries files" not in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    for line in (tmp_path / "r" / "failures.jsonl").read_text(encoding="utf-8").splitlines():
        assert "queries_file" not in json.loads(line)


def test_the_modes_kb_eval_names_are_the_modes_it_runs() -> None:
    from kb.evaluation.arguments import EVAL_MODE_NAMES

    assert set(EVAL_MODE_NAMES) == set(runner.EVAL_MODES)
