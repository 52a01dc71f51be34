"""The in-memory suggester (kb/search/suggest.py) over published FAQ questions."""

from __future__ import annotations

from kb.search.searcher import Searcher
from kb.search.suggest import Suggester, suggester_for
from kb.text.mecab import MeCabTokenizer


def test_only_published_faq_is_loaded(searcher: Searcher) -> None:
    s = suggester_for(searcher)
    assert s.published_ids == {"F1", "F2", "F3", "F4", "F5", "F6"}
    assert suggester_for(searcher) is s  # built once per index


def test_prefix_and_infix_matches_rank_first(tokenizer: MeCabTokenizer) -> None:
    s = Suggester(
        [
            ("A", "住民票の写しはどこで取れますか。", "市民課"),
            ("B", "コンビニで住民票を取れますか。", "市民課"),
            ("C", "粗大ごみの出し方", "ごみ減量推進課"),
        ],
        tokenizer,
    )
    assert [x.id for x in s.suggest("住民票")] == ["A", "B"]
    assert [x.id for x in s.suggest("住")] == ["A", "B"]
    assert s.suggest("ｺﾝﾋﾞﾆ")[0].id == "B"  # normalized like the index: half-width kana
    assert s.suggest("") == []
    assert s.suggest("宇宙旅行") == []
    assert len(s.suggest("の", limit=1)) == 1


def test_lemmas_match_other_spellings(tokenizer: MeCabTokenizer) -> None:
    s = Suggester([("A", "引っ越してきた後の手続き", "市民課")], tokenizer)
    assert [x.id for x in s.suggest("引っ越した")] == ["A"]
