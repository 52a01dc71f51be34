"""Surnames for :mod:`kb.text.masking.names`: where a name before an honorific starts, and a
rare surname the dictionary reads as a common word (纐纈様)."""

from __future__ import annotations

from kb.text.masking.context import NameContext, is_kanji, is_katakana

ROLE_WORDS = frozenset(
    {"担当", "職員", "窓口", "係員", "本人", "家族", "親族", "代理", "通訳", "同席", "宛名", "宛先"}
)
"""Words before a given name that say who, not whose family (担当 美香さん)."""
NOT_SURNAMES = frozenset("市県町村区都府道国課部係局署室院園校社会番")
"""Last characters of an office or a place, never of a surname (市民課, 中央区, 駅前交番)."""
TITLE_ENDS = frozenset("長員任師士官事生者家君")
"""Last characters of a title after a surname (課長, 職員, 主任, 医師, 先生, 担当者)."""
TITLE_OR_OFFICE_ENDS = TITLE_ENDS | NOT_SURNAMES
"""Last characters of a title or an office: a word ending so is no surname (相談員, 市民課)."""


def surname_start(context: NameContext, i: int) -> int:
    """Where a name before an honorific starts, given its first name token ``i``.

    Chinese and Korean names have kanji that UniDic reads as a suffix or a common noun (金 民|俊,
    崔 英|哲): up to two single kanji glued before the name belong to it, and so does one
    lone kanji before a space (the surname of 金 民俊). A relation or role (妻, 兄) is never
    taken, nor the end of a longer word (市民課 佐藤).
    """
    text = context.text
    surname = surname_before(context, i)
    if surname is not None:
        return surname
    k = i
    while (
        i - k < 2
        and k > 0
        and context.end(k - 1) == context.starts[k]
        and _lone_kanji(context, k - 1)
    ):
        k -= 1
    start = context.starts[k]
    if (
        k > 0
        and context.end(k - 1) + 1 == start
        and text[start - 1] in " \u3000"
        and _lone_kanji(context, k - 1)
        and _word_boundary(text, context.starts[k - 1])
    ):
        return context.starts[k - 1]
    if k < i and k > 0 and context.end(k - 1) == start and is_kanji(text[start - 1]):
        return context.starts[i]  # the kanji ended a longer word: 市職員佐藤さん
    return start


def surname_before(context: NameContext, i: int) -> int | None:
    """Where the surname before name token ``i`` starts, when UniDic did not tag it as one.

    A given name (人名・名) glued or one space after a word of one to three kanji: the word
    is its surname, whatever the dictionary made of it: a place (鷺沼久美子様, 所沢 美香様) or
    a common noun (薬袋健吾君, 四十物恵美氏). So is a piece glued before a one-kanji surname
    (間々|田 智子さん). A relation or role (長女 花子さん) and a word ending like an office or a
    place (市民課, 中央区) are not.
    """
    words, text = context.words, context.text
    word = words[i]
    if word.pos4 == "姓" and len(word.surface) == 1:
        k = i - 1  # 間々|田
        glued = k >= 0 and context.end(k) == context.starts[i]
    elif word.pos4 == "名":
        k = i - 1
        glued = k >= 0 and (
            context.end(k) == context.starts[i]
            or (context.end(k) + 1 == context.starts[i] and text[context.end(k)] in " \u3000")
        )
    else:
        return None
    if not glued:
        return None
    before = words[k]
    if (
        1 <= len(before.surface) <= 3
        and all(is_kanji(c) or c == "々" for c in before.surface)
        and (
            word.pos4 == "姓"
            or before.unknown
            or before.pos2 == "固有名詞"
            or (before.pos2 == "普通名詞" and before.pos3 == "一般")  # not 先日, 今回
        )
        and before.surface not in ROLE_WORDS
        and before.pos4 != "名"
        and before.surface[-1] not in NOT_SURNAMES
        and not context.not_name(before)
        and _word_boundary(text, context.starts[k])
    ):
        return context.starts[k]
    return None


def _word_boundary(text: str, pos: int) -> bool:
    """Whether no kanji, katakana, Latin letter or digit is just before ``pos`` (の金, 、李)."""
    if pos == 0:
        return True
    ch = text[pos - 1]
    return not (is_kanji(ch) or is_katakana(ch) or (ch.isalnum() and ch.isascii()))


def _lone_kanji(context: NameContext, k: int) -> bool:
    word = context.words[k]
    return (
        len(word.surface) == 1
        and is_kanji(word.surface)
        and word.pos1 in ("名詞", "接尾辞", "記号")
        and not context.not_name(word)
    )


_FORMAL_HONORIFICS = frozenset({"様", "さま", "殿"})
_WORD_BEFORE_SAMA_ENDS = frozenset(
    "長員任師士官事生者家君先主方手族人子上御様客院校園館所局署課部係室社会店屋市町村区"
)
"""Last characters of the words before 様 that are roles, customers or offices (利用者様,
取引先様, 施主様, 先方様, ご家族様, 母上様, 病院様), not surnames."""


def surname_read_as_word(context: NameContext, i: int) -> bool:
    """Whether word ``i``, a common noun of two or three kanji before 様, さま or 殿 on its own
    (no prefix, no kanji before it), is a rare surname the dictionary reads as a word: 纐纈様
    (tie-dye), 薬袋様 (a medicine bag), 四十物様. So are two such words glued before it, the
    surname and the given name (纐纈源五郎様: 源五郎 is a beetle), each checked alike. Roles and
    customers before 様 end like :data:`_WORD_BEFORE_SAMA_ENDS` or are words of the lists."""
    words = context.words
    if i + 1 < len(words) and words[i + 1].surface in _FORMAL_HONORIFICS:
        return _plain_word(context, i) and (
            _at_boundary(context, i)
            or (  # the given name of a pair (源五郎 in 纐纈源五郎様)
                i > 0
                and context.end(i - 1) == context.starts[i]
                and _plain_word(context, i - 1)
                and _at_boundary(context, i - 1)
            )
        )
    return (
        i + 2 < len(words)
        and words[i + 2].surface in _FORMAL_HONORIFICS
        and context.end(i) == context.starts[i + 1]
        and _plain_word(context, i)
        and _plain_word(context, i + 1)
        and _at_boundary(context, i)
    )


def _plain_word(context: NameContext, i: int) -> bool:
    """A common noun of two or three kanji, not of the lists, not ending like a role."""
    word = context.words[i]
    return (
        (word.pos2, word.pos3) == ("普通名詞", "一般")
        and 2 <= len(word.surface) <= 3
        and all(is_kanji(c) for c in word.surface)
        and word.surface[-1] not in _WORD_BEFORE_SAMA_ENDS
        and not context.not_name(word)
    )


def _at_boundary(context: NameContext, i: int) -> bool:
    """No prefix (お客様) and no kanji (利用者様) just before word ``i``."""
    start = context.starts[i]
    return (i == 0 or context.words[i - 1].pos1 != "接頭辞") and not (
        start > 0 and is_kanji(context.text[start - 1])
    )
