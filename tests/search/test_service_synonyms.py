"""The service's synonyms: SudachiDict's dictionary under the city's file, as staff edit it."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.search.query import analyze_query
from kb.search.service import SearchService
from kb.text.mecab import MeCabTokenizer
from tests.text.test_synonyms import FIXTURE


def service(tmp_path: Path, tokenizer: MeCabTokenizer, dictionary: Path | None) -> SearchService:
    return SearchService(
        tmp_path / "indexes",
        FakeEmbedder(8),
        tokenizer=tokenizer,
        synonyms_path=tmp_path / "synonyms.tsv",
        synonym_dictionary=dictionary,
    )


def expanded(svc: SearchService, query: str) -> set[str]:
    return set(svc.synonyms().expand(svc.tokenizer.lemmas(query)))


@pytest.fixture
def dictionary(tmp_path: Path) -> Path:
    path = tmp_path / "share" / "sudachi-synonyms-dictionary.json"
    path.parent.mkdir()
    path.write_text(json.dumps(FIXTURE, ensure_ascii=False), encoding="utf-8")
    return path


def touch(path: Path, text: str) -> None:
    """Write ``text`` with an mtime that differs from the last one, however fast the test runs."""
    before = path.stat().st_mtime if path.exists() else 0.0
    path.write_text(text, encoding="utf-8")
    os.utime(path, (before + 10, before + 10))


def test_city_edits_layer_on_the_dictionary(
    tmp_path: Path, tokenizer: MeCabTokenizer, dictionary: Path
) -> None:
    svc = service(tmp_path, tokenizer, dictionary)
    city = tmp_path / "synonyms.tsv"
    touch(city, "住居確保給付金\t家賃補助\n")
    assert "国保" in expanded(svc, "国民健康保険の手続き")
    assert "住居" in expanded(svc, "家賃補助")
    touch(city, "-国保\n")  # staff remove a group that misfires: the next query has it
    assert expanded(svc, "国民健康保険の手続き") == set()
    assert expanded(svc, "家賃補助") == set()


def test_a_mistake_in_the_city_file_keeps_search_going(
    tmp_path: Path,
    tokenizer: MeCabTokenizer,
    dictionary: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    svc = service(tmp_path, tokenizer, dictionary)
    city = tmp_path / "synonyms.tsv"
    touch(city, "住民票だけ\n")
    with caplog.at_level(logging.ERROR):
        # Nothing loaded yet: the dictionary alone, and the mistake (file, line) in the log.
        assert "国保" in expanded(svc, "国民健康保険の手続き")
    assert f"{city}:1" in caplog.text
    touch(city, "住居確保給付金\t家賃補助\n")
    assert "住居" in expanded(svc, "家賃補助")
    touch(city, "住民票だけ\n")  # a later mistake keeps the last good table
    assert "住居" in expanded(svc, "家賃補助")


def test_without_the_dictionary_the_city_file_still_works(
    tmp_path: Path, tokenizer: MeCabTokenizer, caplog: pytest.LogCaptureFixture
) -> None:
    svc = service(tmp_path, tokenizer, tmp_path / "missing.json")
    touch(tmp_path / "synonyms.tsv", "国保\t国民健康保険\n")
    with caplog.at_level(logging.WARNING):
        assert expanded(svc, "国保の保険料") == {"国民", "健康"}
    assert "bash scripts/setup.sh" in caplog.text


def test_expansions_weigh_less_than_typed_terms(
    tmp_path: Path, tokenizer: MeCabTokenizer, dictionary: Path
) -> None:
    svc = service(tmp_path, tokenizer, dictionary)
    analysis = analyze_query(
        "国保に入りたい", tokenizer, svc.synonyms(), max_chars=100, synonym_weight=0.2
    )
    weight = dict(zip(analysis.terms, analysis.weights, strict=True))
    assert weight["国保"] == 1.0
    assert weight["国民"] == weight["健康"] == weight["保険"] == 0.2
