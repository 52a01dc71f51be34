"""Loading SudachiDict's dictionary: the compiled cache, a missing file, the installed one."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest

import kb.text.synonym_dictionary as sd
from kb.errors import InputError
from kb.settings import Settings, default_synonym_dictionary
from kb.text.mecab import MeCabTokenizer
from kb.text.synonyms import CitySynonyms, base_dictionary, layer
from tests.text.test_synonyms import FIXTURE, item


@pytest.fixture
def dictionary_file(tmp_path: Path) -> Path:
    path = tmp_path / "synonyms.json"
    path.write_text(json.dumps(FIXTURE, ensure_ascii=False), encoding="utf-8")
    return path


def test_compiled_once_then_read_from_the_cache(
    dictionary_file: Path, tokenizer: MeCabTokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sd.read_dictionary(dictionary_file, tokenizer)
    cached = list(dictionary_file.parent.glob("synonyms.json.*.compiled.json"))
    assert len(cached) == 1

    def no_compiling(*_: object) -> None:
        raise AssertionError("compiled again although the cache is valid")

    monkeypatch.setattr(sd, "compile_groups", no_compiling)
    assert sd.read_dictionary(dictionary_file, tokenizer) == first


def test_a_changed_dictionary_is_compiled_anew(
    dictionary_file: Path, tokenizer: MeCabTokenizer
) -> None:
    sd.read_dictionary(dictionary_file, tokenizer)
    grown = [*FIXTURE, {"id": "000900", "items": [item("役所"), item("役場", lexeme=2)]}]
    dictionary_file.write_text(json.dumps(grown, ensure_ascii=False), encoding="utf-8")
    dictionary = sd.read_dictionary(dictionary_file, tokenizer)
    assert "SudachiDict 000900" in {g.origin for g in dictionary.groups}
    # The stale compiled form is removed, not left to pile up.
    assert len(list(dictionary_file.parent.glob("synonyms.json.*.compiled.json"))) == 1


def test_an_unwritable_cache_still_loads(
    dictionary_file: Path, tokenizer: MeCabTokenizer, caplog: pytest.LogCaptureFixture
) -> None:
    # A folder in the cache's place: unreadable and unwritable, whoever runs the test.
    key = sd._cache_key(hashlib.sha256(dictionary_file.read_bytes()).hexdigest())
    blocker = sd._cache_path(dictionary_file, key)
    blocker.mkdir()
    (blocker / "x").write_text("", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        dictionary = sd.read_dictionary(dictionary_file, tokenizer)
    assert {g.origin for g in dictionary.groups} == {"SudachiDict 001121", "SudachiDict 021673"}
    assert "could not cache" in caplog.text


def test_a_damaged_cache_is_compiled_anew(
    dictionary_file: Path, tokenizer: MeCabTokenizer, caplog: pytest.LogCaptureFixture
) -> None:
    first = sd.read_dictionary(dictionary_file, tokenizer)
    (cache,) = dictionary_file.parent.glob("synonyms.json.*.compiled.json")
    cache.write_text('{"key": ', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert sd.read_dictionary(dictionary_file, tokenizer) == first
    assert "unreadable compiled" in caplog.text


def test_missing_dictionary_names_the_setup_command(
    tmp_path: Path, tokenizer: MeCabTokenizer, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "nowhere" / "sudachi-synonyms-dictionary.json"
    with pytest.raises(InputError, match=r"bash scripts/setup\.sh") as info:
        sd.load_dictionary(missing, tokenizer)
    assert info.value.source == str(missing)
    assert sd.SETUP_COMMAND == "bash scripts/setup.sh"
    # Where search needs it, a warning says the same and the city's file works alone.
    with caplog.at_level(logging.WARNING):
        assert base_dictionary(missing, tokenizer) is None
    assert "bash scripts/setup.sh" in caplog.text
    assert base_dictionary(None, tokenizer) is None  # KB_SYNONYM_DICTIONARY=none: no warning


def test_setting_defaults_to_the_installed_dictionary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KB_SYNONYM_DICTIONARY", raising=False)
    assert Settings().synonym_dictionary == default_synonym_dictionary()
    assert default_synonym_dictionary().parent.parts[-2:] == ("share", "kb")
    for off in ("none", "", "OFF"):
        monkeypatch.setenv("KB_SYNONYM_DICTIONARY", off)
        assert Settings().synonym_dictionary is None
    monkeypatch.setenv("KB_SYNONYM_SCOPE", "everything")
    with pytest.raises(ValueError, match="lexeme"):
        Settings()


def test_installed_dictionary(tokenizer: MeCabTokenizer) -> None:
    """The real dictionary, as scripts/setup.sh installs it (run it if this fails)."""
    path = default_synonym_dictionary()
    assert path.is_file(), f"{path} is missing: run `bash scripts/setup.sh`"
    dictionary = sd.load_dictionary(path, tokenizer)
    assert len(dictionary.groups) > 20_000
    for scope in sd.SCOPES:
        table = layer(dictionary, CitySynonyms(), scope)
        assert "国保" in table.expand(tokenizer.lemmas("国民健康保険の保険料"))
        assert {"国民", "健康"} <= set(table.expand(tokenizer.lemmas("国保の保険料")))
    group = layer(dictionary, CitySynonyms(), "group")
    assert {"個人", "番号"} <= set(group.expand(tokenizer.lemmas("マイナンバーを調べたい")))
    assert "転居" in group.expand(tokenizer.lemmas("引越しの手続き"))
