"""Fixtures of the ingest tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kb.messages import language


@pytest.fixture(autouse=True)
def _japanese_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default language, whatever ``KB_LANG`` the shell running the tests has."""
    monkeypatch.delenv("KB_LANG", raising=False)


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English (``KB_LANG=en``), for tests that match the English wording."""
    with language("en"):
        yield
