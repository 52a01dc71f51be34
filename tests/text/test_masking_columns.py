"""Pasted tables (:mod:`kb.text.masking.table`): the cells under a personal-data header."""

from __future__ import annotations

import pytest

from kb.text.masking import PUBLISHED, Masker
from kb.text.mecab import MeCabTokenizer

TABLE = """世帯の状況
氏名,フリガナ,生年月日,年齢,住所,備考
やまだ はなこ,ヤマダ ハナコ,1988/07/14,36,桜川市本町,特になし
高橋 健,タカハシ ケン,S52.3.1,48,"岩瀬2-3-4, 101号",要介護2
鈴木 ハナ,スズキ ハナ,,89,,独居
以上、3名。"""


@pytest.fixture(scope="module")
def masker() -> Masker:
    return Masker(MeCabTokenizer(), keep_phones=("0296-55-1111",))


def test_the_cells_under_personal_headers_are_masked_the_others_kept(masker: Masker) -> None:
    lines = masker.mask(TABLE).split("\n")
    assert lines[:2] == TABLE.split("\n")[:2]  # the title and the header stay
    assert lines[2] == "[氏名],[氏名],[生年月日],36,[住所],特になし"
    assert lines[3] == '[氏名],[氏名],[生年月日],48,"[住所]",要介護2'
    assert lines[4] == "[氏名],[氏名],,89,,独居"  # empty cells stay empty
    assert lines[5] == "以上、3名。"  # another shape of line ends the table
    assert masker.mask(masker.mask(TABLE)) == masker.mask(TABLE)


def test_tab_separated_and_full_width_commas(masker: Masker) -> None:
    assert (
        masker.mask("氏名\t生年月日\nやまだ たろう\t1990-01-02")
        == "氏名\t生年月日\n[氏名]\t[生年月日]"
    )
    assert masker.mask("氏名，誕生日\nきむら，3月3日") == "氏名，誕生日\n[氏名]，[生年月日]"


def test_one_label_before_a_value_is_a_field_not_a_header(masker: Masker) -> None:
    # Two cells, one label: 氏名,山田太郎 is a field, and the next line is not its row.
    assert masker.mask("区分,内容\n生年月日,不明") == "区分,内容\n生年月日,不明"
    assert masker.mask("No.,氏名,年齢\n1,高橋 健,80") == "No.,氏名,年齢\n1,[氏名],80"
    # One label among a roster's header words is a header (No., 年齢, 備考).
    assert masker.mask("1,さくら,5,年長") == "1,さくら,5,年長"  # a common word on its own
    roster = "No.,氏名,年齢,備考\n1,さくら,5,年長"
    assert masker.mask(roster) == "No.,氏名,年齢,備考\n1,[氏名],5,年長"
    # A record on one line is not a header: the line after it keeps its labels.
    record = "氏名,高橋 健,年齢,45\n住所,岩瀬,電話,なし"
    assert masker.mask(record) == "氏名,[氏名],年齢,45\n住所,岩瀬,電話,なし"


def test_published_text_masks_only_birth_dates_and_ids_by_column(masker: Masker) -> None:
    text = "氏名,生年月日,住所\n桜川 太郎,2000/1/1,本町1丁目"
    assert masker.mask(text, PUBLISHED) == "氏名,生年月日,住所\n桜川 太郎,[生年月日],本町1丁目"
    offices = "課名,電話番号,場所\n市民課,0296-55-1111,本庁舎1階"
    assert masker.mask(offices, PUBLISHED) == offices
    assert masker.mask(offices) == offices  # a directory number is kept in any text


def test_an_unbalanced_quote_is_not_a_row(masker: Masker) -> None:
    text = '氏名,生年月日\n"山田,1990/1/1'
    assert "1990/1/1" in masker.mask(text)  # not split into cells: left to the other rules


def test_a_column_of_people_and_english_headers_make_a_header(masker: Masker) -> None:
    # One personal label beside a column of people (相談者) and a date column: before, the
    # birth date was read as the label's value across the line break, the intake date masked.
    assert (
        masker.mask("受付日,相談者,生年月日\n2024/04/01,佐藤花子,1960/04/05")
        == "受付日,相談者,生年月日\n2024/04/01,[氏名],[生年月日]"
    )
    assert (
        masker.mask("Name,DOB,Phone\nNguyen Van An,1990-05-06,080-1234-5678")
        == "Name,DOB,Phone\n[氏名],[生年月日],[電話番号]"
    )


def test_semicolons_pipes_and_full_width_spaces_separate_cells(masker: Masker) -> None:
    assert masker.mask("氏名;生年月日\n山田 花子;1960/04/05") == "氏名;生年月日\n[氏名];[生年月日]"
    markdown = "| 氏名 | 生年月日 |\n|---|:---:|\n| やまだ はなこ | 1960/04/05 |"
    assert masker.mask(markdown) == (
        "| 氏名 | 生年月日 |\n|---|:---:|\n| [氏名] | [生年月日] |"  # the rule row stays
    )
    assert (
        masker.mask("氏名\u3000生年月日\u3000住所\n山田太郎\u3000S30.5.3\u3000本町1-2-3")
        == "氏名\u3000生年月日\u3000住所\n[氏名]\u3000[生年月日]\u3000[住所]"
    )


def test_birth_year_and_half_width_headers(masker: Masker) -> None:
    assert masker.mask("氏名,生年\n山田 ハナ,S15") == "氏名,生年\n[氏名],[生年月日]"
    assert masker.mask("ｼﾒｲ,ｾｲﾈﾝｶﾞｯﾋﾟ\nﾔﾏﾀﾞ ﾀﾛｳ,19500102") == "ｼﾒｲ,ｾｲﾈﾝｶﾞｯﾋﾟ\n[氏名],[生年月日]"
