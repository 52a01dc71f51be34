"""Person-name detection (:mod:`kb.text.masking.names`) on its own, without the masker."""

from __future__ import annotations

from kb.text.masking.names import person_name_spans
from kb.text.mecab import MeCabTokenizer

_TOKENIZER = MeCabTokenizer()


def test_honorific_only_spans_need_an_honorific_in_the_text() -> None:
    assert person_name_spans(_TOKENIZER, "山田太郎が来た", honorific_only=True) == []
    assert person_name_spans(_TOKENIZER, "山田太郎様が来た", honorific_only=True) == [(0, 4)]
    assert person_name_spans(_TOKENIZER, "山田太郎が来た") == [(0, 4)]
    assert person_name_spans(_TOKENIZER, "住民票を取りたい") == []
