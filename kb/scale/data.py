"""Ray Data: bulk embedding for ``kb build --ray``, then the normal index build.

The texts a build embeds (every chunk's content and its title, :func:`texts_to_embed`) that
the embedding cache lacks go through a Ray Data pipeline: sorted longest first so that a batch
holds similar lengths, ``map_batches`` over a pool of actors that each load the configured
model once (:func:`kb.embed.embedder.embedder_from_settings`: the ONNX encoder by default,
documents on its float32 graph), and back to this process, which alone writes the vectors into
``embeddings.sqlite`` batch by batch (one writer; a build stopped midway resumes where it
stopped). :func:`kb.index.update.rebuild` then finds every vector in the cache and builds the
index as a local build does, so the vectors are the model's own (cosine >= 0.9999 with a local
build: only the padding of a batch differs).

The texts travel through Ray's object store, not the file system: the workers need the model
(the same ``KB_MODEL``, found or built under their ``models_dir``), not the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kb.errors import ClusterError
from kb.index.builder import BuildReport, Progress
from kb.messages import msg
from kb.scale.cluster import ClusterInfo, connected
from kb.settings import Settings

BATCH_TEXTS = 64
"""Texts per ``map_batches`` call: the encoder re-batches them by tokens inside; large enough
that Ray's per-batch cost (about 1 ms) is noise, small enough to spread over the workers."""


@dataclass(frozen=True)
class EmbedReport:
    """What the Ray pipeline embedded."""

    texts: int
    """Distinct texts of the store (contents and titles)."""
    missing: int
    """Of those, not in the cache before: embedded on Ray now."""
    workers: int
    seconds: float

    @property
    def texts_per_second(self) -> float:
        return self.missing / self.seconds if self.seconds > 0 else 0.0


def texts_to_embed(contents: Iterable[tuple[str, str]]) -> list[str]:
    """Every text a build embeds, given ``(content, title)`` per chunk: the content, and the
    title (or the content again when a chunk has none), as :func:`kb.index.builder.build_index`
    embeds them."""
    out: list[str] = []
    for content, title in contents:
        out.append(content)
        out.append(title or content)
    return out


def worker_settings(settings: Settings) -> Settings:
    """What an embedding worker needs of the settings: absolute paths, and no secret (Ray
    ships the arguments of a task over its own, unencrypted, channels)."""
    return settings.model_copy(
        update={
            "data_dir": settings.data_dir.resolve(),
            "model_cache_dir": settings.models_dir.resolve(),
            "audit_key": None,
        }
    )


class EncodeBatch:
    """The ``map_batches`` callable: one model per Ray actor, loaded once."""

    def __init__(self, settings: Settings, threads: int) -> None:
        from kb.embed.embedder import embedder_from_settings

        self._embedder = embedder_from_settings(settings, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        vectors = self._embedder.encode_documents(texts)
        model = np.array([self._embedder.model_id] * len(texts), dtype=object)
        return {"hash": batch["hash"], "vector": vectors, "model": model}


def _missing(settings: Settings, model_id: str) -> tuple[int, list[tuple[str, str]]]:
    """``(distinct texts, [(hash, text)] not cached under model_id)``, longest first."""
    from kb.store import EmbeddingCache, Store, text_hash

    store = Store(settings.store_path, read_only=True)
    try:
        texts = texts_to_embed((row.content, row.title) for row in store.iter_chunks())
    finally:
        store.close()
    by_hash = {text_hash(t): t for t in texts}
    cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite")
    try:
        found = cache.get(model_id, list(by_hash))
    finally:
        cache.close()
    missing = [(h, t) for h, t in by_hash.items() if h not in found]
    missing.sort(key=lambda item: -len(item[1]))
    return len(by_hash), missing


def embed_missing(
    settings: Settings,
    model_id: str,
    *,
    workers: int,
    threads: int = 1,
    progress: Progress | None = None,
) -> EmbedReport:
    """Embed the texts of the store that the cache lacks on Ray Data; store them in the cache.

    Runs inside :func:`kb.scale.cluster.connected`.

    Args:
        settings: The data folder and the model of the workers.
        model_id: The model id this process's embedder has; every worker must load the same.
        workers: Actors, one model each.
        threads: Inference threads per actor (and the CPUs Ray reserves for it).
        progress: Called with ``("embed (Ray)", done, total)``.

    Raises:
        ClusterError: A worker failed or loaded another model; what was stored stays cached.
    """
    from kb.store import EmbeddingCache

    started = time.perf_counter()
    total, missing = _missing(settings, model_id)
    if not missing:
        return EmbedReport(total, 0, workers, time.perf_counter() - started)
    cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite")
    done = 0
    try:
        for hashes, vectors in encode_on_ray(
            settings, missing, model_id, workers=workers, threads=threads
        ):
            cache.put(model_id, list(zip(hashes, vectors, strict=True)))
            done += len(hashes)
            if progress:
                progress("embed (Ray)", done, len(missing))
    finally:
        cache.close()
    return EmbedReport(total, done, workers, time.perf_counter() - started)


def encode_on_ray(
    settings: Settings,
    items: Sequence[tuple[str, str]],
    model_id: str,
    *,
    workers: int,
    threads: int = 1,
) -> Iterator[tuple[list[str], np.ndarray]]:
    """The Ray Data pipeline: ``(key, text)`` items in, ``(keys, vectors)`` batches out, in
    no particular order. Runs inside :func:`kb.scale.cluster.connected`.

    Raises:
        ClusterError: A worker failed or loaded another model than ``model_id``.
    """
    import ray.data
    from ray.exceptions import RayError

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    rows = [{"hash": key, "text": text} for key, text in items]
    # A few blocks per worker: enough to keep every actor busy, few enough to stay cheap.
    blocks = max(workers, min(-(-len(rows) // BATCH_TEXTS), 8 * workers))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
        EncodeBatch,
        fn_constructor_args=(worker_settings(settings), threads),
        batch_size=BATCH_TEXTS,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=threads,
    )
    try:
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            _check_model(batch["model"], model_id)
            vectors = np.asarray(batch["vector"], dtype=np.float32)
            yield [str(h) for h in batch["hash"]], vectors
    except RayError as exc:
        raise ClusterError(msg("ray.worker_failed", problem=_first_line(exc))) from exc


def _check_model(models: Iterable[Any], ours: str) -> None:
    theirs = {str(m) for m in models} - {ours}
    if theirs:
        raise ClusterError(msg("ray.other_model", theirs=sorted(theirs)[0], ours=ours))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def default_workers(info: ClusterInfo, threads: int) -> int:
    """One actor per ``threads`` CPUs of the cluster, at least one."""
    return max(1, int(info.cpus // max(1, threads)))


def rebuild_on_ray(
    settings: Settings,
    address: str | None,
    *,
    workers: int | None = None,
    threads: int = 1,
    progress: Progress | None = None,
    on_embedded: Callable[[EmbedReport], None] | None = None,
) -> BuildReport:
    """``kb build --ray``: embed what the cache lacks on Ray, then build and switch as usual.

    The caller holds the writer lock. The embedder of this process is loaded too (its model id
    and dimension go into the manifest, and it embeds whatever an ingest added meanwhile,
    normally nothing).

    Args:
        settings: Data folder and model.
        address: The Ray cluster; ``None`` starts a local instance for the build.
        workers: Embedding actors (default: one per ``threads`` CPUs of the cluster).
        threads: Inference threads per actor.
        progress: Progress callback (the Ray stage, then the build's stages).
        on_embedded: Called with the Ray stage's report before the index build.
    """
    from kb.embed.embedder import embedder_from_settings
    from kb.index.update import rebuild

    embedder = embedder_from_settings(settings, threads=settings.threads)
    with connected(address) as info:
        report = embed_missing(
            settings,
            embedder.model_id,
            workers=workers or default_workers(info, threads),
            threads=threads,
            progress=progress,
        )
    if on_embedded is not None:
        on_embedded(report)
    return rebuild(settings, embedder=embedder, progress=progress)
