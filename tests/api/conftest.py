"""Fixtures for the console and public API tests: apps over the sample and the demo index."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.embed.embedder import FakeEmbedder
from kb.search.config import SearchConfig
from kb.search.service import SearchService
from kb.security.keys import KeyStore
from kb.settings import Settings
from tests.e2e.demo_index import build_demo_index

MakeClient = Callable[..., TestClient]


def create_key(settings: Settings, role: str, name: str = "") -> str:
    """A new API key of ``role`` in ``settings.data_dir`` (a unique name unless given)."""
    keys = KeyStore(settings.keys_path)
    try:
        _, secret = keys.create(name or f"test-{role}-{secrets.token_hex(3)}", role)
    finally:
        keys.close()
    return secret


@pytest.fixture
def make_client(index_root: Path, fake_embedder: FakeEmbedder) -> Iterator[MakeClient]:
    """Build a TestClient over the sample index with the given settings overrides."""
    clients: list[TestClient] = []

    def make(root: Path | None = None, role: str | None = "admin", **overrides: Any) -> TestClient:
        """``role``: the key the client sends (a fresh one per client); ``None``: no key."""
        root = root or index_root
        settings = Settings(data_dir=root.parent, **overrides)
        app = create_app(
            settings,
            service_factory=lambda: SearchService(
                root, fake_embedder, SearchConfig.from_settings(settings)
            ),
            load_in_background=False,
        )
        client = TestClient(app)
        if role is not None:
            client.headers["Authorization"] = "Bearer " + create_key(settings, role)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus (``corpus/``) indexed with the fake embedder, once per session."""
    return build_demo_index(tmp_path_factory.mktemp("demo"))
