"""Hostile text through every text-layer entry point: tokenizer, normalizer, masking (hypothesis).

The texts (``tests/hostile.py``) carry long one-character runs that cross the tagger's piece
boundary, NUL, lone surrogates, combining marks, bidi controls and emoji sequences. Nothing may
raise, offsets must point into the text, and what masking returns must still be text that
masking leaves alone. The lengths that crashed MeCab are reproduced in a subprocess instead
(``tests/test_hostile_input.py``).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from kb.ingest.chunking import chunk_document
from kb.text.masking import PUBLISHED, Masker, mask_personal
from kb.text.masking.names import person_name_spans
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize
from kb.types import DocId, Document
from tests.hostile import hostile_text

FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Masking runs every rule over the text three times per example: fewer examples.
FEWER = settings(FAST, max_examples=20)
_TOKENIZER = MeCabTokenizer()
_MASKER = Masker(_TOKENIZER, keep_words=("市民課",))


def _surrogate_free(text: str) -> bool:
    return not any("\ud800" <= ch <= "\udfff" for ch in text)


@FAST
@given(hostile_text())
def test_tokenizer_offsets_and_terms(text: str) -> None:
    tokens = _TOKENIZER.analyze(text)
    last = 0
    for token in tokens:
        assert last <= token.start
        assert text[token.start : token.start + len(token.surface)] == token.surface
        last = token.start + len(token.surface)
    morphemes = _TOKENIZER.morphemes(text)
    assert [m.surface for m in morphemes] == [t.surface for t in tokens]
    terms = _TOKENIZER.terms(text)
    assert _TOKENIZER.lemmas(text) == terms
    for term in terms:
        assert term.strip()
        assert _surrogate_free(term)


@FAST
@given(hostile_text())
def test_normalize_is_idempotent_on_hostile_text(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert "\x00" not in once


@FEWER
@given(hostile_text())
def test_masking_never_raises_and_is_stable(text: str) -> None:
    masked = _MASKER.mask(text)
    assert _MASKER.mask(masked) == masked
    published = _MASKER.mask(text, PUBLISHED)
    assert isinstance(published, str)
    personal = mask_personal(text, _TOKENIZER)
    assert mask_personal(personal, _TOKENIZER) == personal


@FAST
@given(hostile_text())
def test_name_spans_lie_inside_the_text(text: str) -> None:
    last = 0
    for start, end in person_name_spans(_TOKENIZER, text):
        assert last <= start < end <= len(text)
        last = end


@FAST
@given(hostile_text(surrogates=False), hostile_text(surrogates=False))
def test_chunking_hostile_documents(title: str, body: str) -> None:
    doc = Document(doc_id=DocId.of("faq", "F1"), kind="faq", title=title, body=body)
    chunks = chunk_document(doc, _TOKENIZER)
    assert chunks
    for chunk in chunks:
        assert len(chunk.text) <= 400
        assert all(term.strip() for term in chunk.text_tokens)
