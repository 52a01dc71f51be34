"""The adapter for gimei's list of given names (kb.text.given_names)."""

from __future__ import annotations

from kb.text.given_names import kana_given_names


def test_the_list_holds_given_names_in_both_kana_and_no_common_words() -> None:
    names = kana_given_names()
    assert len(names) > 5000
    for name in ("りく", "ひなた", "はると", "そうた", "リク", "ヒナタ"):
        assert name in names
    for word in ("いじめ", "おむつ", "いびき", "けが"):
        assert word not in names
