"""Masking of personal data: a table of realistic case-record sentences."""

from __future__ import annotations

import re

import pytest

from kb.errors import KBError
from kb.text.masking import (
    ACCOUNT,
    ADDRESS,
    BIRTH_DATE,
    EDITED,
    EMAIL,
    ID_NUMBER,
    MY_NUMBER,
    NAME,
    PHONE,
    PLACEHOLDERS,
    PUBLISHED,
    Masker,
    MaskProfile,
    mask_personal,
    strip_placeholders,
)
from kb.text.masking.words import masking_words, parse_words
from kb.text.mecab import MeCabTokenizer

DIRECTORY_PHONES = ("099-555-1101", "099-555-1108", "0120-123-456")
KEEP_WORDS = ("市民課", "高齢者支援課", "桜川市", "桜川駅", "中央公民館")

# (text, expected output): the expected text is written out in full, so a rule that masks too
# much (a date, an amount, a department) fails as surely as one that masks too little.
MASKED = [
    # phone numbers
    ("携帯は090-1234-5678です。", f"携帯は{PHONE}です。"),
    ("連絡先：０９０－１２３４－５６７８", f"連絡先：{PHONE}"),
    ("〇九〇ー一二三四ー五六七八に折り返し", f"{PHONE}に折り返し"),
    ("自宅 (099) 555-7788 に夕方電話", f"自宅 {PHONE} に夕方電話"),
    ("09012345678へSMSを送った", f"{PHONE}へSMSを送った"),
    ("（携帯090-1234-5678）", f"（携帯{PHONE}）"),
    ("電話 555-7788（市外局番なし）", f"電話 {PHONE}（市外局番なし）"),
    ("TEL:080 9876 5432", f"TEL:{PHONE}"),
    ("国際電話 +81-90-1234-5678 で連絡", f"国際電話 {PHONE} で連絡"),
    ("携帯電話番号は070・1111・2222", f"携帯電話番号は{PHONE}"),
    ("090/1234/5678 か 090.1234.5678", f"{PHONE} か {PHONE}"),
    # e-mail
    ("メール taro.yamada@example.com に送付", f"メール {EMAIL} に送付"),
    ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ宛て", f"{EMAIL}宛て"),
    # My Number and other ID numbers
    ("マイナンバー 1234 5678 9012 を確認", f"マイナンバー {MY_NUMBER} を確認"),
    ("個人番号は１２３４－５６７８－９０１２", f"個人番号は{MY_NUMBER}"),
    ("123456789012という番号をメモしていた", f"{MY_NUMBER}という番号をメモしていた"),
    ("保険証の記号 12 番号 345 を控えた", f"保険証の記号 {ID_NUMBER} 番号 {ID_NUMBER} を控えた"),
    ("基礎年金番号は1234-567890", f"基礎年金番号は{ID_NUMBER}"),
    ("運転免許証 第123456789012号", f"運転免許証 第{ID_NUMBER}号"),
    ("口座番号 普通 1234567 へ振込", f"口座番号 普通 {ID_NUMBER} へ振込"),
    ("受給者番号:00123456", f"受給者番号:{ID_NUMBER}"),
    ("被保険者番号 ０１２３４５６７", f"被保険者番号 {ID_NUMBER}"),
    ("整理券に1234567890と書いてあった", f"整理券に{ID_NUMBER}と書いてあった"),
    # postal addresses
    ("〒123-4567 桜川市本町2-3-4", f"{ADDRESS} 桜川市{ADDRESS}"),
    ("桜川市中央町3丁目4番5号に住む", f"桜川市{ADDRESS}に住む"),
    ("中央町三丁目四番五号の集合住宅", f"{ADDRESS}の集合住宅"),
    ("さくら台12番地の3に転居", f"さくら{ADDRESS}に転居"),  # hiragana town names stay
    ("東京都新宿区西新宿2丁目8番1号から転入", f"東京都新宿区{ADDRESS}から転入"),
    ("住所は本町1-2-3 サクラハイツ201号室", f"住所は{ADDRESS}"),
    # dates of birth
    ("生年月日:昭和30年5月3日", f"生年月日:{BIRTH_DATE}"),
    ("1985年4月1日生まれの女性", f"{BIRTH_DATE}生まれの女性"),
    ("平成元年12月24日生まれ", f"{BIRTH_DATE}生まれ"),
    ("生年月日は１９５０／３／２５", f"生年月日は{BIRTH_DATE}"),
    ("昭和二十年生まれの父", f"{BIRTH_DATE}生まれの父"),
    ("S30.5.3生の相談者", f"{BIRTH_DATE}生の相談者"),
    # names
    ("山田太郎様から電話", f"{NAME}様から電話"),
    ("田中さんと佐藤氏が同席", f"{NAME}さんと{NAME}氏が同席"),
    ("中村 花子様", f"{NAME}様"),
    ("グエンさん（ベトナム出身）", f"{NAME}さん（ベトナム出身）"),
    ("相談者の鈴木が来庁した", f"相談者の{NAME}が来庁した"),
    ("ヨシコさんの件", f"{NAME}さんの件"),
    # several at once
    (
        "山田花子さん（昭和30年5月3日生まれ、090-1234-5678）が市民課に来所",
        f"{NAME}さん（{BIRTH_DATE}生まれ、{PHONE}）が市民課に来所",
    ),
]

MUST_STAY = [
    "市民課で転入届を受け付けた。",
    "高齢者支援課 099-555-1108 に案内した。",
    "桜川駅前の中央公民館で相談会",
    "フリーダイヤル 0120-123-456 を案内",
    "kosodate@city.sakuragawa.lg.jp に問い合わせるよう案内",
    "2024年4月1日に転入した。",
    "令和6年4月1日から適用",
    "相談者は30代男性、家族4人。",
    "児童手当は月額15,000円。",
    "粗大ごみ処理券は1枚300円。",
    "息子さんと一緒に来所。",
    "お母さんが認知症で一人暮らし。",
    "ケアマネさんと連絡を取った。",
    "マイナ保険証の利用登録",
    "日影規制の説明をした。",
    "受付時間は8:30~17:15。",
    "2024/04/01 と 2024.4.1 の届出",
    "0・1・2歳児クラス",
    "第3回目の相談。",
    "介護保険の要介護2。",
    "昭和の建物で耐震診断が必要。",
    "平成30年度の実績",
]


@pytest.fixture(scope="module")
def masker(tokenizer: MeCabTokenizer) -> Masker:
    return Masker(tokenizer, keep_phones=DIRECTORY_PHONES, keep_words=KEEP_WORDS)


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_is_masked(masker: Masker, text: str, expected: str) -> None:
    assert masker.mask(text) == expected


@pytest.mark.parametrize("text", MUST_STAY)
def test_ordinary_text_stays(masker: Masker, text: str) -> None:
    assert masker.mask(text) == text


def test_table_is_large_enough() -> None:
    assert len(MASKED) + len(MUST_STAY) >= 40


@pytest.mark.parametrize(("text", "_"), MASKED)
def test_masking_is_idempotent_on_the_table(masker: Masker, text: str, _: str) -> None:
    once = masker.mask(text)
    assert masker.mask(once) == once


def test_directory_phone_kept_in_any_width(masker: Masker) -> None:
    assert masker.mask("０９９－５５５－１１０１へ") == "０９９－５５５－１１０１へ"
    assert masker.mask("0995551101へ") == "0995551101へ"


def test_published_profile_keeps_office_contacts(masker: Masker) -> None:
    text = "詳しくは高齢者支援課(099-555-1108、info@example.org)へ。本町1-2-3の窓口。"
    assert masker.mask(text, PUBLISHED) == text


def test_published_profile_masks_private_data(masker: Masker) -> None:
    text = "例:山田花子さん 090-1111-2222 マイナンバー123456789012 生年月日 昭和30年5月3日"
    assert masker.mask(text, PUBLISHED) == (
        f"例:{NAME}さん {PHONE} マイナンバー{MY_NUMBER} 生年月日 {BIRTH_DATE}"
    )


@pytest.mark.parametrize("profile", [PUBLISHED, EDITED])
def test_a_bare_my_number_is_masked_in_published_text_too(
    masker: Masker, profile: MaskProfile
) -> None:
    # A valid check digit: no office number has it by chance more than one time in eleven,
    # and published text (an FAQ answer) never needs a 12-digit number of that shape.
    assert masker.mask("控え 123456789018 を添付", profile) == f"控え {MY_NUMBER} を添付"
    assert masker.mask("1234 5678 9018", profile) == MY_NUMBER
    # A wrong check digit stays in published text (in records every 10+ digit run is masked).
    assert masker.mask("受付 123456789012", profile) == "受付 123456789012"
    # Nor do digits that only add up to twelve, or a time stamp whose check digit passes
    # (a reviewer's FAQ answers: the rule first rewrote them at ingest).
    for kept in (
        "対象は16・26・36・46・56・66代の方です。",
        "Windows 10（OS ビルド 10.0.19045.3000）",
        "受付番号 202404010001",
        "第12・13・14・15・16・17回",
        "更新日時 202401010930",
    ):
        assert masker.mask(kept, profile) == kept


def test_mask_personal_normalizes_for_logs(tokenizer: MeCabTokenizer) -> None:
    out = mask_personal("ＴＥＬ：０９０－１２３４－５６７８　田中さん", tokenizer)
    assert out == f"tel:{PHONE} {NAME}さん"


@pytest.mark.parametrize(
    "query",
    [
        "Nguyen Van Anさんの在留カードの更新",
        "申請者 NGUYEN THI LAN の在留資格",
        "Taro Yamada から電話があった件",
        "Maria Santos様の子どもの保育園",
    ],
)
def test_mask_personal_masks_latin_names_before_folding_case(
    tokenizer: MeCabTokenizer, query: str
) -> None:
    """Queries are logged normalized, which folds Latin letters to lower case; a name in Latin
    letters is told by its capitals, so it must be masked before that (it reached the query
    log whole: 'taro yamada から電話')."""
    out = mask_personal(query, tokenizer)
    assert NAME in out
    names = ("nguyen", "van", "thi", "lan", "taro", "yamada", "maria", "santos")
    assert [w for w in names if w in out.lower()] == []
    assert mask_personal(out, tokenizer) == out


@pytest.mark.parametrize(
    ("query", "masked"),
    [
        # A staff member looking someone up by full name: the query log and the audit (beside
        # the cases it found) keep [氏名]. 源五郎 is a beetle to MeCab, さくら a tree, トメ 止め.
        ("桜井 源五郎", NAME),
        ("山田 さくら", NAME),
        ("高橋 トメ", NAME),
        ("三浦 源五郎", NAME),
        # Two words that are a place and a topic stay as typed; so does a surname before a
        # word (a nursery, a festival) that is no given name to the dictionary.
        ("千葉 ごみ", "千葉 ごみ"),
        ("桜井 ひまわり", "桜井 ひまわり"),
        ("千葉 カラス", "千葉 カラス"),
        ("宇都宮 餃子", "宇都宮 餃子"),
        ("千葉 観光", "千葉 観光"),
        ("高橋 病院", "高橋 病院"),
        ("本町 バス", "本町 バス"),
        ("児童 手当", "児童 手当"),
        ("国民 年金", "国民 年金"),
    ],
)
def test_a_query_that_is_a_full_name_is_logged_masked(
    tokenizer: MeCabTokenizer, query: str, masked: str
) -> None:
    assert mask_personal(query, tokenizer) == masked


def test_no_long_digit_runs_survive(masker: Masker) -> None:
    text = "番号 1234567890、12345678901、123456789012 と 0312345678"
    assert not re.search(r"\d{10,12}", masker.mask(text))


# --- issue 15: coverage and fewer false positives ---------------------------------------------


def test_sns_ids_are_masked_but_products_and_the_city_account_in_faq_stay(masker: Masker) -> None:
    assert masker.mask("LINE ID: taro_1234 で連絡") == f"LINE ID: {ACCOUNT} で連絡"
    assert masker.mask("相手（@kk_1122）から") == f"相手（{ACCOUNT}）から"
    assert masker.mask("LINE Payで支払った") == "LINE Payで支払った"
    assert masker.mask("消費者ホットライン188") == "消費者ホットライン188"
    published = "市の公式LINE（ID: @sakuragawa_city）を友だち追加してください。"
    assert masker.mask(published, PUBLISHED) == published
    assert ACCOUNT in PLACEHOLDERS
    assert strip_placeholders(f"ID {ACCOUNT} へ") == "ID   へ"


def test_bank_accounts_after_the_kind_of_deposit(masker: Masker) -> None:
    assert masker.mask("桜川銀行 普通 1234567") == f"桜川銀行 普通 {ID_NUMBER}"
    assert masker.mask("（当座）7654321") == f"（当座）{ID_NUMBER}"
    # Amounts and ordinary words after 普通/当座/口座 stay.
    for text in ("普通は3000円", "当座の生活費5万円", "口座に120000円の入金", "普通 2人"):
        assert masker.mask(text) == text


def test_plates_and_residence_cards(masker: Masker) -> None:
    assert masker.mask("品川500さ12-34の車") == f"品川{ID_NUMBER}の車"
    assert masker.mask("カードはAB12345678CDだった") == f"カードは{ID_NUMBER}だった"


def test_a_run_of_several_numbers_is_split(masker: Masker) -> None:
    assert masker.mask("090-1234-5678 / 080-1111-2222") == f"{PHONE} / {PHONE}"
    assert masker.mask("2024/04/01 090-1234-5678") == f"2024/04/01 {PHONE}"
    assert masker.mask("2024/04/01 10:30に来所") == "2024/04/01 10:30に来所"
    assert masker.mask("カード 4980 1234 5678 9012") == f"カード {ID_NUMBER}"


def test_helplines_and_office_numbers_written_with_separators_stay(masker: Masker) -> None:
    for text in (
        "いのちの電話 0570-783-556",
        "よりそいホットライン 0120-279-338（24時間）",
        "保健センター（0296-55-1000）に予約",
    ):
        assert masker.mask(text) == text
    # Run together they are masked all the same (no 10-digit run survives), and a mobile
    # number after an office's name is a person's.
    assert masker.mask("0120279338") == PHONE
    assert masker.mask("福祉課 090-1234-5678") == f"福祉課 {PHONE}"


def test_references_are_not_addresses_but_blocks_are(masker: Masker) -> None:
    references = ("様式3-1", "資料2-1", "会議室3-2", "条例第12-3条", "予算書4-3", "要介護1-2")
    for text in references:
        assert masker.mask(text) == text
    assert masker.mask("字中島456-7の畑") == f"{ADDRESS}の畑"
    assert masker.mask("北3条西4丁目5-6") == ADDRESS
    assert masker.mask("転居先：さくら市氏家2345番地") == f"転居先：さくら市{ADDRESS}"


def test_the_word_lists_load_and_a_bad_line_is_named() -> None:
    lists = masking_words()
    assert "相談者" in lists.person
    assert "件" in lists.after
    assert "ワン" in lists.not_name
    with pytest.raises(KBError, match=r"words\.tsv:2"):
        parse_words("# comment\nperson\n", "words.tsv")
    with pytest.raises(KBError, match=r"words\.tsv:1"):
        parse_words("pet\tワン\n", "words.tsv")


# Invisible format characters typed or pasted between the characters of personal data.
_INVISIBLE = ("\u200b", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u200e")


@pytest.mark.parametrize("mark", _INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize(
    ("data", "placeholder"),
    [
        ("090-1234-5678", PHONE),
        ("yamada.taro@example.jp", EMAIL),
        ("1234 5678 9012", MY_NUMBER),
        ("山田太郎様", NAME),
    ],
)
def test_invisible_characters_inside_personal_data_do_not_hide_it(
    masker: Masker, mark: str, data: str, placeholder: str
) -> None:
    hidden = mark.join(data)
    masked = masker.mask(f"相談者 {hidden} より連絡")
    assert placeholder in masked
    visible = re.sub("[\u200b\u200d\u2060\u00ad\ufeff\u200e]", "", masked)
    assert not re.search(r"[0-9]{3}", visible), masked
    for word in ("yamada", "山田", "太郎"):
        assert word not in visible, masked
    assert masker.mask(masked) == masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An outside tester published an address written backwards after a right-to-left
        # override: every browser shows hanako@gmail.com, every rule read moc.liamg@okanah.
        ("連絡先は \u202emoc.liamg@okanah\u202c です", f"連絡先は {EMAIL} です"),
        ("携帯 \u202e8765-4321-090\u202c まで", f"携帯 {PHONE} まで"),
        ("\u2067山田太郎様\u2069より", f"{NAME}様より"),  # an isolate only drops
        ("\u202eまでください\u202c", "いさだくでま"),  # text as shown, controls dropped
        # Nested: an override inside an override is one piece of it (a second attacker).
        ("連絡は\u202emoc.\u202d@gmail\u202cokanah\u202cまで", "連絡は[メール]まで"),
        ("携帯\u202e8765\u202d-4321-\u202c090\u202cへ", f"携帯{PHONE}へ"),
    ],
)
def test_text_is_read_in_the_order_it_is_shown(masker: Masker, text: str, expected: str) -> None:
    assert masker.mask(text) == expected
    assert masker.mask(masker.mask(text)) == masker.mask(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A Cyrillic а among Latin letters left "yа" readable before the mask.
        ("連絡先 yаmada@example.jp", f"連絡先 {EMAIL}"),
        ("連絡先 taro@exаmple.jp", f"連絡先 {EMAIL}"),
        ("Müller.K@example.de に送付", f"{EMAIL} に送付"),
        # Digits of other scripts (Arabic-Indic, Devanagari) are digits.
        ("携帯 ٠٩٠-١٢٣٤-٥٦٧٨", f"携帯 {PHONE}"),
        ("०९०-१२३४-५६७८ に電話", f"{PHONE} に電話"),
    ],
)
def test_lookalike_letters_and_foreign_digits_are_masked(
    masker: Masker, text: str, expected: str
) -> None:
    assert masker.mask(text) == expected
