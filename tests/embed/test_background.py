"""Background threads (the public search): one model thread, never ahead of a staff query."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kb.embed.embedder import OnnxEmbedder, set_background_thread
from tests.embed.test_onnx_backend import _recorded_solo_embedder, _tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_model(tmp_path_factory.mktemp("tiny"))


def _background_search(embedder: OnnxEmbedder, query: str) -> threading.Thread:
    def search() -> None:
        set_background_thread()
        with embedder.occupied():
            embedder.encode_queries([query])

    thread = threading.Thread(target=search)
    thread.start()
    return thread


def test_a_background_query_runs_on_one_thread_and_staff_queries_keep_every_core(
    tiny: Path, tmp_path: Path
) -> None:
    embedder, log = _recorded_solo_embedder(tiny, tmp_path)
    shared = embedder._encoder._session
    # Alone, a background query still takes the one-thread session.
    _background_search(embedder, "粗大ごみの出し方").join(30)
    assert log == ["shared"]
    # While it runs, a staff query counts as alone: it takes every core.
    log.clear()
    shared.gate.clear()
    shared.entered.clear()
    background = _background_search(embedder, "住民票の写しが欲しいのですが")
    assert shared.entered.wait(30)
    embedder.encode_queries(["児童手当"])
    shared.gate.set()
    background.join(30)
    assert log == ["shared", "solo"]
    # The calling thread was never marked: it still gets every core when alone.
    log.clear()
    with embedder.occupied():
        embedder.encode_queries(["転出届"])
    assert log == ["solo"]
