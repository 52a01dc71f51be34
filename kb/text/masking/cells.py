"""A cell under its column's header: ``【生年月日】1961年3月28日``.

When a case file's columns are joined into one text field, each cell after the first goes on a
line of its own after its header (:func:`kb.ingest.columns.joined`), and counsellors write
records the same way (【相談者】…, 【連絡先】…). The header says what the whole cell holds, so a
cell under a personal-data header becomes that header's placeholder whatever its form: a
birth date in any notation (1961年3月28日, H11/03/16, 19860305), a phone number without its
area code (45-8778), half-width kana (ﾓﾘ ｹﾞﾝｺﾞﾛｳ), a welfare case number (CW-363), an account
holder (名義ニシムラ), an employer. The other rules read a value by its own form and miss these.

A header is personal when it is a label of :data:`~kb.text.masking.table.COLUMN_LABELS`, or
names a kind of personal data in its words and ends like a field (:data:`_CELL_RULES`:
保険証番号, 緊急連絡先, 勤務先, 携帯電話...; not 【マイナンバーカード】 or 【電話対応】, which
head a topic). A header that names an office or a facility (担当課, 関係機関, 事業所名,
施設住所), a relation (続柄) or a category (区分) is not: its cells are public. And a cell is
masked only when it holds what its header says (:func:`_holds`): 【相談者】70代女性, 【電話】非通知
and 【勤務先】無職 describe someone or say there is nothing, and stay. The rule runs on records
(cases, queries) only: in FAQ entries and manuals 【】 head topics.
"""

from __future__ import annotations

import re
import unicodedata

from kb.text.masking.placeholders import (
    ACCOUNT,
    ADDRESS,
    AFFILIATION,
    BIRTH_DATE,
    EMAIL,
    ID_NUMBER,
    MY_NUMBER,
    NAME,
    PHONE,
)
from kb.text.masking.surnames import ROLE_WORDS
from kb.text.masking.table import COLUMN_LABELS, PLACEHOLDER_ONLY_RE, cell_key
from kb.text.masking.titled import ROLES
from kb.text.masking.words import masking_words

_OFFICE_WORDS = (
    *("課", "部署", "機関", "施設", "事業所", "団体", "法人", "窓口", "センター", "病院"),
    *("引継", "引き継", "紹介先", "相談先", "所管"),
)
"""Words of a header whose cells name an office, not a person: 担当課, 関係機関, 事業所名."""

_BIRTH_WORDS = ("生年月日", "誕生日", "出生日", "生年")
_WORK_ENDS = (
    *("勤務先", "勤め先", "職場", "会社名", "学校", "学校名", "在籍校", "園名", "通園先"),
    "学年",
)
_CELL_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (MY_NUMBER, ("マイナンバー", "個人番号"), ("マイナンバー", "個人番号", "番号", "no")),
    (BIRTH_DATE, _BIRTH_WORDS, _BIRTH_WORDS),
    (EMAIL, ("メール", "mail"), ("メール", "アドレス", "mail")),
    (
        ACCOUNT,
        ("sns", "lineid", "アカウント", "twitter", "instagram", "facebook"),
        ("id", "アカウント", "sns", "twitter", "instagram", "facebook"),
    ),
    (
        PHONE,
        ("電話", "携帯", "tel", "fax", "ファクス", "ファックス"),
        ("電話", "番号", "携帯", "tel", "fax", "ファクス", "ファックス"),
    ),
    (ADDRESS, ("住所", "居所", "郵便番号", "〒"), ("住所", "居所", "郵便番号", "〒")),
    (
        NAME,
        (
            *("氏名", "名前", "フリガナ", "ふりがな", "よみがな", "ヨミガナ", "カナ", "name"),
            *("緊急連絡先", "世帯主", "名義", "保護者"),
        ),
        (
            *("氏名", "名前", "フリガナ", "ふりがな", "よみがな", "ヨミガナ", "カナ", "name"),
            *("緊急連絡先", "世帯主", "名義", "名義人", "保護者"),
        ),
    ),
    (
        ID_NUMBER,
        (
            *("口座", "振込先", "保険証", "被保険者", "手帳", "ケース番号", "ケースno"),
            *("在留カード", "旅券", "パスポート", "免許", "車両", "ナンバー", "受給者番号"),
            *("受給者証", "宛名番号", "世帯番号", "住民番号", "年金番号", "診察券", "学籍"),
            *("社員番号", "利用者番号", "患者番号", "証番号", "カード番号"),
        ),
        ("番号", "no", "ナンバー", "id", "記号", "情報", "口座", "振込先"),
    ),
    (
        AFFILIATION,
        ("勤務先", "勤め先", "職場", "会社名", "学校", "在籍", "園名", "通園先"),
        _WORK_ENDS,
    ),
)
"""Per placeholder: words a header of its cells holds, and how such a header ends (a field,
not a topic: 【マイナンバーカード】, 【電話対応】, 【口座振替】 and 【保険証】 head a paragraph
about something, 【個人番号】 and 【電話番号】 a value); tried in this order (緊急連絡先電話 is a
phone, 保護者氏名 a name, 被保険者証番号 an ID; 緊急連絡先 holds a name and a phone)."""

_NOT_PERSONAL_WORDS = ("続柄", "関係", "区分", "種別", "状況", "有無", "人数", "年齢", "性別")
"""Words of a header about a person that hold no personal data (世帯主との続柄, 相談者区分)."""
_QUALIFIER_RE = re.compile(r"\([^()]*\)$")

_PERSON_ENDS = ("者", "者名", "人名")
"""Endings of a header of people: 相談者, 申請者, 担当者, 記入者, 対応者 (staff are named too)."""

_LABELLED_RE = re.compile(
    # At a line's start or after a space; the value ends at the line's end or at the next
    # 【header】 (a record kept on one line: 【相談者】長女 【生年月日】S30.5.3).
    "(?:^|(?<=[ \u3000]))[ \u3000]*\u3010(?P<label>[^\u3011\n]{1,30})\u3011"
    "[ \u3000:：]*(?P<value>[^\n\u3010]*)",
    re.MULTILINE,
)


_NO_DATA = frozenset(
    {"不明", "なし", "無し", "無", "同上", "未記入", "記載なし", "該当なし", "不詳", "未定", "-"}
    | {"市外", "市内", "県外", "県内", "無職", "パート", "アルバイト", "自営", "自営業"}
    | {"年金生活", "主婦", "専業主婦", "学生", "退職", "休職中", "求職中", "未就学", "就学前"}
    | {"不登校", "休学", "退学", "非通知", "未登録", "なし(不明)"}
)
"""What a cell under a personal-data header holds when it names no one (無職 under 勤務先,
市外（不明） under 住所): a fact staff search on, kept."""
_PIECES_RE = re.compile("[^ \u3000・、,/（）()]+")


_DIGIT_RE = re.compile("[0-9\u3007一二三四五六七八九十]")
_PHONE_ONLY_RE = re.compile(r"(?:自宅|携帯|勤務先|内線|tel|TEL|[0-9()+.\-‐－ー /／・、,])+")
_ALNUM_RE = re.compile("[A-Za-z0-9]")
_SENTENCE_RE = re.compile(
    "(?<![\u3041-\u3096])[のはがをにとでも](?![\u3041-\u3096])|、|中$|方$|員$|者$|ず$|名乗|または"
)
"""What a phrase has that a name does not: a particle between words that are not kana (a kana
name may hold の or と: ともこ) and endings of a description (同居の親族, デイサービス利用中,
近所の方, 新聞配達員, 名乗らず)."""
_GENERIC_WORK = frozenset(
    {"パート", "アルバイト", "スーパー", "コンビニ", "日雇い", "派遣", "会社員", "公務員", "農業"}
    | {"自営", "自営業", "飲食店", "工場", "介護職", "事務", "清掃", "夜勤", "正社員", "契約社員"}
)
_BRACKETED_RE = re.compile("[（(][^（）()]*[）)]")
_DESCRIBED_RE = re.compile("[0-9]|代|以上|以下|女性|男性|匿名|不明|名$|課|係|センター")


def _holds(placeholder: str, value: str) -> bool:
    """Whether a cell (NFKC) holds what its header says, not a description (【相談者】70代女性,
    【対応者】市民課, 【電話】非通知, 【口座】未登録, 【生年月日】昭和20年代): a name without
    digits, relations, roles, offices or descriptions; a phone number and nothing else; an
    address or an account with letters or digits; a number; a date."""
    if placeholder == NAME:
        lists = masking_words()
        pieces = _PIECES_RE.findall(value)
        return not (_DESCRIBED_RE.search(value) or _SENTENCE_RE.search(value)) and not any(
            p in lists.person or p in lists.not_name or p in ROLE_WORDS or p.startswith(ROLES)
            for p in pieces
        )
    if placeholder == PHONE:
        return bool(_PHONE_ONLY_RE.fullmatch(value)) and bool(re.search("[0-9]", value))
    if placeholder in (EMAIL, ACCOUNT):
        return bool(_ALNUM_RE.search(value))
    if placeholder in (ID_NUMBER, MY_NUMBER):
        return bool(re.search("[0-9]", value)) or "名義" in value
    if placeholder == ADDRESS:
        return bool(_DIGIT_RE.search(value))  # a lot number; 希望が丘, 東海村 name a place only
    if placeholder == AFFILIATION:
        # An employer or a school by name; パート（スーパー）, 市内の製造業, 建設業（日雇い）
        # say what kind (コンビニ（中央町店）パート names one).
        base = _BRACKETED_RE.sub("", value).strip()
        generic = all(p in _GENERIC_WORK for p in _PIECES_RE.findall(value))
        return not (generic or base.endswith("業"))
    if placeholder == BIRTH_DATE:
        return bool(_DIGIT_RE.search(value)) and not value.rstrip(")） ").endswith("代")
    return True


def _says_nothing(value: str) -> bool:
    """No-data words, or people named by their relation only (【対象者】本人, 【相談者】母)."""
    pieces = _PIECES_RE.findall(unicodedata.normalize("NFKC", value))
    person = masking_words().person
    return bool(pieces) and all(p in _NO_DATA or p in person for p in pieces)


def header_placeholder(header: str) -> str | None:
    """The placeholder of the cells under ``header``, or ``None`` for a header of anything
    else (compared in NFKC without spaces, in any case)."""
    key = cell_key(header)
    exact = COLUMN_LABELS.get(key)
    if exact is not None:
        return exact
    if not key or any(word in key for word in (*_OFFICE_WORDS, *_NOT_PERSONAL_WORDS)):
        return None
    if key == "line":
        return ACCOUNT
    core = _QUALIFIER_RE.sub("", key)  # 生年月日(和暦)
    if core.endswith("連絡先") and not core.endswith("緊急連絡先"):
        return PHONE  # 【連絡先】52-0428: a number without its area code
    for placeholder, words, ends in _CELL_RULES:
        if any(word in key for word in words) and core.endswith(ends):
            return placeholder
    return NAME if core.endswith(_PERSON_ENDS) else None


def personal_label(header: str) -> bool:
    """Whether ``header`` labels a column of personal data (氏名, 相談者, 生年月日, 勤務先...)."""
    return header_placeholder(header) is not None


def labelled_cell_edits(text: str, placeholders: frozenset[str]) -> list[tuple[int, int, str]]:
    """Edits that mask the value of each ``【header】value`` line under a personal-data header.

    Args:
        text: Any text.
        placeholders: The placeholders the profile may write (a header whose placeholder is
            not among them is left to the other rules).

    Returns:
        ``(start, end, placeholder)`` per value to mask, in text order.
    """
    if "\u3010" not in text:
        return []
    edits: list[tuple[int, int, str]] = []
    for match in _LABELLED_RE.finditer(text):
        placeholder = header_placeholder(match.group("label"))
        if placeholder is None or placeholder not in placeholders:
            continue
        value = match.group("value").rstrip(" \u3000")
        if (
            not value
            or PLACEHOLDER_ONLY_RE.fullmatch(value)
            or _says_nothing(value)
            or not _holds(placeholder, unicodedata.normalize("NFKC", value))
        ):
            continue
        start = match.start("value")
        edits.append((start, start + len(value), placeholder))
    return edits
