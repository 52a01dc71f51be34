"""The parts of a BERT-style sentence-transformers encoder that fast adaptation drives.

:class:`Layers` splits the encoder into frozen lower layers, run once per text
(:meth:`Layers.lower_states`), and trained upper layers with mean pooling
(:meth:`Layers.encode`), so that :mod:`kb.embed.adapt_train` never runs the lower layers twice.
The vectors it gives for an unchanged model equal sentence-transformers' own (cosine 1.0 on the
same tokens; tests/embed/test_adapt_train.py). Importing this module loads no torch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from kb.errors import ModelError

_LOWER_BATCH = 64


class Layers:
    """The parts of a sentence-transformers BERT-style encoder that :func:`fast_tune` drives."""

    def __init__(self, model: Any, train_layers: int, *, bfloat16: bool = False) -> None:
        import torch

        self.torch = torch
        self.model = model
        self.bfloat16 = bfloat16
        auto = getattr(model[0], "auto_model", None)
        layers = getattr(getattr(auto, "encoder", None), "layer", None)
        if auto is None or layers is None or not hasattr(auto, "embeddings"):
            raise ModelError(
                "fast adaptation needs a BERT-style encoder (embeddings + encoder.layer); "
                f"{type(auto).__name__} has none: use `kb tune --full`"
            )
        pooling = getattr(model[1], "pooling_mode_mean_tokens", None)
        if len(model) < 2 or pooling is False:
            raise ModelError("fast adaptation needs a mean-pooling model (as e5 is)")
        self.auto = auto
        self.split = max(0, len(layers) - train_layers)
        self.lower = list(layers)[: self.split]
        self.upper = list(layers)[self.split :]
        self.tokenizer = model.tokenizer

    def mask(self, attention: Any, hidden: Any) -> Any:
        """The attention mask in the form the layers take (it changed in transformers 5)."""
        try:
            from transformers.masking_utils import create_bidirectional_mask
        except ImportError:  # pragma: no cover - transformers 4
            return self.auto.get_extended_attention_mask(attention, attention.shape)
        return create_bidirectional_mask(
            config=self.auto.config, inputs_embeds=hidden, attention_mask=attention
        )

    def autocast(self) -> Any:
        """The context the layers run in: bfloat16 matrix products, or float32 throughout."""
        if self.bfloat16:
            return self.torch.autocast("cpu", dtype=self.torch.bfloat16)
        return contextlib.nullcontext()

    def run(self, layers: Sequence[Any], hidden: Any, attention: Any) -> Any:
        mask = self.mask(attention, hidden)
        with self.autocast():
            for layer in layers:
                out = layer(hidden, attention_mask=mask)
                hidden = out[0] if isinstance(out, tuple) else out
        return hidden.float()

    def lower_states(self, seqs: Sequence[Sequence[int]]) -> tuple[Any, np.ndarray]:
        """Embeddings and lower layers of every sequence, once: ``(flat fp16 states, offsets)``.

        Row ``offsets[i]:offsets[i + 1]`` of the flat tensor holds sequence ``i``'s tokens.
        """
        torch = self.torch
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        flat = torch.empty((int(offsets[-1]), self.auto.config.hidden_size), dtype=torch.float16)
        order = np.argsort(-lengths, kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), _LOWER_BATCH):
                rows = order[start : start + _LOWER_BATCH].tolist()
                ids, attention = self._pad([seqs[i] for i in rows])
                hidden = self.auto.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
                hidden = self.run(self.lower, hidden, attention)
                for j, i in enumerate(rows):
                    flat[offsets[i] : offsets[i + 1]] = hidden[j, : lengths[i]].to(torch.float16)
        return flat, offsets

    def _pad(self, seqs: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        torch = self.torch
        width = max(len(s) for s in seqs)
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        attention = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(list(s), dtype=torch.long)
            attention[i, : len(s)] = 1
        return ids, attention

    def encode(self, flat: Any, offsets: np.ndarray, rows: Sequence[int]) -> Any:
        """Upper layers, mean pooling and L2 normalisation for cached states ``rows``."""
        torch = self.torch
        lengths = [int(offsets[i + 1] - offsets[i]) for i in rows]
        width = max(lengths)
        hidden = torch.zeros((len(rows), width, flat.shape[1]), dtype=torch.float32)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for j, (i, n) in enumerate(zip(rows, lengths, strict=True)):
            hidden[j, :n] = flat[int(offsets[i]) : int(offsets[i]) + n].float()
            attention[j, :n] = 1
        hidden = self.run(self.upper, hidden, attention)
        weights = attention.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def encode_all(self, flat: Any, offsets: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        """:meth:`encode` in batches, without gradients, as a float32 array (row order kept).

        Batches are formed by length, so that a batch pads its short texts little.
        """
        torch = self.torch
        out = np.zeros((len(rows), flat.shape[1]), dtype=np.float32)
        wanted = np.asarray(rows, dtype=np.int64)
        order = np.argsort(-(offsets[wanted + 1] - offsets[wanted]), kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), _LOWER_BATCH):
                at = order[start : start + _LOWER_BATCH]
                out[at] = self.encode(flat, offsets, wanted[at].tolist()).numpy()
        return out


__all__ = ["Layers"]
