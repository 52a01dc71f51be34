"""Readings reused across builds: only changed texts go through MeCab, and the bytes are equal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.index.builder import build_index
from kb.index.readings import (
    CachedReadings,
    cache_version,
    decode_text_readings,
    encode_text_readings,
    text_readings,
)
from kb.ingest.chunking import chunk_document
from kb.store import EmbeddingCache, Store, text_hash
from kb.store.readings_cache import ReadingsCache
from kb.text.mecab import MeCabTokenizer
from kb.types import Document

EMB = FakeEmbedder(64)


class Counting:
    """Counts the texts MeCab reads for the readings (the costly step the cache saves)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = MeCabTokenizer.readings

        def readings(tokenizer: MeCabTokenizer, text: str):  # type: ignore[no-untyped-def]
            self.calls += 1
            return original(tokenizer, text)

        monkeypatch.setattr(MeCabTokenizer, "readings", readings)


def _files(build: Path) -> dict[str, object]:
    """Every file of a build as bytes, but what says when and how long it took.

    The manifest is left out, and a JSON file's ``seconds`` (a step's own timing).
    """
    out: dict[str, object] = {}
    for p in build.iterdir():
        if p.name == "manifest.json":
            continue
        data = p.read_bytes()
        if p.suffix == ".json" and b'"seconds"' in data:
            parsed = json.loads(data)
            parsed.pop("seconds", None)
            out[p.name] = parsed
        else:
            out[p.name] = data
    return out


def test_a_build_is_the_same_bytes_whether_readings_came_from_the_cache_or_not(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tokenizer: MeCabTokenizer
) -> None:
    mecab = Counting(monkeypatch)
    plain = build_index(store, EMB, tmp_path / "plain")  # no cache: MeCab for every text
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    try:
        cold = build_index(store, EMB, tmp_path / "idx", cache=cache)
        read_cold = mecab.calls
        warm = build_index(store, EMB, tmp_path / "idx", cache=cache)
        assert mecab.calls == read_cold  # not one text read again
        assert _files(plain.path) == _files(cold.path) == _files(warm.path)

        # One changed document: only its texts are read, and the build equals a cache-less one.
        doc = Document("faq:NEW", "faq", "犬の登録はどこでしますか", "環境保全課で登録します", ())
        store.upsert([(doc, chunk_document(doc, tokenizer))])
        before = mecab.calls
        changed = build_index(store, EMB, tmp_path / "idx", cache=cache)
        assert mecab.calls - before == 2  # its title and its text
        reference = build_index(store, EMB, tmp_path / "plain")
        assert _files(changed.path) == _files(reference.path)
    finally:
        cache.close()
    readings = ReadingsCache(tmp_path / "embeddings.sqlite")
    try:
        assert readings.count() > 0
    finally:
        readings.close()


def test_a_damaged_row_is_read_again_and_replaced(
    store: Store, tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    cache = ReadingsCache(tmp_path / "embeddings.sqlite")
    try:
        text = next(store.iter_chunks()).text
        cache.put(cache_version(), [(text_hash(text), "not\x1dreadings")])
        lookup = CachedReadings(tokenizer, cache)
        lookup.prefetch([text])
        expected = text_readings(tokenizer.readings(text))
        assert lookup(text) == expected
        assert (lookup.computed, lookup.reused) == (1, 0)
        lookup.save()
        stored = cache.get(cache_version(), [text_hash(text)])[text_hash(text)]
        assert decode_text_readings(stored) == expected
    finally:
        cache.close()


def test_the_encoding_is_lossless_and_texts_with_its_separators_are_not_cached(
    tokenizer: MeCabTokenizer,
) -> None:
    for text in ("住民票の写しは、コンビニ交付で。", "", "ＡＢＣ 123 ｶﾅ"):
        found = text_readings(tokenizer.readings(text))
        assert decode_text_readings(encode_text_readings(found)) == found
    cache = ReadingsCache(None)
    try:
        lookup = CachedReadings(tokenizer, cache)
        odd = "区切り\x1e文字"
        lookup.prefetch([odd])
        lookup(odd)
        lookup.save()
        assert cache.count() == 0
    finally:
        cache.close()
