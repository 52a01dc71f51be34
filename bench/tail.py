"""The search tail at scale (issue 20 item 6): search without the query embedding, repeated
queries, suggest, per stage, with each optimisation on and off, and whether answers are equal.

Usage::

    .venv/bin/python bench/run.py --root data/bench-scale --levels 100000 --real-max 0 \\
        --build-only                                     # the level, once (derived vectors)
    .venv/bin/python bench/tail.py --root data/bench-scale --level 100000 --json PATH
    .venv/bin/python bench/tail.py ... --reading-max-postings none   # as before the bound
    .venv/bin/python bench/tail.py ... --lemma-max-postings 100000   # with a bound on lemmas

A level built before kb grouped the chunks by kind (row-id order) is measured as it is and, with
``--kind-ordered``, also rebuilt beside it (``data/indexes-kind``) by the current builder, so the
two layouts are measured and compared on the same chunks. Figures are wall-clock (p50/p95) and
the thread's CPU time (``time.thread_time``, less distorted on a loaded machine); the load
average is printed with them. Every variant's answers are compared with the reference
(ids, scores and panes of every demo query): ``identical`` must be true.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.run import demo_queries, load_avg, log  # noqa: E402
from bench.scale import write_level  # noqa: E402
from bench.suggest import _unconverted  # noqa: E402
from kb.embed.embedder import load_embedder, wait_until_warm  # noqa: E402
from kb.evaluation.metrics import percentile  # noqa: E402
from kb.index import dense, layout, lexical  # noqa: E402
from kb.index.folder import current_index  # noqa: E402
from kb.search import searcher as searcher_module  # noqa: E402
from kb.search.config import SearchConfig  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402
from kb.search.service import SearchService, settle_heap  # noqa: E402
from kb.search.suggest import suggester_for  # noqa: E402
from kb.settings import DEFAULT_MODEL, Settings  # noqa: E402
from kb.store import Store  # noqa: E402
from kb.types import SearchResult  # noqa: E402


def stats(wall: Sequence[float], cpu: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(wall),
        "p50_ms": round(percentile(wall, 50), 3),
        "p95_ms": round(percentile(wall, 95), 3),
        "cpu_p50_ms": round(percentile(cpu, 50), 3),
        "cpu_p95_ms": round(percentile(cpu, 95), 3),
    }


def timed(fn: Callable[[str], Any], texts: Sequence[str], rounds: int) -> dict[str, Any]:
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for text in texts:
            w, c = time.perf_counter(), time.thread_time()
            fn(text)
            cpu.append((time.thread_time() - c) * 1000)
            wall.append((time.perf_counter() - w) * 1000)
    return {**stats(wall, cpu), "load": load_avg()}


def answer(result: SearchResult) -> tuple[Any, ...]:
    """What must not change: every hit's ids and scores, the panes, the departments."""
    return (
        tuple((h.chunk_id, h.score, h.dense_score, h.lexical_score) for h in result.hits),
        tuple((d.name, d.score) for d in result.departments),
        result.faqs,
        result.cases,
        result.manuals,
        result.answered,
        result.confidence,
    )


@contextmanager
def stage_counters(counters: dict[str, float]) -> Iterator[None]:
    """Thread CPU time per stage, summed into ``counters`` (ms), while the block runs."""
    patches: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            t = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                counters[label] += (time.thread_time() - t) * 1000

        patches.append((owner, name, original))
        setattr(owner, name, timed_call)

    wrap(Searcher, "analyze", "analyze (MeCab, synonyms)")
    wrap(Searcher, "rewrite", "rewrite (typos, kana)")
    wrap(lexical.QueryTerms, "scores", "BM25 (lemmas + readings)")
    wrap(dense.DenseIndex, "search", "FAISS")
    wrap(layout.KindRows, "top", "lexical top-k per kind")
    wrap(Searcher, "_dense_scores", "re-scoring candidates")
    wrap(searcher_module, "fuse", "fusion")
    wrap(Searcher, "_rank_departments", "departments")
    wrap(Searcher, "_evidence", "confidence evidence")
    try:
        yield
    finally:
        for owner, name, original in reversed(patches):
            setattr(owner, name, original)


def measure(
    searcher: Searcher, queries: Sequence[str], rounds: int, reference: list[Any] | None
) -> dict[str, Any]:
    """Search without the embedding (vectors cached), then repeated (answers cached)."""
    answers = searcher.answers
    searcher.answers = None
    for q in queries:
        searcher.search(q, k=5)  # every query vector into the cache; warm
    out: dict[str, Any] = {"search_without_embedding": timed(
        lambda q: searcher.search(q, k=5), queries, rounds)}  # fmt: skip
    counters: dict[str, float] = defaultdict(float)
    with stage_counters(counters):
        for q in queries:
            searcher.search(q, k=5)
    out["stages_cpu_ms_per_search"] = {k: round(v / len(queries), 3) for k, v in counters.items()}
    got = [answer(searcher.search(q, k=5)) for q in queries]
    if reference is not None:
        out["identical"] = got == reference
        out["different_queries"] = [q for q, a, b in zip(queries, got, reference, strict=True)
                                    if a != b][:5]  # fmt: skip
    searcher.answers = answers
    if answers is not None:
        for q in queries:
            searcher.search(q, k=5)
        out["repeated_query"] = timed(lambda q: searcher.search(q, k=5), queries, rounds)
    out["reference"] = got
    return out


def kind_ordered_index(data: Path) -> Path:
    """The level's serving build (in row-id order) with its rows grouped by kind, beside it.

    What the current builder writes for the same store, without building again (at 1M chunks
    the reading field alone takes most of an hour on 2 busy cores): the per-kind FAISS indexes
    are the same (a kind's chunks keep their order), the rows of every per-row file are put in
    :func:`kb.index.layout.kind_order`, and BM25's statistics do not depend on the order, so
    each document's column of scores moves with it. ``tests/index/test_layout.py`` checks
    that the builder gives the same answers in either order.
    """
    source = current_index(data / "indexes")
    target_root = data / "indexes-kind"
    if (target_root / "CURRENT").is_file():
        return target_root
    log("writing the kind-ordered copy of the level's index")
    target_root.mkdir(parents=True, exist_ok=True)
    target = target_root / source.name
    shutil.copytree(source, target)
    store = Store(target / "docs.sqlite", read_only=True)
    kinds = store.chunk_metadata()["kind"]
    store.close()
    order = layout.kind_order(kinds.tolist())
    for name in ("rowids.npy", "vectors.npy", "title_vectors.npy"):
        np.save(target / name, np.load(source / name)[order])
    for stem in ("bm25", "readings"):
        with np.load(source / f"{stem}.npz") as z:
            m = sparse.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        m = m[:, order].tocsr()
        m.sort_indices()
        np.savez(target / f"{stem}.npz", data=m.data, indices=m.indices, indptr=m.indptr,
                 shape=m.shape)  # fmt: skip
    (target_root / "CURRENT").write_text(source.name + "\n", encoding="utf-8")
    return target_root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=REPO / "data" / "bench-scale")
    ap.add_argument("--level", type=int, default=100_000)
    ap.add_argument("--models-dir", type=Path, default=REPO / "data" / "models")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--queries", type=int, default=220)
    ap.add_argument("--kind-ordered", action="store_true", help="also build/measure that layout")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--reading-max-share",
        type=float,
        default=None,
        help="score reading bigrams up to this share of the chunks (default: the shipped one)",
    )
    ap.add_argument(
        "--reading-max-postings",
        default=None,
        help="score reading bigrams in at most this many chunks ('none': no bound; default: "
        "the shipped one)",
    )
    ap.add_argument(
        "--lemma-max-postings",
        default=None,
        help="score lemmas found in at most this many chunks ('none': no bound, the default)",
    )
    args = ap.parse_args()
    level = write_level(args.root, args.level)
    data = level.folder / "data"
    real = load_embedder(
        DEFAULT_MODEL, models_dir=args.models_dir, threads=1,
        solo_threads=Settings().solo_query_threads, query_int8=Settings().query_int8,
    )  # fmt: skip
    wait_until_warm(real)
    queries = demo_queries()[: args.queries]
    result: dict[str, Any] = {"level": args.level, "cpus": os.cpu_count(), "load": load_avg()}
    share = args.reading_max_share
    if share is None:
        share = SearchConfig().reading_max_share
    result["reading_max_share"] = share
    bound: int | None = SearchConfig().reading_max_postings
    if args.reading_max_postings is not None:
        bound = None if args.reading_max_postings == "none" else int(args.reading_max_postings)
    result["reading_max_postings"] = bound
    lemma_bound: int | None = SearchConfig().lemma_max_postings
    if args.lemma_max_postings is not None:
        lemma_bound = None if args.lemma_max_postings == "none" else int(args.lemma_max_postings)
    result["lemma_max_postings"] = lemma_bound
    cuts = {
        "reading_max_share": share,
        "reading_max_postings": bound,
        "lemma_max_postings": lemma_bound,
    }
    roots = {"serving": data / "indexes"}
    if args.kind_ordered:
        roots["kind-ordered"] = kind_ordered_index(data)
    reference: list[Any] | None = None
    for name, index_root in roots.items():
        service = SearchService(index_root, real, synonym_dictionary=None)
        searcher = service.searcher()
        searcher.config = replace(searcher.config, **cuts)
        settle_heap()
        out: dict[str, Any] = {
            "chunks": int(searcher.rowids.size),
            "kind_slices": searcher._kinds.slices is not None,
            "dense": searcher.manifest.dense_kind,
        }
        log(f"{name}: search with the embedding (no cache)")
        cold = SearchService(index_root, real, synonym_dictionary=None, query_cache_size=0)
        plain = cold.searcher()
        plain.config = replace(plain.config, **cuts)
        for q in queries[:10]:
            plain.search(q, k=5)
        out["search_with_embedding"] = timed(plain.search, queries, 1)
        plain.close()
        log(f"{name}: search without the embedding, postings-only BM25 for rare terms")
        sparse = measure(searcher, queries, args.rounds, reference)
        reference = reference if reference is not None else sparse["reference"]
        log(f"{name}: the same with BM25 always over every chunk")
        searcher.lexical_sparse_max = 0.0
        every = measure(searcher, queries, args.rounds, reference)
        searcher.lexical_sparse_max = lexical.SPARSE_MAX_SHARE
        for part in (sparse, every):
            part.pop("reference")
        out["postings_only_bm25"], out["dense_bm25"] = sparse, every
        log(f"{name}: suggest")
        suggester = suggester_for(searcher)
        typed = [*queries, *(_unconverted(q, searcher.tokenizer) for q in queries)]
        prefixes = [q[:i] for q in typed for i in range(1, len(q) + 1)]
        out["suggest"] = {"questions": len(suggester)} | timed(suggester.suggest, prefixes, 1)
        searcher.close()
        result[name] = out
        print(json.dumps({name: out}, indent=1, ensure_ascii=False), flush=True)
    result["load_at_end"] = load_avg()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
