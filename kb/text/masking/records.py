"""Personal data that records write in fixed places: bank accounts and their holders, a
relative's name between the relation and the date of birth or the age, and the members of a
household listed with their ages or school years.

The patterns run on the folded view (:func:`kb.text.masking.patterns.fold`: full-width
brackets, letters and spaces as ASCII), like those of :mod:`kb.text.masking.patterns`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kb.text.masking.surnames import TITLE_OR_OFFICE_ENDS
from kb.text.masking.words import masking_words

if TYPE_CHECKING:
    from kb.text.mecab import MeCabTokenizer

# Bank accounts after the kind of deposit (普通 1234567, 当座 7654321, 口座: 普通1234567), also
# in katakana as bank data writes it (ﾌﾂｳ 1234567, folded to フツウ), or after the bank's or
# the branch's name.
BANK_RE = re.compile(
    r"(?P<label>(?:普通|当座|貯蓄|通常|フツウ|トウザ|チョチク)(?:預金|貯金|ヨキン)?|口座|貯金|コウザ(?:バンゴウ)?"
    # Or right after the bank or its branch (足利銀行 桜川支店 9276876, (常陽銀行)0018326).
    r"|銀行|信用金庫|信金|労働金庫|労金|信用組合|農協|支店|ギンコウ|シテン)"
    r"(?P<gap>(?:\s|[:)#(「【]|口座|番号|預金|貯金|ヨキン|は|(?i:no)\.?){0,6})"
    r"(?P<value>[0-9](?:[0-9]|[- ](?=[0-9])){5,9})(?![0-9円万千百億,.%])"
)

_KANA_NAME = r"[\u30a1-\u30fa\u30fc]{1,8}(?:[ \u30fb][\u30a1-\u30fa\u30fc]{1,8})?"
_KANA_FULL_NAME = r"[\u30a1-\u30fa\u30fc]{1,8}[ \u30fb][\u30a1-\u30fa\u30fc]{1,8}"
# The holder of an account: after 名義 (名義 リ・ナ, 名義人 桜川 一郎), or in brackets after the
# account number the pass before masked ([番号](クリバヤシ アオイ)).
ACCOUNT_HOLDER_RE = re.compile(
    rf"名義人?[ :]+(?P<named>{_KANA_NAME}|[\u4e00-\u9fff\u3005]{{1,4}}"
    r"(?: [\u4e00-\u9fff\u3005\u3041-\u3096\u30a1-\u30fa\u30fc]{1,4})?)"
    rf"|\[番号\] ?\((?P<held>{_KANA_FULL_NAME})\)"
)
_RELATION = (
    r"(?:父|母|妻|夫|元妻|元夫|長男|長女|次男|次女|三男|三女|祖父|祖母|兄|弟|姉|妹|息子|娘|孫"
    r"|義父|義母|叔父|叔母|伯父|伯母|内縁の(?:妻|夫))"
)
_DATE = (
    r"(?:[MTSHR]|明治|大正|昭和|平成|令和)?[0-9]{1,4}"
    r"(?:[./-][0-9]{1,2}[./-][0-9]{1,2}|年[0-9]{1,2}月[0-9]{1,2}日)"
)
"""A whole date as records write one in brackets after a relative's name (父 実（1999/9/20）)."""
_NAME_PART = r"[\u4e00-\u9fff\u3005\u30a1-\u30fa\u30fc\u3041-\u3096]{1,5}?"
_HONORIFIC = r"(?:くん|ちゃん|さん|さま|様|君|氏)?"
"""Left outside the name (孫のはるとくん(4歳): the name is はると)."""
# A relative's name between the relation and what records write after a person: a date of
# birth, an age, an address or a maiden name in brackets (父 岡田あかり([生年月日]生), 元妻
# 飯嶋 蒼空(桜川市[住所]在住), 母 岡田 キヨ(旧姓 [氏名]), 母の心愛(80歳), 次男湊(8歳)). After の or
# glued only an age or a date of birth counts: 父の実家([住所]) is a house.
RELATION_NAME_RE = re.compile(
    rf"(?<![\u4e00-\u9fff\u3005]){_RELATION}"
    rf"(?: (?P<spaced>{_NAME_PART}(?: {_NAME_PART})?){_HONORIFIC}"
    rf"(?=\((?:\[生年月日\]|[^()]{{0,10}}\[住所\]|旧姓|[0-9]{{1,3}}歳|{_DATE}\))| ?[0-9]{{1,3}}歳)"
    rf"|の(?P<named>{_NAME_PART}){_HONORIFIC}(?=\((?:\[生年月日\]|[0-9]{{1,3}}歳[,、)・]))"
    # Glued to the relation (次男湊(8歳), 長女さくら([生年月日]生)): see GLUED_NOT_NAME_RE.
    # or a school year (長女ミサキ(桜川東中学校2年)).
    rf"|(?P<glued>{_NAME_PART}){_HONORIFIC}"
    r"(?=\((?:\[生年月日\]|[0-9]{1,3}歳[,、)・]|[^()]{0,12}(?:小|中|高|学校)[0-9]年)))"
)
# A name with an age or a date of birth after it, at the start of a note or after a stop
# (甲斐田 ツル 95歳 独居, 石動 トミ([生年月日]生)): a surname of kanji, a space, a given name of
# katakana or kanji. The kanji alone (市民課 45歳) are no name: the space and the two parts are.
NAME_BEFORE_AGE_RE = re.compile(
    r"(?:^|(?<=[\s、。】:]))"
    r"(?P<name>(?P<surname>[\u4e00-\u9fff\u3005]{1,4})"
    r" (?:[\u30a1-\u30fa\u30fc]{2,4}|[\u4e00-\u9fff\u3005]{1,3}))"
    r"(?= ?[0-9]{1,3}歳|\((?:\[生年月日\]|[0-9]{1,3}歳))"
)
GLUED_NOT_NAME_RE = re.compile(_RELATION + r"|.*[生児]")
"""What a relation is glued to that is not a name: another relation (祖父母(70歳)), a pupil
(長男小学生(8歳))."""


_DATED_EVENTS = frozenset(
    {"入院", "退院", "死亡", "逝去", "転出", "転入", "転居", "手術", "入所", "退所", "離婚"}
    | {"結婚", "婚姻", "出産", "出生", "就職", "退職", "入学", "卒業", "受診", "申請", "相談"}
    | {"契約", "発症", "診断", "認定", "開始", "終了", "来所", "来庁", "訪問", "面談", "入居"}
    | {"退去", "死去", "失踪", "家出", "別居", "同居", "帰国", "来日", "入国", "出国", "保護"}
)
"""What happened to a relative on a date in brackets (母 入院（R5/04/01）): no name."""


_RECENT_DATE_RE = re.compile(r"\(\s*(?:R|令和|20[12][0-9])")
_RAW_DATE_AFTER_RE = re.compile(r"\(\s*(?:[MTSHR]|明治|大正|昭和|平成|令和|[0-9])")


def relation_name_ok(match: re.Match[str], group: str, tokenizer: MeCabTokenizer) -> bool:
    """Whether ``group`` of a :data:`RELATION_NAME_RE` match is a name: not what a relation is
    glued to (:data:`GLUED_NOT_NAME_RE`), nor an event or an illness before its date (母 入院
    （R5/04/01）, 母 骨折（R6/2/10）; a name the dictionary reads as a verbal noun is missed so:
    妹 希望（H10/02/10）)."""
    value = match.group(group)
    if group == "glued":
        return not GLUED_NOT_NAME_RE.fullmatch(value)
    if group == "spaced" and _RAW_DATE_AFTER_RE.match(match.string, match.end(group)):
        # Only a date says this much: a word the dictionary reads as a name or kana (父 実
        # (1999/9/20)), not an event or an illness (母 入院, 母 骨折, 父 脳梗塞 (R6/2/10)).
        if value.endswith(tuple(_DATED_EVENTS)):
            return False
        word = value.split()[-1]
        probe = tokenizer.morphemes(word + "さん")
        one = bool(probe) and probe[0].surface == word
        if all("\u3041" <= c <= "\u30fc" for c in word):
            # Kana: a name unless the dictionary reads it as one common noun (母 がん（…）).
            return not (one and probe[0].pos2 == "普通名詞")
        if one and probe[0].pos3 == "人名":
            return True
        # A plain noun (緑, 凛) before a date of the Shōwa or Heisei era or of the 1900s is a
        # given name and its birth date; before a recent one, an illness (母 肺炎（R6/2/10）).
        recent = _RECENT_DATE_RE.match(match.string, match.end(group))
        return one and probe[0].pos3 == "一般" and not recent
    return True


# A household listed after its label, each member with an age or a school year in brackets
# (世帯:大和田 そうた(小3)、タカシ(3)); a relation in the same place is kept (妻(45歳)).
HOUSEHOLD_RE = re.compile(r"(?:世帯|家族|同居家族|世帯員)(?:構成)?\s?:[^\n]*")
HOUSEHOLD_MEMBER_RE = re.compile(
    r"(?<=[:,、 ])(?P<name>[\u4e00-\u9fff\u3005\u30a1-\u30fa\u30fc\u3041-\u3096]{1,6}"
    r"(?: [\u4e00-\u9fff\u3005\u30a1-\u30fa\u30fc\u3041-\u3096]{1,6})?)"
    r"\((?:小|中|高)?\s?[0-9]{1,2}\s?(?:歳|才|年生)?\s?\)"
)
RELATION_WORD_RE = re.compile(_RELATION + r"|本人|相談者|世帯主|子|子ども|子供")


def aged_name(match: re.Match[str]) -> bool:
    """Whether a match of :data:`NAME_BEFORE_AGE_RE` is a name: not a relation (母 45歳), a
    person noun, a title or an office before the given name (相談員 山田 45歳, whose 山田 the
    names rule finds)."""
    surname = match.group("surname")
    return not (
        any(RELATION_WORD_RE.fullmatch(part) for part in match.group("name").split())
        or surname in masking_words().person
        or surname[-1] in TITLE_OR_OFFICE_ENDS
    )
