"""The synonym table: SudachiDict's format and flags, matching, and the city's file on top."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from kb.errors import InputError
from kb.text.mecab import MeCabTokenizer
from kb.text.synonym_dictionary import (
    expression_terms,
    parse_sudachi_json,
    read_dictionary,
)
from kb.text.synonyms import (
    HEADER,
    CitySynonyms,
    SynonymTable,
    ensure_synonyms_file,
    katakana_joins,
    layer,
    load_synonyms,
    parse_synonyms,
)


def item(midashi: str, control: int = 0, lexeme: int = 1, **labels: Any) -> dict[str, Any]:
    """One item as the npm package writes it (labels as in its index.d.ts)."""
    return {
        "taigenYogen": labels.get("taigenYogen", "体言"),
        "expandControl": control,
        "vocabularyNumber": lexeme,
        "gokeiSyubetsu": labels.get("gokeiSyubetsu", "代表語"),
        "ryakusyou": labels.get("ryakusyou", "代表語形"),
        "hyoukiYure": labels.get("hyoukiYure", "代表表記"),
        "bunya": labels.get("bunya", []),
        "midashi": midashi,
    }


FIXTURE = [
    {
        "id": "001121",
        "items": [
            item("国民健康保険", bunya=["医療"]),
            item("国保", ryakusyou="略語・略称", bunya=["医療"]),
        ],
    },
    {
        "id": "021673",
        "items": [
            item("転居", lexeme=1),
            item("引っ越し", lexeme=2),
            item("引越し", lexeme=2, hyoukiYure="異表記・表記ゆれ"),
            item("移住", lexeme=3),
            # 1: only ever expanded to; 2: a deletion record, never used.
            item("転宅", control=1, lexeme=4),
            item("宿替え", control=2, lexeme=5),
        ],
    },
    {"id": "000050", "items": [item("不明確"), item("曖昧", lexeme=2)]},
]


@pytest.fixture
def dictionary_file(tmp_path: Path) -> Path:
    path = tmp_path / "share" / "synonyms.json"
    path.parent.mkdir()
    path.write_text(json.dumps(FIXTURE, ensure_ascii=False), encoding="utf-8")
    return path


def expand(table: SynonymTable, tokenizer: MeCabTokenizer, query: str) -> set[str]:
    return set(table.expand(tokenizer.lemmas(query)))


def test_parse_keeps_flags_and_drops_deletion_records() -> None:
    groups = dict(parse_sudachi_json(json.dumps(FIXTURE), "fixture"))
    assert groups["001121"] == [("国民健康保険", 0, 1, False, False), ("国保", 0, 1, True, False)]
    moving = groups["021673"]
    assert ("転宅", 1, 4, False, False) in moving
    assert all(item.midashi != "宿替え" for item in moving)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ('{"id": 1}', "", "JSON list"),
        ("[1]", "group 1", "'items'"),
        ('[{"id": "7", "items": [{"expandControl": 0}]}]', "group 7, item 1", "midashi"),
        ('[{"id": "7", "items": [{"midashi": "a", "expandControl": 5}]}]', "item 1", "0, 1 or 2"),
        ('[{"id": "7", "items": [{"midashi": "a", "vocabularyNumber": "x"}]}]', "item 1", "number"),
        ('[{"id": "7", "items": [{"midashi": "a", "ryakusyou": 1}]}]', "item 1", "'ryakusyou'"),
        ("[{", "", "not a JSON"),
    ],
)
def test_parse_errors_name_the_group_and_field(data: str, field: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        parse_sudachi_json(data, "dict.json")
    assert info.value.source == "dict.json"
    assert field in info.value.field


def test_flags_and_scopes(dictionary_file: Path, tokenizer: MeCabTokenizer) -> None:
    dictionary = read_dictionary(dictionary_file, tokenizer)
    group = layer(dictionary, CitySynonyms(), "group")
    lexeme = layer(dictionary, CitySynonyms(), "lexeme")
    # Both ways: an abbreviation and its full form are one word (same 語彙素).
    for table in (group, lexeme):
        assert expand(table, tokenizer, "国保に入りたい") >= {"国民", "健康", "保険"}
        assert "国保" in expand(table, tokenizer, "国民健康保険の手続き")
    # 'group' reaches the near-synonyms; 'lexeme' only the forms of the same word.
    assert {"転居", "移住", "転宅"} <= expand(group, tokenizer, "引っ越しの手続き")
    assert expand(lexeme, tokenizer, "引っ越しの手続き") == set()
    # expandControl 1: 転宅 is expanded to, but finding it expands nothing.
    assert expand(group, tokenizer, "転宅しました") == set()
    # expandControl 2: never used, in either direction.
    assert "宿替え" not in expand(group, tokenizer, "転居の届け")
    assert expand(group, tokenizer, "宿替えしました") == set()


def test_expressions_whose_terms_lose_meaning_are_dropped(
    dictionary_file: Path, tokenizer: MeCabTokenizer
) -> None:
    # 不明確 without its prefix would be 明確: the opposite of 曖昧.
    assert expression_terms("不明確", tokenizer) == ()
    assert expression_terms("住民票の写し", tokenizer) == tokenizer.lemmas("住民票の写し")
    table = layer(read_dictionary(dictionary_file, tokenizer), CitySynonyms(), "group")
    assert expand(table, tokenizer, "明確な基準") == set()
    assert expand(table, tokenizer, "曖昧な基準") == set()


def test_matches_whole_words_longest_first(tokenizer: MeCabTokenizer) -> None:
    city = parse_synonyms("国保\t国民健康保険\n保険\tインシュアランス\n", "city.tsv", tokenizer)
    table = layer(None, city)
    # 国保 is not a word of 全国保育; 国民健康保険 is one expression, not 保険 inside it.
    assert table.expand(tokenizer.lemmas("全国保育所の一覧")) == ()
    assert set(table.expand(tokenizer.lemmas("国民健康保険料"))) == {"国保"}
    assert "インシュアランス" in table.expand(tokenizer.lemmas("保険の相談"))
    # Nothing the query already has is added twice.
    assert table.expand(tokenizer.lemmas("国保と国民健康保険")) == ()


def test_city_file_adds_and_removes_groups(
    dictionary_file: Path, tokenizer: MeCabTokenizer, caplog: pytest.LogCaptureFixture
) -> None:
    dictionary = read_dictionary(dictionary_file, tokenizer)
    city = dictionary_file.parent / "synonyms.tsv"
    city.write_text(
        "# 市の追加\n"
        "住居確保給付金\t家賃補助   # 独自の制度\n"
        "-国保\n"  # the whole 国民健康保険 group misfires here
        "－転居、移住\n"  # full-width minus; groups holding both
        "-転居\t結婚\n",  # no group holds both: removes nothing, with a warning
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        table = load_synonyms(city, tokenizer, dictionary, "group")
    assert set(table.expand(tokenizer.lemmas("家賃補助の申請"))) >= {"住居", "確保", "給付"}
    assert expand(table, tokenizer, "国保に入りたい") == set()
    assert expand(table, tokenizer, "国民健康保険の手続き") == set()
    assert expand(table, tokenizer, "引っ越しの手続き") == set()
    assert any(
        "synonyms.tsv:5" in r.message and "removes nothing" in r.message for r in caplog.records
    )
    assert [g.origin for g in table.groups] == [f"{city}:2"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("ごみ\tゴミ\n住民票\n", 2, "at least two"),
        ("# ok\n-\n", 2, "'-' line needs"),
        ("住民票\tの\n", 1, "no searchable word"),
    ],
)
def test_city_file_errors_name_the_line(
    text: str, line: int, message: str, tokenizer: MeCabTokenizer
) -> None:
    with pytest.raises(InputError, match=message) as info:
        parse_synonyms(text, "synonyms.tsv", tokenizer)
    assert info.value.line == line


def test_spellings_the_index_already_folds_are_no_error(tokenizer: MeCabTokenizer) -> None:
    # The old seed list's ごみ・ゴミ・塵 are one lemma: a city file copied from it still loads.
    assert parse_synonyms("ごみ\tゴミ\t塵\n", "synonyms.tsv", tokenizer) == CitySynonyms()


def test_new_city_file_is_the_commented_header(tmp_path: Path, tokenizer: MeCabTokenizer) -> None:
    path = ensure_synonyms_file(tmp_path / "data" / "synonyms.tsv")
    assert path.read_text(encoding="utf-8") == HEADER
    assert "-移住" in HEADER
    assert "SudachiDict" in HEADER
    # Its examples are comments: a new file adds and removes nothing.
    assert parse_synonyms(HEADER, str(path), tokenizer) == CitySynonyms()
    path.write_text("国保\t国民健康保険\n", encoding="utf-8")
    ensure_synonyms_file(path)  # an existing file is never overwritten
    assert path.read_text(encoding="utf-8") == "国保\t国民健康保険\n"


# --- expansion-control labels and whole words (issue 16: 「インスタ」 misfired) -------------

LABELLED = [
    {
        "id": "000105",
        "items": [
            item("インスタグラム"),
            item("Instagram", hyoukiYure="アルファベット表記"),
            item("インスタ", ryakusyou="略語・略称"),
        ],
    },
    {
        "id": "023625",
        "items": [item("健康診査料"), item("健診料", ryakusyou="略語・略称")],
    },
    {
        "id": "021562",
        "items": [
            item("源泉徴収票"),
            item("源泉徴収表", hyoukiYure="間違い表記"),
        ],
    },
    {
        "id": "023060",
        "items": [
            item("突然"),
            item("おもむろに", control=1, lexeme=2, gokeiSyubetsu="間違い"),
            item("突如", lexeme=3),
        ],
    },
]


@pytest.fixture
def labelled(tmp_path: Path, tokenizer: MeCabTokenizer) -> SynonymTable:
    path = tmp_path / "labelled.json"
    path.write_text(json.dumps(LABELLED, ensure_ascii=False), encoding="utf-8")
    return layer(read_dictionary(path, tokenizer), CitySynonyms(), "group")


def test_an_abbreviation_mecab_cuts_up_is_found_but_never_added(
    labelled: SynonymTable, tokenizer: MeCabTokenizer
) -> None:
    # MeCab reads インスタ as イン + スタ: the pieces stand for it in a query, but added to
    # one they would find チェックイン and the like.
    assert tokenizer.lemmas("インスタ") == ("イン", "スタ")
    assert expand(labelled, tokenizer, "インスタで発信") >= {"instagram", "タグ"}
    from_full = expand(labelled, tokenizer, "インスタグラムで発信")
    assert from_full == {"instagram"}
    assert not from_full & {"イン", "スタ"}
    # A kanji abbreviation is cut into words of it (健診 + 料): it is added.
    assert tokenizer.lemmas("健診料") == ("健診", "料")
    assert expand(labelled, tokenizer, "健康診査料の支払い") == {"健診"}


def test_a_form_marked_wrong_is_found_but_never_added(
    labelled: SynonymTable, tokenizer: MeCabTokenizer
) -> None:
    # 表記ゆれ 間違い表記: 源泉徴収表 means 源泉徴収票; 源泉徴収票 never brings in 表.
    assert "票" in expand(labelled, tokenizer, "源泉徴収表がほしい")
    assert expand(labelled, tokenizer, "源泉徴収票がほしい") == set()
    # 語形種別 間違い: おもむろに is a misuse for 突然, never an expansion of it.
    assert "徐に" not in expand(labelled, tokenizer, "突然の休館")
    assert "突如" in expand(labelled, tokenizer, "突然の休館")


def test_compiled_labels_survive_the_cache(tmp_path: Path, tokenizer: MeCabTokenizer) -> None:
    path = tmp_path / "labelled.json"
    path.write_text(json.dumps(LABELLED, ensure_ascii=False), encoding="utf-8")
    compiled = read_dictionary(path, tokenizer)
    cached = read_dictionary(path, tokenizer)  # from the compiled JSON this time
    assert cached.groups == compiled.groups
    assert [g.targets for g in cached.groups] == [
        (True, True, False),
        (True, True),
        (True, False),
        (True, False, True),
    ]


def test_a_query_matches_katakana_words_whole(tokenizer: MeCabTokenizer) -> None:
    from kb.search.query import analyze_query

    city = parse_synonyms("グレー\t灰色\nカード\t会員証\n", "city.tsv", tokenizer)
    table = layer(None, city)

    def added(query: str) -> set[str]:
        terms = tokenizer.lemmas(query)
        return set(table.expand(terms, katakana_joins(query, terms, tokenizer)))

    # グレーチング (a drain grating) is cut into グレー + チング: no colour in it.
    assert katakana_joins("グレーチングの修理", tokenizer.lemmas("グレーチングの修理"), tokenizer)
    assert added("グレーチングの修理") == set()
    assert added("グレーの車") == {"灰色"}
    assert added("マナカードを落とした") == set()
    assert added("カードを落とした") == {"会員", "証"}
    # Two katakana words apart are two words.
    assert added("グレー・カード") == {"灰色", "会員", "証"}
    # The searcher's analysis goes the same way.
    analysis = analyze_query(
        "グレーチングの修理", tokenizer, table, max_chars=200, synonym_weight=0.5
    )
    assert "灰色" not in analysis.terms
    analysis = analyze_query("グレーの車", tokenizer, table, max_chars=200, synonym_weight=0.5)
    assert "灰色" in analysis.terms


def test_katakana_joins_gives_nothing_for_other_terms(tokenizer: MeCabTokenizer) -> None:
    assert katakana_joins("グレーチング", ("グレー",), tokenizer) == ()
    assert katakana_joins("", (), tokenizer) == ()
