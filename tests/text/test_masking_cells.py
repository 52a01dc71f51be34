"""Cells under their header on a line of their own (:mod:`kb.text.masking.cells`)."""

from __future__ import annotations

import pytest

from kb.text.masking import EDITED, FULL, PUBLISHED, Masker
from kb.text.masking.cells import header_placeholder, personal_label
from kb.text.mecab import MeCabTokenizer


@pytest.fixture(scope="module")
def masker() -> Masker:
    return Masker(MeCabTokenizer())


@pytest.mark.parametrize(
    ("header", "placeholder"),
    [
        ("生年月日", "[生年月日]"),
        ("生年月日（和暦）", "[生年月日]"),
        ("相談者電話番号", "[電話番号]"),
        ("緊急連絡先電話", "[電話番号]"),
        ("携帯", "[電話番号]"),
        ("ＴＥＬ", "[電話番号]"),
        ("連絡先", "[電話番号]"),
        ("マイナンバーカード", None),
        ("電話対応", None),
        ("口座振替", None),
        ("保険証", None),
        ("世帯主との続柄", None),
        ("メールアドレス", "[メール]"),
        ("LINE", "[アカウント]"),
        ("SNS・LINE ID", "[アカウント]"),
        ("現住所", "[住所]"),
        ("保険証番号", "[番号]"),
        ("被保険者証番号", "[番号]"),
        ("障害者手帳番号", "[番号]"),
        ("生活保護ケース番号", "[番号]"),
        ("口座情報", "[番号]"),
        ("車両番号", "[番号]"),
        ("マイナンバー", "[個人番号]"),
        ("ﾌﾘｶﾞﾅ", "[氏名]"),
        ("保護者氏名", "[氏名]"),
        ("緊急連絡先", "[氏名]"),
        ("担当者", "[氏名]"),
        ("記入者", "[氏名]"),
        ("勤務先", "[勤務先・学校]"),
        ("学校名・学年", "[勤務先・学校]"),
        # Offices and facilities, and what is not personal data.
        ("担当課", None),
        ("関係機関", None),
        ("事業所名", None),
        ("施設住所", None),
        ("引継ぎ先", None),
        ("相談内容", None),
        ("受付番号", None),
        ("年齢", None),
        ("世帯状況", None),
    ],
)
def test_a_header_names_what_its_cells_hold(header: str, placeholder: str | None) -> None:
    assert header_placeholder(header) == placeholder
    assert personal_label(header) is (placeholder is not None)


def test_a_cell_under_a_personal_header_is_masked_whatever_its_form(masker: Masker) -> None:
    # The joined columns of a case export (kb.ingest.columns.joined): each value after its
    # header. Rules that read a value by its own form miss every one of these.
    lines = {
        "【生年月日】1961年3月28日": "【生年月日】[生年月日]",
        "【生年月日】19860305": "【生年月日】[生年月日]",
        "【電話番号】45-8778": "【電話番号】[電話番号]",
        "【保険証番号】国保 5536561": "【保険証番号】[番号]",
        "【フリガナ】ﾓﾘ\u3000ｹﾞﾝｺﾞﾛｳ": "【フリガナ】[氏名]",
        "【障害者手帳番号】療育A 第4803号": "【障害者手帳番号】[番号]",
        "【生活保護ケース番号】CW-363": "【生活保護ケース番号】[番号]",
        "【口座情報】ゆうちょ 名義ニシムラ": "【口座情報】[番号]",
        "【勤務先】株式会社山田製作所": "【勤務先】[勤務先・学校]",
        "【相談者氏名】김 민주": "【相談者氏名】[氏名]",
        # A cell that is more than a name is left to the name and phone rules.
        "【緊急連絡先】佐藤花子（母）090-1111-2222": "【緊急連絡先】[氏名]（母）[電話番号]",
        "  【担当者】：千葉": "  【担当者】：[氏名]",
        # Kept: offices, facilities and what the case is about.
        "【担当課】市民課": "【担当課】市民課",
        "【関係機関】地域包括支援センター": "【関係機関】地域包括支援センター",
        "【世帯状況】妻、長男": "【世帯状況】妻、長男",
        "【年齢】45": "【年齢】45",
        "【相談内容】年金の相談": "【相談内容】年金の相談",
        "【生年月日】": "【生年月日】",  # an empty cell stays empty
        # A cell that names no one is a fact staff search on (round 10, held out).
        "【勤務先】無職": "【勤務先】無職",
        "【住所】市外（不明）": "【住所】市外（不明）",
        "【勤務先・学校】（パート）": "【勤務先・学校】（パート）",
        # A cell that describes someone, or says there is nothing (a second white-box pass).
        "【相談者】70代女性": "【相談者】70代女性",
        "【対応者】市民課 住民記録係": "【対応者】市民課 住民記録係",
        "【同行者】ケアマネジャー": "【同行者】ケアマネジャー",
        "【氏名】匿名希望": "【氏名】匿名希望",
        "【電話】非通知": "【電話】非通知",
        "【連絡先】市民課 電話 0296-00-0000": "【連絡先】市民課 電話 0296-00-0000",
        "【口座】未登録": "【口座】未登録",
        "【生年月日】昭和20年代": "【生年月日】昭和20年代",
        "【相談者】長女 【相談内容】介護保険の相談": "【相談者】長女 【相談内容】介護保険の相談",
    }
    text = "相談内容の本文\n" + "\n".join(lines)
    masked = masker.mask(text, FULL)
    assert masked.split("\n") == ["相談内容の本文", *lines.values()]
    assert masker.mask(masked, FULL) == masked
    # A header in the middle of a sentence labels nothing.
    assert masker.mask("書類の【生年月日】欄に1961年と記入", FULL).endswith("欄に1961年と記入")


def test_published_text_and_topic_headings_are_left_to_the_other_rules(masker: Masker) -> None:
    # An outside attacker's FAQ lines: 【】 head a topic there, not a cell of a record.
    faq = "【マイナンバーカード】申請は市民課（0296-55-1111）へ\n【対象者】65歳以上の方"
    assert masker.mask(faq, PUBLISHED) == faq
    assert masker.mask(faq, EDITED) == faq
    # In records, a header that names a topic (not a field) labels no value either.
    for line in (
        "【マイナンバーカード】申請の予約をした",
        "【電話対応】折り返しを希望",
        "【口座振替】手続き済み",
        "【保険証】更新の案内",
        "【世帯主との続柄】長男",
        "【相談者区分】本人",
    ):
        assert masker.mask(line, FULL) == line, line
    assert masker.mask("【連絡先】52-0428", FULL) == "【連絡先】[電話番号]"
