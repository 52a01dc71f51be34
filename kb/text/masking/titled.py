"""A surname before a person's title or 様, or after a role, that the dictionary reads as a
place or a word in its sentence.

UniDic tags a surname by its context: 橋本 is a surname in 橋本さん and a place in 生活安全課
橋本巡査長; 林 is a surname in 林さん and a grove in 福祉課の林主査 and 林様. Records name staff,
police officers, teachers and care managers by surname and title (千葉係長, 山口先生), so a
word glued before a person's title (:data:`PERSON_TITLES`), or one kanji before 様, さま, 殿 or
氏, or right after a role (担当森に, ケアマネの原（…）), is a surname when the dictionary reads it
as one before さん (担当の方 is no one: a formal noun). Words that are places or
things before such a title keep their reading (東京 + 弁護士会: a title must end where the
word does; 神様, 王様 are no one's name).
"""

from __future__ import annotations

import re
from functools import lru_cache

from kb.text.masking.context import NameContext, is_kanji, is_katakana
from kb.text.masking.surnames import TITLE_OR_OFFICE_ENDS
from kb.text.mecab import MeCabTokenizer


def _wide(ascii_word: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in ascii_word)


PERSON_TITLES = tuple(
    sorted(
        {
            *("先生", "係長", "課長", "課長補佐", "部長", "次長", "室長", "所長", "院長", "局長"),
            *("主任", "主査", "主事", "主幹", "参事", "社長", "園長", "校長", "教頭", "教諭"),
            *("師長", "理事長", "会長", "医師", "保健師", "看護師", "相談員", "支援員", "指導員"),
            *("議員", "委員", "巡査", "巡査長", "巡査部長", "警部", "警部補", "弁護士"),
            *("司法書士", "行政書士", "税理士", "社会福祉士", "保育士", "ケアマネ", "ワーカー"),
            *("ケースワーカー", "ソーシャルワーカー", "精神保健福祉士", "介護福祉士"),
            # The desk's and the welfare office's own posts (石井相談支援員が訪問).
            *("相談支援員", "生活支援員", "就労支援員", "自立支援員", "母子自立支援員"),
            *("家庭相談員", "婦人相談員", "女性相談支援員", "生活相談員", "消費生活相談員"),
            *("相談支援専門員", "介護支援専門員", "専門員", "児童福祉司", "児童心理司"),
            *("社会福祉主事", "指導主事", "査察指導員", "家庭児童相談員", "保護司"),
            *("民生委員", "児童委員", "主任児童委員"),
            # Social workers and care managers by their initials, as typed on either keyboard.
            *(f for a in ("SW", "MSW", "PSW", "CSW", "CW", "CM") for f in (a, _wide(a))),
        },
        key=len,
        reverse=True,
    )
)
"""Titles a record writes glued after a person's surname (longest first)."""

ROLES = (
    *("担当", "担任", "ケアマネ", "民生委員", "主治医", "ヘルパー", "相談員", "支援員"),
    *("ワーカー", "保健師", "看護師", "主任", "家主", "大家", "管理人", "後見人"),
    # The staff a note hands over from or to, a teacher by post (前任大塚より, 養護教諭西田).
    *("前任", "後任", "教諭"),
    # Social workers by their initials, before the surname too (SW日向より, ＭＳＷ佐藤から).
    *(f for a in ("CW", "SW", "MSW", "PSW", "CSW") for f in (a, _wide(a))),
)
"""Roles a record names a person by, just before the surname (担当千葉に, ケアマネの原（…）)."""
# Not after は (担当は広島へ出張, 家主は千葉に住む: a place), and not before の (担当の丘の上).
_ROLE_BEFORE_RE = re.compile("(?:" + "|".join(ROLES) + ")(?:ジャー)?(?:の|[:：]|[ \u3000])?$")
_NAME_END_RE = re.compile("[(（)）、。,・ \u3000]|から|より|さん|さま|様|氏|[にがへと]|$")
_FORMAL = frozenset({"様", "さま", "殿", "氏"})
_PREFIX_NOT_SURNAME = frozenset("本全来内")
"""Prefixes read as surnames before さん that before a title mean "this", "all", "coming",
"of which" (職員10名（内保健師3名）)."""
_FORMAL_NOUNS = frozenset("方人者件分皆他外中上下側内東西南北前後間")
_NOT_BEFORE_SAMA = frozenset("神王仏本皆奥殿姫坊貴人客若")
"""One kanji that the dictionary reads as a surname before さん but before 様 is a word (神様,
王様, 仏様)."""


@lru_cache(maxsize=4096)
def reads_as_surname(tokenizer: MeCabTokenizer, word: str) -> bool:
    """Whether UniDic reads ``word`` as a surname before さん (林さん, 橋本さん; not 東京さん)."""
    words = tokenizer.morphemes(word + "さん")
    if not words or words[0].surface != word:
        return False
    return (words[0].pos3, words[0].pos4) == ("人名", "姓")


# An office, a part of it, a space, then the person there, at the end of a cell or before a
# stop (引継ぎ先: 地域包括支援センター南部 関; 社会福祉協議会 竹内、): after a particle the word
# may be a place (福祉課 千葉へ出張).
_OFFICE_BEFORE_RE = re.compile(
    "(?:センター|協議会|事業所|社協|病院|医院|クリニック|支所|課)[\u4e00-\u9fff]{0,4}[ \u3000]$"
)
_OFFICE_NAME_END_RE = re.compile("[(（、。,/・ \u3000\r\n]|$")
_OFFICE_STAFF_RE = re.compile(
    "(?:センター|協議会|事業所|社協|病院|医院|クリニック|支所|課)"
    "(?P<part>(?:[東西南北中]部|中央|第[一二三四五六七八九十0-9]{1,3})?)"
    "[ \u3000](?P<name>[\u4e00-\u9fff々]{2,3})(?=[(（、。,/・ \u3000\r\n]|$)"
)
"""An office, the part of the area it serves (北部, 中央, 第二), a space and a word: the part
names the branch, so the word is the person there (not 支所管内 大野: 管内 is no part)."""


def has_office_staff(text: str) -> bool:
    """The cheap test for :func:`office_staff_spans`."""
    return any(m.group("part") for m in _OFFICE_STAFF_RE.finditer(text))


def office_staff_spans(context: NameContext) -> list[tuple[int, int]]:
    """Surnames of two or three kanji after an office, its part and a space (地域包括支援センター
    北部 竹|内; ... 南部 岡本), which MeCab cuts into words or reads as a place there: the part
    names the branch, so who follows is a person, when the whole reads as a surname before
    さん. Without a part the word after the space is as often the branch itself (地域包括支援
    センター 松原, 環境課 江戸川, 事業所 新田), and one kanji as often a thing (道路課 橋):
    those are left to :func:`role_before`."""
    spans: list[tuple[int, int]] = []
    for match in _OFFICE_STAFF_RE.finditer(context.text):
        name = match.group("name")
        if (
            match.group("part")
            and name[-1] not in TITLE_OR_OFFICE_ENDS
            and reads_as_surname(context.tokenizer, name)
        ):
            spans.append(match.span("name"))
    return spans


def role_before(context: NameContext, i: int) -> bool:
    """Whether word ``i`` follows a role (担当, 担任, ケアマネ, 民生委員...) and ends before a
    particle, a bracket or a stop: 担当宮本に, ケアマネの原（緑ヶ丘…）, 民生委員池田（; or an
    office and a space, and ends the cell or a clause (地域包括支援センター南部 関)."""
    start, text = context.starts[i], context.text
    end = context.end(i)
    if _ROLE_BEFORE_RE.search(text, max(0, start - 8), start):
        # Or a title after it (担任岩崎先生).
        return bool(_NAME_END_RE.match(text, end)) or title_after(context, i)
    # Not a word read as a place there (学校教育課 長浜、: the branch in 長浜).
    return bool(
        context.words[i].pos3 != "地名"
        and _OFFICE_BEFORE_RE.search(text, max(0, start - 16), start)
        and _OFFICE_NAME_END_RE.match(text, end)
    )


def title_after(context: NameContext, j: int) -> bool:
    """Whether a person's title is glued after word ``j`` and ends where a word does (林|主査（,
    橋本|巡査長が; not 東京|弁護士会)."""
    text, end = context.text, context.end(j)
    for title in PERSON_TITLES:
        if text.startswith(title, end):
            after = text[end + len(title) : end + len(title) + 1]
            return not after or not (is_kanji(after) or is_katakana(after))
    return False


def titled_surname(context: NameContext, i: int) -> bool:
    """Whether word ``i``, of one to three kanji and read as a place or a word here, is a
    surname: after a role (:func:`role_before`), or, not glued to a kanji or a prefix before
    it (生活安全課橋本, お客様), glued before a person's title or one kanji before 様, さま, 殿
    or 氏."""
    words, text = context.words, context.text
    word = words[i]
    surface = word.surface
    # 原|係長: one kanji MeCab reads as a prefix before a title (元, 前, 副 are no surnames).
    prefix = (
        word.pos1 == "接頭辞" and surface not in _PREFIX_NOT_SURNAME and title_after(context, i)
    )
    if (
        (word.pos1 not in ("名詞", "接尾辞") and not prefix)  # 福祉課 林|主査: a suffix
        or not 1 <= len(surface) <= 3
        or not all(is_kanji(c) for c in surface)
        or surface[-1] in TITLE_OR_OFFICE_ENDS
        or context.not_name(word)
    ):
        return False
    start = context.starts[i]
    if role_before(context, i):
        # 担当の方, 担任の皆: a formal noun after a role is no surname, whatever さん makes it;
        # after の a place is a place (担当の宮城への出張, 家主の長崎への転居).
        formal = word.pos3 in ("副詞可能", "助数詞可能") or surface in _FORMAL_NOUNS
        # (Not before a title: 担任の山口先生 is a person.)
        place = (
            word.pos3 == "地名" and text[start - 1 : start] == "の" and not title_after(context, i)
        )
        return not formal and not place and reads_as_surname(context.tokenizer, surface)
    if start > 0 and (is_kanji(text[start - 1]) or is_katakana(text[start - 1])):
        return False
    if i > 0 and words[i - 1].pos1 == "接頭辞" and context.end(i - 1) == start:
        return False
    if title_after(context, i):
        return reads_as_surname(context.tokenizer, surface)
    nxt = words[i + 1].surface if i + 1 < len(words) else ""
    return (
        nxt in _FORMAL
        and context.end(i) == context.starts[i + 1]
        and len(surface) == 1
        and surface not in _NOT_BEFORE_SAMA
        and reads_as_surname(context.tokenizer, surface)
    )
