"""int8 graphs derived from an exported ONNX folder (:mod:`kb.embed.onnx_export`).

:func:`ensure_int8` quantises every weight matmul (opt-in: ``KB_EMBEDDING_BACKEND=onnx-int8``);
:func:`ensure_query_int8` keeps the first layer (and, for an adapted model, the layers its
training moved most) float32 and builds the graph that embeds queries only, verified against the
float32 graph. Both are built once, beside ``model.onnx``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from kb.embed.folders import build_lock
from kb.embed.onnx_backend import OnnxEncoder, read_spec
from kb.errors import ModelError

log = logging.getLogger(__name__)


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


def _layer_nodes(graph: Path) -> list[list[str]]:
    """Names of the weight matmuls of each transformer layer, in graph order.

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
    per = len(nodes) // layers
    return [[n.name for n in nodes[i : i + per]] for i in range(0, len(nodes), per)]


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

    The transformer layers run their matmuls in int8 (weights per channel, activations
    quantised on the fly) except the first, whose inputs carry the embedding table's outliers
    and stays float32. Documents keep the float32 graph, so the index holds the model's own
    vectors and only the query side is approximated.

    Measured on multilingual-e5-small, int8 queries over a float32 index: a desk query embeds
    in p50 6.0 ms instead of 8.6 (both cores); nDCG@10 on municipal-faq-dev hybrid -0.0035,
    dense +0.0024, on the demo set +0.0011 / +0.0017 (quantising the first layer too costs
    -0.0075 on municipal-faq-dev). See ``docs/performance.md``.

    Built once and verified: every text of ``texts``, prompted as a query, must keep a cosine
    of at least :data:`QUERY_INT8_MIN_COSINE` to the float32 vector. When the first layer alone
    is not enough (a model adapted to the city moves the weights of the layers it trained), the
    other layers are tried one at a time in float32 and kept float in the order of the cosine
    each one alone restores, until the graph passes or half the layers are float
    (:func:`_float_layers`; about 10 s a try for e5-small). A graph that still fails, or whose
    layers cannot be told apart, is refused; the verdict is kept in
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
        tmp = folder / f".model-query-int8.tmp-{os.getpid()}.onnx"
        started = time.perf_counter()
        try:
            kept, low = _float_layers(folder, texts, tmp)
            if low < QUERY_INT8_MIN_COSINE:
                raise ModelError(
                    f"int8 queries keep a cosine of only {low:.4f} to float32 "
                    f"(at least {QUERY_INT8_MIN_COSINE} needed; layers {_names(kept)} float32)"
                )
            os.replace(tmp, target)
        except Exception as exc:  # an optional speed-up: never a reason not to serve
            refused.write_text(f"{exc}\n", "utf-8")
            log.warning("queries of %s stay float32: %s", folder.name, exc)
            return None
        finally:
            tmp.unlink(missing_ok=True)
    log.info(
        "int8 query graph built in %.1f s (layers %s float32; min cosine %.4f on %d queries)",
        time.perf_counter() - started,
        _names(kept),
        low,
        len(texts),
    )
    return target


def _names(layers: Sequence[int]) -> str:
    """Layers as people count them (from 1)."""
    return ", ".join(str(i + 1) for i in layers)


def _float_layers(folder: Path, texts: Sequence[str], tmp: Path) -> tuple[list[int], float]:
    """The layers kept float32 in the query graph written to ``tmp``, and its lowest cosine.

    The first layer always; if that graph falls short of :data:`QUERY_INT8_MIN_COSINE`, each
    other layer is tried alone beside it, then they are added in the order of the cosine each
    restored (the layer that alone restores the most first) until the graph passes or half the
    layers are float. ``tmp`` holds the graph of the returned layers.
    """
    source = folder / "model.onnx"
    layers = _layer_nodes(source)
    spec = read_spec(folder)
    if spec is None:
        raise ModelError(f"{folder} is not a verified ONNX model folder")
    prompted = [spec.prompts.get("query", "") + t for t in texts]
    exact = OnnxEncoder(folder, threads=0, spec=spec).encode(prompted, batch_size=8)
    exact /= np.maximum(np.linalg.norm(exact, axis=1, keepdims=True), 1e-12)

    def trial(kept: Sequence[int]) -> float:
        _quantize(source, tmp, keep_float=[name for i in kept for name in layers[i]])
        # One at a time, as queries are embedded (a batch shares one activation scale).
        approx = OnnxEncoder(folder, threads=0, spec=spec, query_graph=tmp).encode(
            prompted, batch_size=1, query=True
        )
        approx /= np.maximum(np.linalg.norm(approx, axis=1, keepdims=True), 1e-12)
        return float(np.min(np.sum(exact * approx, axis=1))) if texts else 0.0

    return _choose_float_layers(len(layers), trial)


def _choose_float_layers(
    count: int, trial: Callable[[Sequence[int]], float]
) -> tuple[list[int], float]:
    """Which of ``count`` layers stay float32, and the lowest cosine ``trial`` gave for them.

    ``trial(layers)`` builds the graph with those layers float32 and returns its lowest cosine
    to the float32 vectors; the last call is always for the returned layers.
    """
    kept = [0]
    low = trial(kept)
    most = count // 2
    if low >= QUERY_INT8_MIN_COSINE or most < 2:
        return kept, low
    alone = {i: trial([0, i]) for i in range(1, count)}
    for i in sorted(alone, key=lambda i: (-alone[i], i)):
        kept = sorted([*kept, i])
        low = trial(kept) if len(kept) > 2 else alone[i]
        if low >= QUERY_INT8_MIN_COSINE or len(kept) >= most:
            break
    if len(kept) == 2:
        low = trial(kept)  # the graph of the returned layers is the last one built
    return kept, low


__all__ = ["QUERY_INT8_MIN_COSINE", "ensure_int8", "ensure_query_int8"]
