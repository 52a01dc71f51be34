"""The regular expressions that the masking rules run on a text's folded view.

Matching runs on the folded view (:mod:`kb.text.masking.fold`: NFKC, kanji numerals as digits,
every dash as ``-``, look-alike dots and spaces as ・ and a space), so that full-width digits
and kanji numerals (〇九〇ー一二三四ー五六七八) are caught like ``090-1234-5678``; the fold's
:class:`~kb.text.masking.fold.Folded` maps each match back to the original text, which is what
the rules edit.
"""

from __future__ import annotations

import re

# --- rule patterns (on the folded view) ------------------------------------------------------

# "taro[at]example.com" and "taro(at)example.com" are written to dodge spam harvesters.
# The lookbehind starts the local part only where a run of its characters starts: without it a
# long run of letters is tried from every character (quadratic on hostile input).
# Letters that look Latin (accented Latin, Greek, Cyrillic: "yamada" with a Cyrillic U+0430)
# belong to an address as much as ASCII letters: none is left readable before the mask.
_LOOKALIKE = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff"
_LOCAL = rf"A-Za-z0-9._%+\-{_LOOKALIKE}"
_DOMAIN = rf"[A-Za-z0-9\-{_LOOKALIKE}]+"
# The IME's full stop (taro@example。com) is a dot typed without switching to ASCII.
_DOT = r"(?:\.|\u3002|\s?[\[(](?i:dot)[\])]\s?|\s(?i:dot)\s|\s?(?:ドット|どっと)\s?)"
# Providers whose name is often written without its ending (yamada@gmail).
_PROVIDER = r"(?i:gmail|yahoo|icloud|docomo|ezweb|softbank|outlook|hotmail)(?![A-Za-z0-9.])"
EMAIL_RE = re.compile(
    # taro dot yamada at gmail dot com: the dots of the local part spelled out too.
    rf"(?<![{_LOCAL}])[{_LOCAL}]{{1,64}}(?:\s(?i:dot)\s[{_LOCAL}]{{1,64}}){{0,3}}"
    # @ spelled out: (at), [at], (a), " at " between spaces, アットマーク, あっとまーく (whose ー
    # the folded view writes "-" after hiragana).
    r"(?:\s?@\s?|\s?[\[(](?i:at|a)[\])]\s?|\s(?i:at)\s"
    r"|\s?[\[(【<]?(?:アットマーク|あっとま[-ー]く|アット|あっと)[\])】>]?\s?|%40)"
    rf"({_DOMAIN}(?:{_DOT}{_DOMAIN})+|{_PROVIDER})"
)

# A blank or a hyphen joins groups of two characters or more (1234 5678 9012, 12-34): in
# 被保険者番号 83056162 2階5番窓口 the 2 is the floor's.
_ID_VALUE = r"[0-9A-Za-z](?:[0-9A-Za-z]|[- *](?=[0-9A-Za-z]{2}))*"
_ID_LABELS = (
    "マイナンバー",
    "個人番号",
    "基礎年金番号",
    "年金番号",
    "年金手帳番号",
    "被保険者番号",
    "被保険者証番号",
    "保険証番号",
    "受給者番号",
    "受給者証番号",
    "受給資格者番号",
    "口座番号",
    "免許証番号",
    "運転免許証番号",
    "運転免許証",
    "免許証",
    "住民票コード",
    "宛名番号",
    "世帯番号",
    "住民番号",
    "ケース番号",
    "手帳番号",
    # 生保ケース No.4567, 母子手帳No.R5-1234: "No." after the thing numbered.
    r"ケース\s?no",
    r"手帳\s?no",
    "在留カード番号",
    "パスポート番号",
    "パスポート",
    "旅券番号",
    "証書番号",
    "記号番号",
    "顧客番号",
    "お客様番号",
    "契約番号",
    "障害者手帳",
    "療育手帳",
    "療育",
    "福祉手帳",
    "被保険者証",
    "保険証",
    "在留カード",
    "カード番号",
    "クレジットカード",
    "車両番号",
    "ナンバー",
    "旅券",
    "宛名コード",
    "被保番",
    "保護番号",
    "ケース記録番号",
    "カルテ番号",
    "診察券番号",
    "患者番号",
    "患者id",
    "利用者番号",
    "会員番号",
    "特別永住者証明書",
    "受給者証",
    "受給資格者証",
    "医療証",
    "passport",
    "マイナンバーカード",
    "個人番号カード",
    "マイナ番号",
    "年金手帳",
    "運転免許",
    "免許番号",
    "介護保険",
    # 国保番号 1234567 (and 保険証 国保 9931754 through the gap below; 国保 alone is as often
    # followed by a count: 国保 12345世帯).
    "国保番号",
    "国保証番号",
    "国保証",
    "個人コード",
    "住基番号",
    "学籍番号",
    "社員番号",
    "職員番号",
    # Any number of a person of a service (被保護者番号, 対象者番号, 申請者番号), from a word's
    # start; not an insurer's or a business's (保険者番号 081234 is the city's own).
    r"(?<![\u4e00-\u9fff])(?!保険者|事業者)[\u4e00-\u9fff]{1,4}者(?:証)?番号",
)
ID_LABEL_RE = re.compile(
    r"(?P<label>" + "|".join(sorted(_ID_LABELS, key=len, reverse=True)) + r")"
    # A bracket or a quote may open the value (マイナンバー（1234...）, 保険証番号「1234」); a
    # disability card's grade may stand before its number (（1種2級）第012345号, A 第1234号).
    r"(?P<gap>(?:\s|[:#.は第=(\[「『【→]|の|no\.?|番号|普通|当座|預金|貯金|\(普通\)|\(当座\)"
    # The insurance between 保険証 and its number (保険証 国保 9931754, 被保険者証(後期)).
    r"|国保|社保|健保|後期(?:高齢者?)?|\((?:国保|社保|健保|後期)\)"
    r"|\((?:マイナンバー|個人番号)\)"
    r"|[0-9]級|\(?[0-9]種[0-9]級\)?|[AB][12]?(?=\s*第)"
    # The issuer's or the kind's mark before 第 (鹿第000123号, 精2-第10234号).
    r"|[\u4e00-\u9fff]{1,2}(?:[0-9]{1,2}-)?(?=\s*第))*)"
    r"(?P<value>" + _ID_VALUE + r")",
    re.IGNORECASE,
)
# 健康保険証「記号 1234 番号 56」: the two parts are labelled separately. A symbol may start
# with kana or kanji (記号 あ12 番号 345) when its 番号 follows.
_KIGOU_CODE = r"[0-9A-Za-z]+(?:-[0-9A-Za-z]+)*"
KIGOU_RE = re.compile(
    r"(?P<label>記号)(?P<gap>\s*[:]?\s*)"
    rf"(?P<value>(?:[ぁ-んァ-ヶ一-龥]{{1,4}}\s*(?={_KIGOU_CODE}\s*(?:、|,)?\s*番号))?{_KIGOU_CODE})"
    r"(?:(?P<label2>\s*(?:、|,)?\s*番号)(?P<gap2>\s*[:]?\s*)(?P<value2>[0-9]+(?:-[0-9]+)*))?"
)
MY_NUMBER_LABELS = (
    "マイナンバー",
    "個人番号",
    "マイナンバーカード",
    "個人番号カード",
    "マイナ番号",
)
# After a label, a number followed by one of these is a date, an amount or a count (保険証は
# 2025年12月1日まで, パスポート 16000円), not the card's number.
ID_UNIT_AFTER_RE = re.compile(
    r"\s*(?:年|月|日|円|歳|枚|件|回|時|分|%|人|か月|ヶ月|カ月|週間|点|世帯|名|社|万|千|億)"
)

_ERA = r"(?:明治|大正|昭和|平成|令和|[昭平令](?=\s*[0-9元])|[MTSHR]\.?)\s*(?:[0-9十]{1,3}|元)"
_YEAR = rf"(?:{_ERA}|[0-9]{{4}}|[0-9]{{2}}(?=\s*年))"
# 昭和55年（1980年）1月2日: the Western year in brackets after the era year.
_WESTERN_AFTER = rf"(?:\s*\(\s*(?:[0-9]{{4}}|{_ERA})\s*年?\s*\))?"
_DATE = (
    rf"{_YEAR}\s*(?:年{_WESTERN_AFTER}(?:\s*[0-9十]{{1,3}}\s*月(?:\s*[0-9十]{{1,3}}\s*日)?)?"
    rf"|[./・-]\s*[0-9]{{1,2}}\s*[./・-]\s*[0-9]{{1,2}})"
)
# 19800102, as system exports write a date of birth (and a stamp or an id may start).
DATE_DIGITS = r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_DATE8 = rf"(?<![0-9]){DATE_DIGITS}(?![0-9])"
# 02/01/1980 (day or month first), as foreign documents write it.
_DATE_YEAR_LAST = r"(?<![0-9])[0-9]{1,2}\s*[./-]\s*[0-9]{1,2}\s*[./-]\s*(?:19|20)[0-9]{2}(?![0-9])"
BIRTH_BEFORE_RE = re.compile(
    r"(?P<label>生年月日|誕生日|出生日|生年|(?i:d\.?o\.?b\.?|date of birth|birth ?date))"
    # 生年月日（和暦）：, 生年月日【西暦】, 生年月日 西暦1962年...
    r"(?P<gap>\s*(?:[(\[【]\s*(?:和暦|西暦|元号)\s*[)\]】])?\s*(?:[:は]|が|の)?\s*[(\[「【]?\s*"
    r"(?:西暦|和暦)?\s*)"
    rf"(?P<value>{_DATE8}|{_DATE_YEAR_LAST}|{_DATE}|[0-9]{{1,2}}\s*月\s*[0-9]{{1,2}}\s*日"
    r"|[0-9]{1,2}\s*/\s*[0-9]{1,2}(?![0-9/])"
    r"|[0-9]{1,2}\s*(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s*"
    r"(?:19|20)[0-9]{2})"
    # 生年月日が昭和31年4月2日以降の方: a class of people, not a person's date (and no
    # shorter date inside the whole one may escape it: 昭和31年4月|2日以降).
    r"(?![0-9十])(?!\s*[月日])(?!\s*(?:以降|以前|以後|から|まで|より|の方|[~-]))"
)
# A date before 生まれ names a class of people, not a person, when a range or 方 follows:
# 昭和24年生まれの方, 1960年生まれ以降, 2006年4月2日生まれから.
CLASS_AFTER = (
    r"(?:以降|以前|以後|から|まで|より|の方|の人|の者|の児童|の子ども|の世代|の皆"
    r"|で[0-9]+歳)"
)
# A bare era year before 生まれ is a birth year too: S15生まれ, 昭和15生まれ, R1生まれ.
BIRTH_AFTER_RE = re.compile(
    rf"(?P<value>{_DATE}|{_DATE8}|(?<![A-Za-z0-9]){_ERA}(?![0-9])"
    r"|(?<![0-9])(?:19|20)[0-9]{2}(?=生まれ))"
    # 頃 or の between (昭和39年頃生, 昭和3年の生まれ).
    rf"(?=\s*(?:頃|ごろ)?\s*の?\s*(?:(?:生まれ|うまれ|生(?![活徒産ま]))(?!\s*{CLASS_AFTER})"
    rf"|出生(?!\s*{CLASS_AFTER})))"
)
# In a record, a compact whole date of the Shōwa era or before (S30.5.3, 昭30.5.3) is
# someone's date of birth (or marriage, or death): nobody files a procedure dated so, and
# official texts write 昭和30年5月3日 (those need 生まれ or a label to be masked).
OLD_FULL_DATE_RE = re.compile(
    r"(?<![A-Za-z0-9])(?P<value>(?:昭|[MTS]\.?)\s*[0-9]{1,2}\s*"
    r"[./・-]\s*[0-9]{1,2}\s*[./・-]\s*[0-9]{1,2}(?![0-9]))"
    rf"(?!\s*(?:生まれ\s*)?(?:{CLASS_AFTER}|[~-]))"
    # (S60.6.1公布), (S39.10.10開会): the date of a law or an event.
    r"(?!\s*(?:公布|施行|制定|改正|開会|開催|開業|開設|設立|創設|創立|開始|竣工|完成|発足|締結))"
)
# A whole date in brackets just after a person (山田さん（1980年1月2日）, 長女（2010/5/6）).
_PERSON_BEFORE = (
    r"(?:様|さん|氏|殿|くん|ちゃん|本人|長男|長女|次男|次女|三男|三女|妻|夫|父|母|祖父|祖母|孫"
    # A name masked on the pass before: 夫 田中 進（昭和41年2月3日） → [氏名]（...）
    r"|世帯主|相談者|申請者|対象者|\[氏名\])"
)
_BIRTH_END = r"(?![0-9])\s*(?:生|\(\s*[0-9]{1,3}|[、。,]|$)"
BRACKETED_BIRTH_RE = re.compile(
    # or after a space when an era begins it and nothing but an age or a stop follows (長男
    # H2.6.14（34）; 母 R6.4.1 入院 is an event).
    rf"{_PERSON_BEFORE}(?:\(\s*|\s(?={_ERA}\s*[./・-][0-9]{{1,2}}[./・-][0-9]{{1,2}}{_BIRTH_END}))"
    rf"(?P<value>(?:{_YEAR})\s*(?:年\s*[0-9]{{1,2}}\s*月\s*[0-9]{{1,2}}\s*日"
    r"|[./・-]\s*[0-9]{1,2}\s*[./・-]\s*[0-9]{1,2}(?![0-9])))"
    rf"(?!\s*(?:{CLASS_AFTER}|[~-]))"
)

_KANJI = r"一-龥々〆ヶ"
_BUILDING = (
    r"(?:ハイツ|コーポ|マンション|アパート|レジデンス|ハウス|コート|パレス|メゾン|ヒルズ|"
    r"ハイム|ドミール|シャトー|ヴィラ|ビラ|グラン[ァ-ヶー]{0,4}|タワー|テラス|フラット|カーサ|"
    r"ガーデン|プラザ|ビル|団地|住宅|荘|寮)"
)
_NUM = r"[0-9十]{1,5}"
_BLOCK = (
    rf"(?:{_NUM}丁目(?:\s*{_NUM}番地?(?:の{_NUM}|\s*{_NUM}号)?|\s*[0-9]+(?:-[0-9]+){{0,2}})?"
    rf"|{_NUM}番地(?:の?{_NUM})?(?:\s*{_NUM}号)?"
    rf"|{_NUM}番{_NUM}号"
    # 本町2\u30ce14\u30ce3, 本町1の2の3: three parts joined by の (or katakana no).
    r"|(?P<no>(?!0)[0-9十]{1,4}[のノ][0-9十]{1,4}[のノ][0-9十]{1,4}(?![0-9十]))"
    # A fourth part is the room (本町1-2-3-102).
    r"|(?P<dash>(?!0)(?:[0-9]{1,4}-[0-9]{1,3}-[0-9]{1,3}-[0-9]{1,4}"
    # Two parts are joined by の or katakana no too, as a lot number is written (下泉977\u30ce4).
    r"|[0-9]{1,4}-[0-9]{1,4}(?:-[0-9]{1,4})?|[0-9]{1,4}[のノ][0-9]{1,4})(?![0-9\-]|[のノ][0-9]))"
    r"|(?P<bare>(?!0)[0-9]{1,5}(?![0-9-]|[丁番号])))"
    # A room after the block: -102号 after 2番3, #102.
    r"(?:-[0-9]{1,4}号?(?![0-9])|\s?#\s?[0-9]{1,4}(?![0-9]))?"
    r"(?:\s*[ぁ-ゖァ-ヶー一-龥A-Za-z]{0,12}\s*[0-9]+号室"
    # A building after the block: つくばハイツA棟305, サンハイツ桜川 205号.
    rf"|\s*[ぁ-ゖァ-ヶー一-龥A-Za-z]{{0,12}}?{_BUILDING}[ァ-ヶー一-龥A-Za-z]{{0,8}}"
    r"\s*(?:[A-Za-z]?棟\s*|[0-9]{1,2}号棟\s*)?[0-9]{1,4}(?:号室|号)?(?![0-9]|階|[Ff]))?"
)
# A room in a named housing complex, without a block number (本町団地3号棟205号室, 桜台団地
# 5棟 302), or after a building's name (さくらハイツ 203号室).
ROOM_RE = re.compile(
    r"(?P<value>(?:[0-9]{1,2}号?棟|[A-Za-z]棟)\s*[0-9]{1,4}(?:号室?)?(?![0-9]))"
    rf"|{_BUILDING}(?:[ァ-ヶー一-龥A-Za-z]{{0,8}})\s*(?P<room>[0-9]{{1,4}}\s*(?:号室|号(?!棟))"
    # A building's block and room joined by a dash (東原アパート5-203, メゾン東原 C-101).
    r"|(?:[0-9]{1,3}|[A-Za-z])-[0-9]{2,4}(?![0-9]|階|F|f))"
)
# A lone number (飯塚911) is a block only after a town and a district (see BARE_TOWN_RE).
BARE_TOWN_RE = re.compile(rf"[{_KANJI}](?:町|村)[{_KANJI}]{{1,4}}$|字[{_KANJI}]{{1,4}}$")
# A lot number of two digits or more right after a city and a district (桜川市西小塙1234,
# 笠間市石井1234), unless the "district" ends like a facility or an office (市役所2, 市立病院3).
CITY_DISTRICT_RE = re.compile(
    rf"[{_KANJI}](?:市|郡)[{_KANJI}]{{2,4}}(?<![館所院園校場署局室課部係内外域長会議員民制政])$"
)
# The town before a block: kanji and katakana, with が (緑が丘), 通り (駅前通り) and the 条 of
# Sapporo's grid (北3条西) and a numeral with の (三の丸, folded to 3の丸), after a city written
# in hiragana (さくら市, つくば市).
_PLACE = (
    rf"(?:[ぁ-ゖ]{{2,6}}(?=[市町村]))?"
    rf"(?:[{_KANJI}ァ-ヶー]|(?<=[{_KANJI}])が(?=[{_KANJI}])|通り"
    rf"|(?<=[{_KANJI}])[0-9]{{1,2}}条(?=[{_KANJI}])|(?<=[市町村区郡])[0-9]の(?=[{_KANJI}])){{0,24}}"
)
ADDRESS_RE = re.compile(rf"(?P<place>{_PLACE})(?P<space> ?){_BLOCK}")
# What stays of the place name: prefecture, city/county and ward are not personal.
ADDRESS_KEEP_RE = re.compile(
    rf"^(?:[{_KANJI}]{{2,3}}?(?:都|道|府|県))?(?:(?:[{_KANJI}ァ-ヶー]{{1,6}}?|[ぁ-ゖ]{{2,6}})(?:市|郡))?"
    rf"(?:[{_KANJI}ァ-ヶー]{{1,5}}?区)?"
)
# A number such as 3-1 is a reference, not a block, after a document or a counter word
# (様式3-1, 資料2-1, 会議室3-2, 第12-3条, 予算書4-3) or before a unit (3-4年生, 9-17時).
REFERENCE_END = frozenset(
    "式料紙表図室書票章節条項号第版問例欄覧頁録案目則綱領令護校年度回期編巻件話級"
)
REFERENCE_AFTER_RE = re.compile(
    r"\s?(?:条|項|号(?!室)|章|節|頁|ページ|枚|行|番目|回|巻|版|話|年|月|日|時|分|秒|歳|才|人|名"
    r"|円|%|度|点|級|か月|ヶ月|カ月|週|倍|個|件|台|本|冊|階|期|程度)"
)
# After a 丁目 alone, a landmark: 本町三丁目交差点, 中央2丁目バス停 are places, not an address.
CHOME_LANDMARK_RE = re.compile(
    r"の?(?:交差点|付近|周辺|界隈|辺り|あたり|方面|バス停|停留所|自治会|町内会|公園|商店街)"
    r"|(?:から|まで|~|-)|の?(?:地域|地区|全域|一帯|区域)"
)
# Last characters of a town name: a two-part number (123-4) after one is a block.
TOWN_END = frozenset(
    "町村丁台丘岡原野田川山沢谷島浜崎坂宿通り条字郷里江浦林森池橋瀬平央東西南北区市郡新"
)
# A labelled address ends where the next label starts ("... 123番地 連絡先:0296...").
_NEXT_LABEL = r"\s+[^\s:]{1,8}:"
_ADDRESS_CHAR = rf"(?:(?!{_NEXT_LABEL})[^。、,\n()])"
POSTAL_RE = re.compile(
    r"〒\s*[0-9]{3}\s*-?\s*[0-9]{4}"
    # Without 〒, as a signature writes it, before the prefecture or the city.
    rf"|(?<![0-9-])[0-9]{{3}}-[0-9]{{4}}(?=\s*(?:東京都|北海道|大阪府|京都府|[{_KANJI}]{{2,3}}県"
    rf"|[{_KANJI}]{{1,5}}[市郡]))"
    r"|(?<=郵便番号)(?:\s|[:は])*(?P<value>[0-9]{3}\s*-?\s*[0-9]{4})(?![0-9])"
)
ADDRESS_LABEL_RE = re.compile(
    r"(?P<label>(?:現住所|住所|居所|転居先|転入先|本籍)(?:\s*(?:は|:)\s*|\s+(?=[^\s]{0,6}[都道府県市郡区])))"
    rf"(?P<value>{_ADDRESS_CHAR}*?[0-9]{_ADDRESS_CHAR}*?)(?=[。、,\n(]|{_NEXT_LABEL}|$)"
)

_SEP = r"[- ()・./]"
DIGIT_RUN_RE = re.compile(
    rf"(?<![0-9])(?:\+\s?)?\(?[0-9](?:[0-9]|{_SEP}{{1,3}}(?=[0-9(]))*[0-9]\)?"
)
PHONE_LABEL_RE = re.compile(
    r"(?:電話|tel|携帯|ケータイ|自宅|fax|ファックス|ファクス|連絡先)(?:番号)?"
    r"(?:\s|[:は]|が|の|\(携帯\)|\(自宅\))*$",
    re.IGNORECASE,
)
# Mobile numbers (060/070/080/090), on the digits of a number.
MOBILE_RE = re.compile(r"^0[6789]0")
# Free dial and navi dial (0120, 0570) are businesses' and helplines' numbers. (0800 free dial
# numbers are left out: 0800-000-0000 cannot be told from the mobile 080-0000-0000.)
PUBLIC_PHONE_RE = re.compile(r"^0(?:120|570)")
# A landline right after an office's name (福祉課 0296-55-1234, 保健所（代表）) is the office's.
OFFICE_BEFORE_RE = re.compile(
    r"(?:課|係|室|センター|窓口|役所|役場|支所|出張所|保健所|相談所|事務所|警察署|消防署|本部"
    r"|協議会|病院|法務局|県庁|都庁|府庁|道庁|市役所|区役所|年金事務所|労働基準監督署|税務署"
    r"|公社|協会|組合|事務局)"
    r"[\s:(]*(?:代表|直通|電話|tel|fax)?[\s:)]*$",
    re.IGNORECASE,
)
# Read aloud, numbers are split with の (〇七〇の九八七六の五四三二); typed, sometimes with ~ (the
# wave dash folds to it) or _ (090～5337～8504, 070_0198_3287). Only a phone's shape is taken
# so: elsewhere ~ is a range (2024.4.1~2025.3.31, 6247~6248).
PHONE_NO_RE = re.compile(
    r"(?<![0-9])(?:0[0-9]{1,4}(?P<sep>[のノ~_])[0-9]{1,4}(?P=sep)[0-9]{3,4}"
    # A mobile number split by any mark a keyboard has, spaced or not, alike or not
    # (090*1234*5678, 090 | 1234 5678, (090)1234*5678): only its shape, as 010,2024,0401 and
    # 05,1234,5678 are rows of data.
    r"|(?:\(0[6789]0\)\s?|0[6789]0(?:\s?[*|:,;=+#\\/.~_-]\s?|\s))[0-9]{4}"
    r"(?:\s?[*|:,;=+#\\/.~_-]\s?|\s)[0-9]{4})(?![0-9])"
)
# A date, with or without a time after it (2024/04/01 10:30): not a number to mask.
DATE_RUN_RE = re.compile(r"^(?:19|20)[0-9]{2}[-/.][0-9]{1,2}[-/.][0-9]{1,2}(?:\s|$)")
# The residence card's number (two letters, eight digits, two letters), wherever it is.
# In any case: typed on a phone, ab12345678cd is the same card.
RESIDENCE_CARD_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{8}[A-Z]{2}(?![A-Za-z0-9])", re.IGNORECASE
)
# Licence plates: region, class number, one kana, number (品川 500 さ 12-34, 水戸501な1234).
PLATE_RE = re.compile(
    r"(?<=[一-龥ぁ-ゖ])\s?(?P<value>[0-9]{2,3}\s?"
    r"[あいうえかきくけこさすせそたちつてなにぬねはひふほまみむめもやゆよらりるれろわ]"
    r"\s?(?:[0-9]{1,2}-[0-9]{2}|[0-9]{4}|[・.]{1,3}[0-9]{1,3}))(?![0-9])"
)

# IPv4 addresses (a home router's, a sender's).
IPV4_RE = re.compile(
    # Not a version number (ver 2.1.0.3, v1.2.3.4).
    r"(?<![0-9.])(?<!(?i:ver))(?<!(?i:ver\.))(?<!(?i:ver ))(?<!(?i:v))(?<!(?i:version ))"
    r"(?P<value>(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9]))(?![0-9]|\.[0-9])"
)
# Payment card numbers: 16 digits in fours, or American Express's 4-6-5 (Luhn-checked).
CARD_RE = re.compile(
    r"(?<![0-9])(?P<value>[0-9]{4}(?:[- ]?[0-9]{4}){3}|3[47][0-9]{2}[- ]?[0-9]{6}[- ]?[0-9]{5})"
    r"(?![0-9])"
)
# ゆうちょ: 記号 (five digits) and 番号 (up to eight), and an account after a bank's branch code
# (桜川銀行 001 1234567).
BANK_ACCOUNT_RE = re.compile(
    r"(?:ゆうちょ(?:銀行)?\s*(?:記号)?\s*(?P<yucho>1[0-9]{4}\s*-?\s*(?:番号)?\s*[0-9]{6,8})"
    r"|(?:銀行|信用金庫|信金|信組|農協|バンク)\s*(?:[ァ-ヶー一-龥]{1,10}支店\s*)?"
    r"[0-9]{3}\s+(?P<account>[0-9]{7}))(?![0-9])"
)
