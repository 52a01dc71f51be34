"""DocId: the one place a "kind:local" document id is built and split."""

from __future__ import annotations

import pytest

from kb.types import DocId


def test_round_trip() -> None:
    for kind, local in [
        ("faq", "F0071"),
        ("case", "C-2024:17"),
        ("manual", "sogo-soudan-madoguchi#7"),
        ("department", "市民課"),
    ]:
        text = DocId.of(kind, local)  # type: ignore[arg-type]
        assert text == f"{kind}:{local}"
        parsed = DocId.parse(text)
        assert (parsed.kind, parsed.local) == (kind, local)
        assert str(parsed) == text
        assert DocId.local_of(text) == local
        assert DocId.kind_of(text) == kind


@pytest.mark.parametrize("text", ["F0071", "faq:", "topic:T1", ":F1", ""])
def test_parse_refuses_what_is_not_a_document_id(text: str) -> None:
    with pytest.raises(ValueError, match="not a document id"):
        DocId.parse(text)


def test_helpers_on_text_without_a_kind() -> None:
    assert DocId.local_of("F0071") == "F0071"
    assert DocId.kind_of("F0071") == ""
