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


def _names(text: str, *, honorific_only: bool = False) -> list[str]:
    return [
        text[s:e] for s, e in person_name_spans(_TOKENIZER, text, honorific_only=honorific_only)
    ]


def test_foreign_names_in_katakana_run_across_separators() -> None:
    assert _names("マリア・サントスさんが来所") == ["マリア・サントス"]
    assert _names("グエン・ヴァン・ナムさんの在留資格") == ["グエン・ヴァン・ナム"]
    assert _names("ホセ＝ルイス・ガルシア氏") == ["ホセ＝ルイス・ガルシア"]
    assert _names("シルバ　アナ　パウラさん") == ["シルバ　アナ　パウラ"]
    # Two parts read as names need no honorific; one part needs a person noun before it.
    assert _names("夫のジョン・スミスは米国籍") == ["ジョン・スミス"]
    assert _names("妻のアナ＝マリアが通訳") == ["アナ＝マリア"]


def test_katakana_groups_of_common_words_are_not_names() -> None:
    # MeCab reads the whole group as one unknown word: each part is read on its own.
    assert _names("ツバキ・サザンカも点検した") == []
    assert _names("マイナ・ポータルで確認") == []
    assert _names("トマト・キュウリの栽培") == []


def test_common_nouns_before_an_honorific_are_roles_and_pets() -> None:
    for text in (
        "ケアマネジャーさんに連絡",
        "ハローワークさんと連携",
        "ヘルパーさんが訪問",
        "ワンちゃんを飼っている",
        "ネコちゃんの多頭飼育",
        "大家さんが退去を求めた",
        "お医者さんに診てもらう",
        "みなさんに周知",
        "おばあちゃんと二人暮らし",
        "たくさんの書類",
        "薬をちゃんと飲む",
        "にゃんこちゃんの餌代",
    ):
        assert _names(text) == [], text


def test_given_names_in_kana_before_an_honorific() -> None:
    # MeCab cuts はると apart and reads さくら and 凛 as common nouns.
    assert _names("孫のはるとくん（4歳）") == ["はると"]
    assert _names("長女さくらちゃん（5歳）") == ["さくら"]
    assert _names("凛ちゃん（3歳）") == ["凛"]
    assert _names("はるとくんとひなちゃんが来た") == ["はると", "ひな"]
    assert _names("長男の翔くん") == ["翔"]


def test_bare_kana_names_need_a_person_noun_before_them() -> None:
    assert _names("相談者のきよしは独居") == ["きよし"]
    assert _names("本人（ゆうこ）は求職中") == ["ゆうこ"]
    assert _names("きよしこの夜") == []
    assert _names("本人のマイナ保険証") == []


def test_landform_surnames_need_a_person_word_after_them() -> None:
    assert _names("小川の水位が上がった") == []
    assert _names("高橋の上で待ち合わせ") == []
    assert _names("小川の妻から相談") == ["小川"]
    assert _names("山田の件、継続") == ["山田"]
    # Not a landform: a bare surname is a name as before.
    assert _names("近藤の話では") == ["近藤"]


def test_place_suffixes_and_families() -> None:
    assert _names("上田城の桜まつり") == []
    assert _names("鈴木病院に通院") == []
    assert _names("坂本家の長男") == ["坂本"]


def test_spans_that_cut_a_katakana_word_take_all_of_it() -> None:
    assert _names("ミサキさん（娘）") == ["ミサキ"]


def test_honorific_only_ignores_bare_names_of_every_script() -> None:
    text = "夫のジョン・スミス、相談者のきよし、申請者 YAMADA Taro、山田太郎"
    assert _names(text, honorific_only=True) == []
    assert _names("マリア・サントスさん", honorific_only=True) == ["マリア・サントス"]


def test_names_in_latin_letters_are_found_through_the_masker_entry_point() -> None:
    assert _names("Taro Yamadaさんから問合せ") == ["Taro Yamada"]
    # Full-width letters are read through the folded view and mapped back.
    assert _names("氏名：ＮＧＵＹＥＮ　ＴＨＩ　ＬＡＮ") == ["ＮＧＵＹＥＮ　ＴＨＩ　ＬＡＮ"]


def test_a_tab_or_line_break_between_names_keeps_two_fields() -> None:
    # A row of a table: each column is its own name, and the masked row keeps its columns.
    assert _names("山田太郎\t鈴木花子") == ["山田太郎", "鈴木花子"]
    assert _names("山田 太郎\t山田 花子") == ["山田 太郎", "山田 花子"]
    assert _names("ヤマダ タロウ\tスズキ ハナコ") == ["ヤマダ タロウ", "スズキ ハナコ"]
    assert _names("山田\n太郎") == ["山田", "太郎"]
    # Spaces still join the parts of one name.
    assert _names("山田 太郎") == ["山田 太郎"]
    assert _names("山田　太郎さん") == ["山田　太郎"]


def test_a_masked_row_keeps_its_columns() -> None:
    from kb.text.masking.masker import Masker

    row = "山田太郎\t鈴木花子\t090-1111-2222\t桜川市本町1-2-3"
    masked = Masker().mask(row)
    assert masked.split("\t")[:3] == ["[氏名]", "[氏名]", "[電話番号]"]
    assert masked.count("\t") == row.count("\t")
