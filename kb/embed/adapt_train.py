"""Fast domain adaptation: train the upper layers of the embedding model on cached lower states.

:func:`kb.embed.tune.tune_model` runs every layer forward and backward on every step; on 2 cores
one epoch over a 1,800-entry FAQ takes half an hour. Most of that work is repeated: the lower
layers of a small encoder carry general Japanese, and a few thousand pairs cannot usefully move
them. :func:`fast_tune` therefore

* tokenises every text once (questions at :attr:`FastTuneConfig.max_query_tokens`, answers cut
  into passages of :attr:`FastTuneConfig.max_passage_tokens`),
* runs the frozen embeddings and lower layers once per text, without gradients, and keeps their
  output (float16, only the real tokens),
* trains only the upper :attr:`FastTuneConfig.train_layers` layers, for a few epochs, on those
  cached states,
* makes each batch's in-batch negatives hard by filling it with questions the *base* model
  finds similar (negatives mined from kb's own dense candidates, at no extra encoding cost),
* and scores the base and the adapted model on held-out corpus pairs (a question whose entry
  was left out of training → its own answer among every answer), from the same cached states.

The result is an ordinary sentence-transformers folder (the base model's prompts and maximum
sequence length kept) with a ``kb_tune.json`` record. Importing this module loads neither
torch nor sentence-transformers.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from kb.embed.adapt_config import FastTuneConfig, resolve_precision
from kb.embed.adapt_layers import Layers
from kb.embed.folders import install_folder
from kb.embed.tune import RECORD_NAME
from kb.embed.tune_pairs import TrainingPair, pairs_hash
from kb.errors import ModelError

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Progress callback: (stage, done, total), as the index build's."""


@dataclass(frozen=True)
class Validation:
    """Dense retrieval on held-out corpus pairs: each question → its answer among all answers.

    Attributes:
        queries: Held-out questions scored.
        candidates: Answers each was ranked against (every answer of the corpus).
        mrr_at_10: Mean reciprocal rank of the right answer (0 beyond rank 10).
        recall_at_1: Share with the right answer first.
        recall_at_10: Share with the right answer in the top 10.
    """

    queries: int
    candidates: int
    mrr_at_10: float
    recall_at_1: float
    recall_at_10: float


@dataclass(frozen=True)
class FastTuneReport:
    """What :func:`fast_tune` did; written to the folder's ``kb_tune.json``.

    Attributes:
        path: The adapted sentence-transformers folder.
        base_model: The model it started from.
        method: ``"upper-layers"``.
        config: The settings used.
        train_pairs: Pairs trained on.
        heldout_pairs: Pairs kept out of training for validation.
        steps: Optimiser steps.
        threads: torch threads.
        seconds: Wall time, saving included.
        cpu_seconds: Process CPU time (all threads); ``cpu_seconds / 2`` is the time on an
            idle 2-core machine.
        corpus_hash: Hash of the training pairs.
        first_loss: Mean loss of the first ten steps.
        final_loss: Mean loss of the last epoch.
        base: The base model on the held-out pairs (``None`` without held-out pairs).
        adapted: The adapted model on the same pairs.
    """

    path: Path
    base_model: str
    method: str
    config: FastTuneConfig
    train_pairs: int
    heldout_pairs: int
    steps: int
    threads: int
    seconds: float
    cpu_seconds: float
    corpus_hash: str
    first_loss: float
    final_loss: float
    base: Validation | None
    adapted: Validation | None

    @property
    def improved_by(self) -> float:
        """Adapted minus base MRR@10 on the held-out pairs (0 without them)."""
        if self.base is None or self.adapted is None:
            return 0.0
        return round(self.adapted.mrr_at_10 - self.base.mrr_at_10, 4)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        data["improved_by"] = self.improved_by
        return data


# --------------------------------------------------------------------------- texts and batches


@dataclass(frozen=True)
class _Items:
    """Every distinct text once, as token ids, and the pairs as indexes into them."""

    seqs: list[list[int]]
    train: list[tuple[int, int]]
    """(query text, passage text) per training item; an answer may give several passages."""
    heldout: list[tuple[int, int]]
    """(query text, first passage of its answer) per held-out pair."""
    pool: list[int]
    """The first passage of every distinct answer: the candidates of validation."""


def _tokenise(
    tokenizer: Any,
    prompts: tuple[str, str],
    train: Sequence[TrainingPair],
    heldout: Sequence[TrainingPair],
    config: FastTuneConfig,
) -> _Items:
    """Tokenise each distinct text once; cut answers into passages of the passage limit."""
    query_prompt, doc_prompt = prompts
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    # Tokenised with the prompt, as the model sees it; the prompt's own tokens are those of the
    # prompt without its trailing space (SentencePiece joins that space to the next word).
    n_prompt = len(tokenizer(doc_prompt.rstrip(), add_special_tokens=False)["input_ids"])
    window = config.max_passage_tokens - 2 - n_prompt
    seqs: list[list[int]] = []
    index: dict[tuple[str, int], int] = {}

    def add(key: tuple[str, int], ids: list[int]) -> int:
        if key not in index:
            index[key] = len(seqs)
            seqs.append(ids)
        return index[key]

    def query(text: str) -> int:
        if ("q:" + text, 0) in index:
            return index[("q:" + text, 0)]
        ids = tokenizer(query_prompt + text, truncation=True, max_length=config.max_query_tokens)[
            "input_ids"
        ]
        return add(("q:" + text, 0), list(ids))

    passages_of: dict[str, list[int]] = {}

    def passages(text: str) -> list[int]:
        if text not in passages_of:
            full = list(tokenizer(doc_prompt + text, add_special_tokens=False)["input_ids"])
            head, body = full[:n_prompt], full[n_prompt:] or [sep]
            parts = [body[i : i + window] for i in range(0, len(body), window)]
            passages_of[text] = [
                add(("p:" + text, n), [cls, *head, *part, sep])
                for n, part in enumerate(parts[: config.passages_per_answer])
            ]
        return passages_of[text]

    items = [(query(p.query), d) for p in train for d in passages(p.positive)]
    held = [(query(p.query), passages(p.positive)[0]) for p in heldout]
    pool = sorted({v[0] for v in passages_of.values()})
    return _Items(seqs, items, held, pool)


def _batches(
    items: Sequence[tuple[int, int]],
    batch_size: int,
    rng: random.Random,
    similar: np.ndarray | None,
) -> list[list[int]]:
    """Batches of item indexes in which no query and no passage occurs twice.

    With ``similar`` (one unit vector per item: the base model's query vector), each batch is a
    random seed item and the items nearest to it, so that the other positives in the batch are
    the answers the base model confuses with the right one; otherwise batches are random.
    """
    order = list(range(len(items)))
    rng.shuffle(order)
    alive = np.ones(len(items), dtype=bool)
    batches: list[list[int]] = []
    left: list[int] = []
    for seed in order:
        if not alive[seed]:
            continue
        if similar is not None:
            sims = similar @ similar[seed]
            sims[~alive] = -np.inf
            candidates = np.argsort(-sims, kind="stable")[: batch_size * 4].tolist()
        else:
            candidates = [i for i in order if alive[i]][: batch_size * 4]
        batch: list[int] = []
        texts: set[int] = set()
        for i in [seed, *candidates]:
            q, d = items[i]
            if alive[i] and q not in texts and d not in texts and len(batch) < batch_size:
                batch.append(i)
                texts.update((q, d))
                alive[i] = False
        if len(batch) > 1:
            batches.append(batch)
        else:
            left.extend(batch)
    # A batch of one has no negative: such an item (its text was taken by the batches around
    # it) joins the smallest batch that holds neither of its texts.
    for i in left:
        fits = [b for b in batches if not {t for j in b for t in items[j]} & set(items[i])]
        if fits:
            min(fits, key=len).append(i)
    return batches


def _validate(
    layers: Layers, flat: Any, offsets: np.ndarray, items: _Items, pool_vectors: np.ndarray
) -> Validation | None:
    if not items.heldout:
        return None
    queries = layers.encode_all(flat, offsets, [q for q, _ in items.heldout])
    position = {d: n for n, d in enumerate(items.pool)}
    sims = queries @ pool_vectors.T
    mrr = r1 = r10 = 0.0
    for row, (_, d) in enumerate(items.heldout):
        right = sims[row, position[d]]
        rank = int((sims[row] > right).sum()) + 1
        mrr += 1.0 / rank if rank <= 10 else 0.0
        r1 += rank == 1
        r10 += rank <= 10
    n = len(items.heldout)
    return Validation(n, len(items.pool), round(mrr / n, 4), round(r1 / n, 4), round(r10 / n, 4))


# --------------------------------------------------------------------------- training


def fast_tune(
    base_path: Path,
    train: Sequence[TrainingPair],
    out_dir: Path | None,
    *,
    heldout: Sequence[TrainingPair] = (),
    config: FastTuneConfig | None = None,
    threads: int = 0,
    base_id: str | None = None,
    progress: Progress | None = None,
) -> FastTuneReport:
    """Adapt a sentence-transformers model to ``train`` and score it on ``heldout``.

    Args:
        base_path: A sentence-transformers folder (or hub name) to start from.
        train: Training pairs; at least two (a seeded sample of ``config.max_pairs`` if more).
        out_dir: Where the adapted folder goes (replaced atomically); ``None``: nothing is
            saved (a measurement).
        heldout: Pairs never trained on: validation (question → its answer among all answers).
        config: How to train (default :class:`FastTuneConfig`).
        threads: torch threads (0: all cores).
        base_id: The name recorded as the base model (default: ``base_path``).
        progress: Optional progress callback (stages ``adapt: states``, ``adapt: train``).

    Returns:
        The report, with the base and the adapted model's validation.

    Raises:
        ModelError: The model cannot be loaded, is not a BERT-style mean-pooling encoder, or the
            folder cannot be written.
        ValueError: Fewer than two training pairs, or a setting that cannot train.
    """
    config = config or FastTuneConfig()
    config.check()
    config = resolve_precision(config)
    if len(train) < 2:
        raise ValueError("adaptation needs at least two training pairs (in-batch negatives)")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - dependencies are declared
        raise ModelError(f"adaptation needs torch and sentence-transformers: {exc}") from exc
    from kb.embed.embedder import set_thread_count
    from kb.embed.tune_pairs import sample_pairs

    started, cpu_started = time.perf_counter(), time.process_time()
    n_threads = set_thread_count(threads)
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    train = sample_pairs(train, config.max_pairs, seed=config.seed)
    try:
        model: Any = SentenceTransformer(str(base_path), device="cpu")
    except Exception as exc:
        raise ModelError(f"cannot load base model {base_path!s}: {exc}") from exc
    prompts: dict[str, str] = dict(getattr(model, "prompts", {}) or {})
    layers = Layers(model, config.train_layers, bfloat16=config.precision == "bfloat16")
    items = _tokenise(
        layers.tokenizer,
        (prompts.get("query", ""), prompts.get("document", prompts.get("passage", ""))),
        train,
        heldout,
        config,
    )
    model.eval()
    if progress:
        progress("adapt: states", 0, len(items.seqs))
    flat, offsets = layers.lower_states(items.seqs)
    if progress:
        progress("adapt: states", len(items.seqs), len(items.seqs))
    needs_base = bool(items.heldout) or config.hard_batches
    pool_base = layers.encode_all(flat, offsets, items.pool) if needs_base else None
    base = _validate(layers, flat, offsets, items, pool_base) if pool_base is not None else None
    similar = None
    if config.hard_batches:
        similar = layers.encode_all(flat, offsets, [q for q, _ in items.train])

    plan = [_batches(items.train, config.batch_size, rng, similar) for _ in range(config.epochs)]
    total = sum(len(b) for b in plan)
    warmup = max(1, math.ceil(total * config.warmup_ratio))

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    for param in model.parameters():
        param.requires_grad_(False)
    trainable = [p for layer in layers.upper for p in layer.parameters()]
    for param in trainable:
        param.requires_grad_(True)
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    losses: list[float] = []
    epoch_losses: list[float] = []
    for layer in layers.upper:
        layer.train()
    done = 0
    for epoch, batches in enumerate(plan, start=1):
        epoch_losses = []
        for batch in batches:
            q = layers.encode(flat, offsets, [items.train[i][0] for i in batch])
            d = layers.encode(flat, offsets, [items.train[i][1] for i in batch])
            scores = q @ d.T * config.scale
            loss: Any = torch.nn.functional.cross_entropy(scores, torch.arange(len(batch)))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            value = float(loss.detach())
            losses.append(value)
            epoch_losses.append(value)
            done += 1
            if progress:
                progress("adapt: train", done, total)
        log.info("epoch %d: mean loss %.4f", epoch, sum(epoch_losses) / len(epoch_losses))
    model.eval()
    for param in model.parameters():
        param.requires_grad_(True)
    adapted = None
    if items.heldout:
        adapted = _validate(
            layers, flat, offsets, items, layers.encode_all(flat, offsets, items.pool)
        )
    del flat

    report = FastTuneReport(
        path=Path(out_dir) if out_dir is not None else Path(),
        base_model=base_id or str(base_path),
        method="upper-layers",
        config=config,
        train_pairs=len(train),
        heldout_pairs=len(heldout),
        steps=total,
        threads=n_threads,
        seconds=0.0,
        cpu_seconds=0.0,
        corpus_hash=pairs_hash(train),
        first_loss=round(sum(losses[:10]) / max(1, len(losses[:10])), 4),
        final_loss=round(sum(epoch_losses) / max(1, len(epoch_losses)), 4),
        base=base,
        adapted=adapted,
    )
    if out_dir is None:
        return _timed(report, started, cpu_started)
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        model.save(str(tmp), create_model_card=False)
        report = _timed(report, started, cpu_started)
        (tmp / RECORD_NAME).write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        install_folder(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"cannot write the adapted model to {target}: {exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _timed(report: FastTuneReport, started: float, cpu_started: float) -> FastTuneReport:
    return replace(
        report,
        seconds=round(time.perf_counter() - started, 1),
        cpu_seconds=round(time.process_time() - cpu_started, 1),
    )


__all__ = ["FastTuneReport", "Validation", "fast_tune"]
