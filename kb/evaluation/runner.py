"""`kb eval`: build a throw-away index of a BEIR dataset and score every retrieval mode on it.

The index is cached in ``DATA_DIR/eval-cache/<dataset>-<corpus hash>-<model>`` and embeddings in
``DATA_DIR/embeddings.sqlite``, so a re-run only searches.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.embed.embedder import Embedder, embedder_from_settings, set_thread_count
from kb.errors import InputError
from kb.evaluation.arguments import add_arguments as add_arguments
from kb.evaluation.beir import Dataset, load_dataset, load_queries
from kb.evaluation.metrics import (
    dept_hit_at_k,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
)
from kb.evaluation.results import FileReport, ModeReport, QueryOutcome, files_table, markdown_table
from kb.search.config import SearchConfig
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.text.mecab import TOKENIZER_VERSION, MeCabTokenizer
from kb.text.normalize import NORMALIZER_VERSION
from kb.text.synonyms import SynonymTable, base_dictionary, load_synonyms

if TYPE_CHECKING:
    from kb.embed.adapt_config import FastTuneConfig
    from kb.embed.tune_pairs import TrainingPair

DEFAULT_MODE = "hybrid"
PIPELINE_VERSION = "6"
"""Bump when chunking, lexical indexing or what a build holds changes, to invalidate cached
evaluation indexes (6: the department model, kb.index.routing). The reading field's own
versions (:func:`kb.index.readings.cache_version`) are part of the key as well."""

EVAL_MODES: dict[str, SearchConfig] = {
    "lexical": SearchConfig(mode="lexical"),
    "dense": SearchConfig(mode="dense"),
    "hybrid": SearchConfig(mode="hybrid"),
    "hybrid-rrf": SearchConfig(mode="hybrid", fusion="rrf"),
}


def synonyms_for(settings: Settings) -> SynonymTable:
    """The synonyms the service would use: the dictionary, with DATA_DIR/synonyms.tsv if any."""
    tokenizer = MeCabTokenizer()
    city = settings.synonyms_path if settings.synonyms_path.exists() else None
    dictionary = base_dictionary(settings.synonym_dictionary, tokenizer)
    return load_synonyms(city, tokenizer, dictionary, settings.synonym_scope)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60]


def prepare_index(dataset: Dataset, embedder: Embedder, settings: Settings) -> Path:
    """Return the index root of ``dataset`` for ``embedder``, building it if not cached."""
    from kb.index.builder import build_index
    from kb.index.folder import IndexRoot
    from kb.index.readings import cache_version
    from kb.ingest.chunking import chunk_document
    from kb.store import EmbeddingCache, Store
    from kb.text.mecab import MeCabTokenizer

    key = "-".join(
        [
            _slug(dataset.name),
            dataset.content_hash,
            _slug(embedder.model_id),
            _slug(f"{TOKENIZER_VERSION}.{NORMALIZER_VERSION}.{PIPELINE_VERSION}"),
            _slug(cache_version()),
        ]
    )
    root = settings.data_dir / "eval-cache" / key
    index_root = root / "indexes"
    if IndexRoot(index_root).has_index():
        return index_root
    root.mkdir(parents=True, exist_ok=True)
    tokenizer = MeCabTokenizer()
    store_path = root / "kb.sqlite"
    if store_path.exists():
        store_path.unlink()
    store = Store(store_path)
    store.upsert((doc, chunk_document(doc, tokenizer)) for doc in dataset.corpus)
    cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite")
    build_index(store, embedder, index_root, cache=cache)
    cache.close()
    store.close()
    return index_root


def evaluate_mode(searcher: Searcher, dataset: Dataset, name: str, k: int = 10) -> ModeReport:
    """Run every judged query of ``dataset`` through ``searcher`` and compute the metrics."""
    outcomes = []
    for q in dataset.judged_queries():
        t0 = time.perf_counter()
        result = searcher.search(q.text, k=k)
        latency = (time.perf_counter() - t0) * 1000
        ranked = tuple(f.id for f in result.faqs)
        departments = tuple(d.name for d in result.departments)
        outcomes.append(
            QueryOutcome(q, ranked, departments, latency, ndcg_at_k(ranked, dataset.qrels[q.id], k))
        )
    n = len(outcomes) or 1
    with_dept = [o for o in outcomes if o.query.department]

    def mean(fn: Callable[[QueryOutcome], float]) -> float:
        return round(sum(fn(o) for o in outcomes) / n, 4)

    def dept(k_: int) -> float | None:
        if not with_dept:
            return None
        hits = sum(dept_hit_at_k(o.departments, o.query.department, k_) for o in with_dept)
        return round(hits / len(with_dept), 4)

    latencies = [o.latency_ms for o in outcomes]
    metrics: dict[str, float | None] = {
        "ndcg@10": mean(lambda o: o.ndcg),
        "recall@10": mean(lambda o: recall_at_k(o.ranked, dataset.qrels[o.query.id], k)),
        "mrr@10": mean(lambda o: mrr_at_k(o.ranked, dataset.qrels[o.query.id], k)),
        "hit@1": mean(lambda o: hit_at_k(o.ranked, dataset.qrels[o.query.id], 1)),
        "hit@5": mean(lambda o: hit_at_k(o.ranked, dataset.qrels[o.query.id], 5)),
        "dept_acc@1": dept(1),
        "dept_acc@3": dept(3),
        "latency_ms_p50": round(percentile(latencies, 50), 2),
        "latency_ms_p95": round(percentile(latencies, 95), 2),
    }
    return ModeReport(name, metrics, tuple(outcomes))


def adapted_model_for(dataset: Dataset, settings: Settings) -> tuple[Path | None, dict[str, Any]]:
    """The configured model adapted to ``dataset``'s own corpus, as a city's kb adapts it.

    The same adaptation as the background one (:mod:`kb.index.adapt`): FAQ question → answer
    pairs of the corpus, 10% of the questions held out, the upper layers trained, kept only if
    the held-out MRR@10 beats the base model's by ``adapt_min_gain``. Only corpus documents are
    used, never queries or judgments. The folder and the decision are cached by training data
    and settings, so a re-run reuses them.

    Returns:
        ``(folder, record)``: the adapted folder, or ``None`` when validation did not keep it
        (a city then gets the base model); the record holds the validation figures.
    """
    from kb.embed.adapt import adapted_folder_name, split_pairs, training_digest
    from kb.embed.adapt_config import FastTuneConfig, resolve_precision
    from kb.embed.folders import build_lock
    from kb.embed.tune_pairs import pairs_from_documents

    pairs = pairs_from_documents(dataset.corpus)
    if len(pairs) < settings.adapt_min_pairs:
        # A city's kb does not adapt a corpus this small: neither does its evaluation.
        return None, {"kept": False, "too_few": len(pairs), "min_pairs": settings.adapt_min_pairs}
    train, heldout = split_pairs(pairs)
    config = resolve_precision(FastTuneConfig())
    digest = training_digest(train, config)
    folder = settings.models_dir / ("eval-" + adapted_folder_name(settings.model, digest))
    decision = folder.with_name(folder.name + ".json")
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    # Two evaluations of one corpus at once train it once: the second waits, then reads.
    with build_lock(folder.with_name(folder.name + ".lock")):
        record = _adapt_once(decision, folder, train, heldout, config, settings)
    kept = bool(record.get("kept")) and (folder / "modules.json").is_file()
    return (folder if kept else None), record


def _adapt_once(
    decision: Path,
    folder: Path,
    train: list[TrainingPair],
    heldout: list[TrainingPair],
    config: FastTuneConfig,
    settings: Settings,
) -> dict[str, Any]:
    """The cached decision of :func:`adapted_model_for`, adapting first if there is none."""
    from kb.embed.adapt import write_json_atomic
    from kb.embed.adapt_train import fast_tune
    from kb.embed.tune import base_model_path

    try:
        record: dict[str, Any] = json.loads(decision.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = fast_tune(
            base_model_path(settings.model, settings.models_dir),
            train,
            folder,
            heldout=heldout,
            config=config,
            threads=settings.threads,
            base_id=settings.model,
        )
        record = {
            "folder": folder.name,
            "train_pairs": report.train_pairs,
            "heldout_pairs": report.heldout_pairs,
            "base": asdict(report.base) if report.base else None,
            "adapted": asdict(report.adapted) if report.adapted else None,
            "improved_by": report.improved_by,
            "kept": report.adapted is not None and report.improved_by >= settings.adapt_min_gain,
            "seconds": report.seconds,
            "cpu_seconds": report.cpu_seconds,
        }
        write_json_atomic(decision, record)
    return record


def tuned_model_for(dataset: Dataset, settings: Settings) -> Path:
    """The model adapted to ``dataset``'s corpus (:func:`adapted_model_for`), or the configured
    model's folder when validation did not keep the adapted one."""
    from kb.embed.tune import base_model_path

    folder, _ = adapted_model_for(dataset, settings)
    return folder or base_model_path(settings.model, settings.models_dir)


def evaluate(
    dataset_dir: Path,
    settings: Settings,
    modes: Sequence[str] = ("lexical", "dense", "hybrid"),
    *,
    embedder: Embedder | None = None,
    queries_file: str = "queries.jsonl",
    tune: bool = False,
) -> tuple[Dataset, dict[str, ModeReport], str]:
    """Evaluate ``modes`` on a BEIR dataset; returns the dataset, reports and the model id.

    With ``tune``, the model is first fine-tuned on the dataset's corpus (see
    :func:`tuned_model_for`) and evaluated in place of the configured one.
    """
    runs, model = evaluate_files(
        dataset_dir, settings, modes, embedder=embedder, queries_files=[queries_file], tune=tune
    )
    return runs[0].dataset, runs[0].reports, model


def evaluate_files(
    dataset_dir: Path,
    settings: Settings,
    modes: Sequence[str] = ("lexical", "dense", "hybrid"),
    *,
    embedder: Embedder | None = None,
    queries_files: Sequence[str] = ("queries.jsonl",),
    tune: bool = False,
) -> tuple[list[FileReport], str]:
    """Evaluate ``modes`` on each queries file of a BEIR dataset, all on one index.

    The corpus and qrels are read (and the index built or found in the cache) once; each file
    is then scored as :func:`evaluate` scores one. Returns a report per file, in the order
    given (duplicates dropped), and the model id.
    """
    unknown = [m for m in modes if m not in EVAL_MODES]
    if unknown:
        raise ValueError(f"unknown mode(s) {unknown}; known: {sorted(EVAL_MODES)}")
    files = list(dict.fromkeys(queries_files))
    if not files:
        raise ValueError("no queries file")
    first = load_dataset(dataset_dir, files[0])
    datasets = [first] + [replace(first, queries=load_queries(dataset_dir / f)) for f in files[1:]]
    for name, dataset in zip(files, datasets, strict=True):
        if not dataset.judged_queries():
            raise InputError(
                str(dataset_dir / name), "no query of this file has a relevant document in qrels"
            )
    # A benchmark is scored with the model it asks for, never the data folder's own adapted one.
    settings = settings.model_copy(update={"adapt": False})
    if tune and embedder is None:
        folder, _ = adapted_model_for(first, settings)
        if folder is not None:
            settings = settings.model_copy(update={"model": str(folder)})
    embedder = embedder or embedder_from_settings(settings, threads=settings.threads)
    index_root = prepare_index(first, embedder, settings)
    # Latency is measured as the service runs: one inference thread per query.
    set_thread_count(settings.query_threads)
    runs: list[FileReport] = []
    base = Searcher.open(index_root, embedder, synonyms=synonyms_for(settings))
    try:
        for name, dataset in zip(files, datasets, strict=True):
            reports: dict[str, ModeReport] = {}
            for mode in modes:
                cfg = replace(EVAL_MODES[mode], max_query_chars=settings.max_query_chars)
                base.config = cfg
                base.search(dataset.queries[0].text if dataset.queries else "x", k=10)  # warm-up
                reports[mode] = evaluate_mode(base, dataset, mode)
            runs.append(FileReport(name, dataset, reports))
    finally:
        base.close()
    return runs, embedder.model_id


def published_results(dataset_dir: Path) -> dict[str, float]:
    """Reference nDCG@10 figures listed for this dataset in a README beside it, if any."""
    for readme in (dataset_dir / "README.md", dataset_dir.parent / "README.md"):
        if not readme.is_file():
            continue
        text = readme.read_text(encoding="utf-8")
        section = text.split(f"## {dataset_dir.name}", 1)
        body = section[1] if len(section) == 2 else text
        match = re.search(r"Published results[^:]*:(.*?)(?:\n\s*\n|$)", body, re.S)
        if not match:
            continue
        pairs = re.findall(r"([^,\n:]+?)\s+(0\.\d{3})", match.group(1))
        return {name.strip(): float(score) for name, score in pairs}
    return {}


def to_json(dataset: Dataset, reports: dict[str, ModeReport], model: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "dataset": dataset.name,
        "queries": len(dataset.judged_queries()),
        "model": model,
        "modes": {name: r.metrics for name, r in reports.items()},
    }
    if DEFAULT_MODE in reports:
        out["default"] = {"mode": DEFAULT_MODE, **reports[DEFAULT_MODE].metrics}
    return out


def files_to_json(runs: Sequence[FileReport], model: str) -> dict[str, Any]:
    """:func:`to_json` of the first file, plus ``queries_file`` and every file's under
    ``variants`` (``{file: {"queries", "modes", "default"}}``, in run order)."""
    first = runs[0]
    out = to_json(first.dataset, first.reports, model)
    out["queries_file"] = first.queries_file
    out["variants"] = {
        run.queries_file: {
            k: v
            for k, v in to_json(run.dataset, run.reports, model).items()
            if k not in ("dataset", "model")
        }
        for run in runs
    }
    return out


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    files = [f.strip() for f in args.queries.split(",") if f.strip()] or ["queries.jsonl"]
    # As a city gets it: adapted to the corpus when KB_ADAPT is on (or --adapt), never a fake.
    wanted = settings.adapt if args.adapt is None else args.adapt
    adapt = (wanted or args.tune) and args.adapt is not False
    adapt = adapt and not settings.model.startswith("fake")
    base_runs: list[FileReport] = []
    if adapt:
        _, adaptation = adapted_model_for(load_dataset(args.dataset, files[0]), settings)
        base_runs, base_model = evaluate_files(args.dataset, settings, modes, queries_files=files)
    runs, model = evaluate_files(args.dataset, settings, modes, queries_files=files, tune=adapt)
    dataset, reports = runs[0].dataset, runs[0].reports
    if base_runs:
        _print_adaptation(adaptation, base_runs, runs, model)
    if len(runs) == 1:
        print(f"dataset {dataset.name}: {len(dataset.judged_queries())} queries, model {model}")
        print(markdown_table(reports))
    else:
        print(f"dataset {dataset.name}: {len(runs)} queries files, model {model}")
        print(files_table(runs))
    data = files_to_json(runs, model)
    if base_runs:
        data["adaptation"] = adaptation
        data["base"] = files_to_json(base_runs, base_model)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.report:
        from kb.evaluation.report import write_report

        published = published_results(args.dataset)
        write_report(args.report, dataset, reports, model, published, variants=runs)
        print(f"report written to {args.report}")
    return 0


def _print_adaptation(
    record: dict[str, Any], base: Sequence[FileReport], adapted: Sequence[FileReport], model: str
) -> None:
    """The base model's table, then the validation that decided the default."""
    print(f"base model (--no-adapt), {base[0].dataset.name}:")
    print(markdown_table(base[0].reports) if len(base) == 1 else files_table(base))
    b, a = record.get("base") or {}, record.get("adapted") or {}
    if "too_few" in record:
        print(
            f"not adapted: {record['too_few']} corpus pairs, and adaptation starts at "
            f"{record['min_pairs']} (KB_ADAPT_MIN_PAIRS): the default is the base model"
        )
        return
    print(
        f"adapted on {record.get('train_pairs')} corpus pairs in {record.get('seconds', 0):.0f} s"
        f" ({record.get('cpu_seconds', 0):.0f} CPU s); held-out corpus pairs "
        f"({record.get('heldout_pairs')}): MRR@10 {b.get('mrr_at_10', 0):.3f} (base) -> "
        f"{a.get('mrr_at_10', 0):.3f} (adapted): "
        + ("kept, the default below" if record.get("kept") else "not kept: the default is base")
    )
    for mode in adapted[0].reports:
        if mode in base[0].reports:
            before = base[0].reports[mode].metrics["ndcg@10"] or 0.0
            after = adapted[0].reports[mode].metrics["ndcg@10"] or 0.0
            print(f"  {mode}: nDCG@10 {before:.4f} (base) -> {after:.4f} (default)")
    print(f"default (as a city gets it), model {model}:")
