"""The message catalogue (kb.messages): one table, both languages, KB_LANG, every key in use."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from kb.message_tables import TABLES
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
        # An audit action ("trainer.access") is no message key, whatever its area.
        text = re.sub(r"""\.append\(\s*["'][a-z0-9_.]+["']""", "", text)
        used |= set(re.findall(r"""msg\(\s*["']([a-z0-9_.]+)["']""", text))
        # Keys chosen at run time are written out in full where they are chosen.
        used |= set(re.findall(r"""["']((?:report|date|json)\.[a-z0-9_]+)["']""", text))
        used |= set(re.findall(rf"""["']((?:{_RUNTIME})\.[a-z0-9_]+)["']""", text))
    assert used - set(MESSAGES) == set()
    assert set(MESSAGES) - used == set()


# Areas whose keys are also chosen at run time (a field's name, a stage, a state).
_RUNTIME = "desk|faq|sync|prune|delete|stage|limits|procedures|backup|restore|trainer"


def test_every_area_table_is_merged_into_the_one_catalogue_and_no_key_twice() -> None:
    keys = [key for table in TABLES for key in table]
    assert len(keys) == len(set(keys))
    for table in TABLES:
        for key, pair in table.items():
            assert MESSAGES[key] is pair  # merged, not shadowed by another table
    assert set(MESSAGES) == set(keys)


def test_no_module_keeps_a_message_table_of_its_own() -> None:
    # One catalogue: a (ja, en) table anywhere else would miss KB_LANG and these tests.
    table = re.compile(r"^_?[A-Z_]+: dict\[str, tuple\[str, str\]\] = \{", re.MULTILINE)
    own = sorted(
        str(path.relative_to(KB))
        for path in KB.rglob("*.py")
        if table.search(path.read_text()) and path.parent.name != "message_tables"
    )
    assert own == []


@pytest.mark.parametrize(
    ("key", "params", "ja", "en"),
    [
        ("desk.too_long", {"field": "メモ", "n": 12, "limit": 10}, "メモが長すぎます", "too long"),
        ("faq.no_faq", {"id": "F1"}, "FAQ F1 はありません", "no FAQ entry F1"),
        ("limits.page", {"page": 3}, "3 ページ目", "page 3"),
        (
            "limits.zip_ratio",
            {
                "member": "word/document.xml",
                "ratio": 1500,
                "packed": 10,
                "unpacked": 15_000,
                "limit": 100,
            },
            "圧縮率が 1,500 倍（10 → 15,000 バイト）で、上限 100 倍 (max_zip_ratio)",
            "unpacks 1,500 times its size (10 → 15,000 bytes), more than the limit of 100",
        ),
        (
            "ray.no_local",
            {"problem": "x"},
            "Ray をこのマシンで起動できません: x",
            "cannot start Ray",
        ),
        ("restore.models_restored", {}, "バックアップから復元しました", "restored from the backup"),
        ("stage.parse", {}, "ファイルの読み込み", "parse"),
    ],
)
def test_an_area_message_renders_in_both_languages(
    key: str, params: dict[str, object], ja: str, en: str
) -> None:
    assert ja in msg(key, lang="ja", **params)
    assert en in msg(key, lang="en", **params)
    with language("en"):
        assert en in msg(key, **params)


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
