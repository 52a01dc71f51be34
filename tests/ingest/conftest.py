"""Fixtures of the ingest tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kb.messages import language


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English (``KB_LANG=en``), for tests that match the English wording."""
    with language("en"):
        yield
