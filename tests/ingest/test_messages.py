"""The message catalogue (kb.messages): one table, both languages, KB_LANG, every key in use."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from kb.messages import MESSAGES, current_language, language, msg

KB = Path(__file__).resolve().parents[2] / "kb"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_both_languages_with_the_same_blanks(key: str) -> None:
    ja, en = MESSAGES[key]
    assert ja.strip()
    assert en.strip()
    assert _fields(ja) <= _fields(en) | {"added", "updated", "unchanged"}
    assert _fields(en) <= _fields(ja) | {"added", "updated", "unchanged"}


def test_every_key_used_in_the_code_exists_and_every_key_is_used() -> None:
    used: set[str] = set()
    for path in KB.rglob("*.py"):
        text = path.read_text()
        if "from kb.messages import" not in text:
            continue
        used |= set(re.findall(r"""msg\(\s*["']([a-z0-9_.]+)["']""", text))
        # Keys chosen at run time are written out in full where they are chosen.
        used |= set(re.findall(r"""["']((?:report|date|json)\.[a-z0-9_]+)["']""", text))
    assert used - set(MESSAGES) == set()
    assert set(MESSAGES) - used == set()


def test_japanese_is_the_default_and_kb_lang_en_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KB_LANG", raising=False)
    assert current_language() == "ja"
    assert msg("value.required") == "必須の値が空です"
    monkeypatch.setenv("KB_LANG", "en")
    assert current_language() == "en"
    assert msg("value.required") == "required value is empty"
    monkeypatch.setenv("KB_LANG", "fr")  # not a language kb has: Japanese
    assert current_language() == "ja"


def test_the_language_set_for_a_block_wins_and_is_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KB_LANG", "en")
    with language("ja"):
        assert msg("files.missing") == "ファイルがありません"
        with language("en"):
            assert msg("files.missing") == "no such file"
        assert msg("files.missing", lang="en") == "no such file"
    assert current_language() == "en"
