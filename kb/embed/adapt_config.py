"""What fast adaptation trains with: :class:`FastTuneConfig` and the machine's precision.

Separate from :mod:`kb.embed.adapt_train` so that callers that only name an adapted model by its
settings (the background adaptation, ``kb eval``) read the settings without the training code.
Importing this module loads no torch; :func:`native_bfloat16` imports it when called.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class FastTuneConfig:
    """How :func:`fast_tune` adapts a model (the defaults are the measured choice).

    Attributes:
        train_layers: Upper transformer layers trained; the embeddings and the layers below
            stay frozen and are run once.
        max_query_tokens: Token limit of a question (median 22 in a city FAQ).
        max_passage_tokens: Tokens per answer passage; longer answers are cut into passages.
        passages_per_answer: Passages of one answer used as positives (1: its beginning).
        epochs: Passes over the training pairs.
        batch_size: Pairs per step (each gives ``batch_size - 1`` in-batch negatives).
        learning_rate: Peak learning rate (linear warm-up, then linear decay).
        warmup_ratio: Share of the steps spent warming the learning rate up.
        hard_batches: Fill each batch with questions the base model finds similar, so that
            the in-batch negatives are the near misses a search would rank high.
        scale: Inverse temperature of the ranking loss (sentence-transformers' MNRL: 20).
        seed: Seeds the split, batches, dropout and initialisation.
        max_pairs: At most this many training pairs (a seeded sample): bounds the time and the
            memory of the cached states for a large case archive.
        precision: ``"bfloat16"`` runs the layers' matrix products in bfloat16 (the weights and
            the optimiser stay float32), ``"float32"`` runs everything in float32; ``"auto"``
            (see :func:`resolve_precision`) takes bfloat16 where the CPU has AMX tiles.
    """

    train_layers: int = 4
    max_query_tokens: int = 64
    max_passage_tokens: int = 128
    passages_per_answer: int = 1
    epochs: int = 2
    batch_size: int = 64
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.1
    hard_batches: bool = True
    scale: float = 20.0
    seed: int = 0
    max_pairs: int = 6000
    precision: str = "auto"

    def check(self) -> None:
        """Raise :class:`ValueError` for a setting that cannot train."""
        if self.train_layers < 1 or self.epochs < 1 or self.batch_size < 2:
            raise ValueError("train_layers and epochs must be >= 1, batch_size >= 2")
        if min(self.max_query_tokens, self.max_passage_tokens) < 16:
            raise ValueError("max_query_tokens and max_passage_tokens must be >= 16")
        if self.passages_per_answer < 1 or self.max_pairs < 2:
            raise ValueError("passages_per_answer must be >= 1 and max_pairs >= 2")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")


PRECISIONS = ("auto", "float32", "bfloat16")


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices faster than float32: AMX tiles.

    AVX-512 BF16 alone is not enough: on a 2-core Xeon with AVX-512 BF16 and no AMX, a
    matrix product and its gradient under ``torch.autocast`` took 2.12 s in bfloat16 against
    1.37 s in float32 (the conversions cost more than the products save), and the whole
    adaptation was slower too (docs/performance.md). Without AMX everything runs in float32.
    """
    import torch

    cpu: Any = torch.cpu
    return bool(getattr(cpu, "_is_amx_tile_supported", lambda: False)())


def resolve_precision(config: FastTuneConfig) -> FastTuneConfig:
    """``config`` with ``precision="auto"`` replaced by what this machine runs.

    Callers that name a model folder by its settings resolve first, so that a folder trained
    in bfloat16 and one trained in float32 never share a name.
    """
    if config.precision != "auto":
        return config
    return replace(config, precision="bfloat16" if native_bfloat16() else "float32")


__all__ = ["PRECISIONS", "FastTuneConfig", "native_bfloat16", "resolve_precision"]
