"""Resolving the configured embedder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kb.embed import embedder as embedder_module
from kb.embed.embedder import FakeEmbedder, embedder_from_settings
from kb.settings import Settings


def test_embedder_from_settings_passes_every_model_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    fake = FakeEmbedder(8)

    def load(model: str, **kwargs: Any) -> FakeEmbedder:
        calls.append((model, kwargs))
        return fake

    monkeypatch.setattr(embedder_module, "load_embedder", load)
    settings = Settings(
        data_dir=tmp_path,
        model="some/model",
        query_prompt="q",
        document_prompt="d",
        embedding_backend="onnx",
        query_int8=False,
        batch_size=7,
    )
    assert embedder_from_settings(settings, threads=3, solo_threads=2) is fake
    assert calls == [
        (
            "some/model",
            {
                "models_dir": settings.models_dir,
                "query_prompt": "q",
                "document_prompt": "d",
                "backend": "onnx",
                "query_int8": False,
                "threads": 3,
                "solo_threads": 2,
                "batch_size": 7,
            },
        )
    ]
