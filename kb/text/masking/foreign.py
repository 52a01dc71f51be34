"""Names from abroad that the dictionary cannot tag, for :mod:`kb.text.masking.names`.

* Chinese and Korean names in kanji with a space (申請者 金 民俊, 妻 李 娜);
* Chinese names in simplified characters (同居人の陈静が, 申請者 张伟): a short run of kanji
  holding a character that Japanese text never uses (in neither CP932 nor JIS X 0213), after
  a person noun or before 様, さん or の件;
* Korean names in Hangul (:mod:`kb.text.masking.hangul`), also before の件 and the like
  (雇用主から김민준の件で).
"""

from __future__ import annotations

import re
from functools import lru_cache

from kb.text.masking.context import NameContext, is_kanji
from kb.text.masking.hangul import HANGUL_NAME_RE, hangul_name_spans
from kb.text.masking.surnames import NOT_SURNAMES

# One or two kanji, a space, one or two kanji: a Chinese or Korean name as records write it
# (申請者 金 民俊, 妻 李 娜（リ ナ）), standing alone before a particle, a bracket or the end.
SPACED_KANJI_NAME_RE = re.compile(
    "(?<![\u4e00-\u9fff々])[\u4e00-\u9fff]{1,2}[ \u3000][\u4e00-\u9fff]{1,2}"
    "(?![\u4e00-\u9fff々])(?=[ \u3000]?(?:[（(、。,]|[のはがをにとも]|$|さん|様|氏|殿))"
)

_HONORIFIC_NEXT_RE = re.compile("[ \u3000]?(?:さん|様|さま|氏|殿)")


def common_word(context: NameContext, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is one word MeCab knows as a common noun (併記, 市民)."""
    words = context.overlapping(start, end)
    return end - start >= 2 and len(words) == 1 and words[0].pos2 == "普通名詞"


def spaced_kanji_name_spans(context: NameContext, honorific_only: bool) -> list[tuple[int, int]]:
    """Chinese and Korean names after a person noun or before an honorific (see
    :data:`SPACED_KANJI_NAME_RE`; published text: before an honorific only).

    MeCab reads their kanji as common nouns and suffixes (金 民|俊), so the tags cannot find
    them; the person noun before (申請者, 妻) or the honorific after, and the shape do. A part
    that is a person noun itself (妻 母) or a word of the lists is not a name, and a two-kanji
    surname needs a given name MeCab does not know as a common noun (母 介護 stays).
    """
    spans: list[tuple[int, int]] = []
    lists = context.lists
    for match in SPACED_KANJI_NAME_RE.finditer(context.text):
        start, end = match.span()
        honored = bool(_HONORIFIC_NEXT_RE.match(context.text, end))
        if not honored and (honorific_only or not context.person_before(start)):
            continue
        parts = match.group(0).split()
        if any(p in lists.person or p in lists.not_name or p in lists.after for p in parts):
            continue
        if len(parts[0]) == 1:
            # 王 秀英さん, 相談者 陳 建国: one kanji, a space and a given name is a Chinese or
            # Korean name even where MeCab knows the given name as a word (建国), unless the
            # kanji is a place or an office (市 職員さん).
            if parts[0] not in NOT_SURNAMES:
                spans.append((start, end))
            continue
        pos, common = start, False
        for part in parts:
            pos = context.text.index(part, pos)
            # A two-kanji word MeCab knows as a common noun (市民, 介護) is no given name.
            common = common or common_word(context, pos, pos + len(part))
            pos += len(part)
        if not common:
            spans.append((start, end))
    return spans


_HAN = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f々"
_KANA_RE = re.compile("[\u3041-\u3096\u30a1-\u30fa]")
_HAN_RUN_RE = re.compile(f"(?<![{_HAN}])[{_HAN}]{{2,8}}(?![{_HAN}])")
"""A run of kanji: a name of two to four, perhaps after a person noun glued to it."""


@lru_cache(maxsize=8192)
def _not_japanese(char: str) -> bool:
    """Whether ``char`` is a kanji Japanese text does not use (simplified Chinese: 陈, 张, 伟):
    in neither CP932 nor JIS X 0213 (which has the 常用漢字 forms 剝, 頰, 塡 and 𠮟)."""
    for codec in ("cp932", "shift_jis_2004"):
        try:
            char.encode(codec)
        except UnicodeEncodeError:
            continue
        return False
    return True


def has_foreign_name(text: str) -> bool:
    """The cheap test: whether ``text`` may hold a name of this module."""
    return bool(
        SPACED_KANJI_NAME_RE.search(text)
        or HANGUL_NAME_RE.search(text)
        or any(ord(c) >= 0x3400 and _not_japanese(c) for c in text)
    )


def foreign_name_spans(context: NameContext, honorific_only: bool) -> list[tuple[int, int]]:
    """Every name of this module in ``context``'s text (published text: before an honorific
    only, as elsewhere).

    A run in simplified characters or in Hangul is as often a word (谢谢, 户口本, 简体中文,
    한국어のパンフレット) as a name, so, without an honorific, it needs what marks a person in a
    Japanese sentence: a person noun just before it (申請者 张伟, 同居人の陈静が, 同居人陈静が:
    the noun is not part of the name) or one of the nouns that make 姓の a person after it
    (雇用主から김민준の件で, 陈静の携帯)."""
    spans = spaced_kanji_name_spans(context, honorific_only)
    spans += hangul_name_spans(context, honorific_only)
    if honorific_only:
        return spans
    text = context.text
    # In a sentence in Chinese (想让孩子上保育园) a "person noun" (子) is Chinese too: there the
    # noun must be set apart by a space or a colon (申請者 张伟).
    japanese = bool(_KANA_RE.search(text))
    for match in _HAN_RUN_RE.finditer(text):
        start, end = match.span()
        if not any(_not_japanese(c) for c in match.group(0)):
            continue
        # A person noun glued before the name (同居人陈静, 妻王丽) starts it later.
        first = next(
            (
                p
                for p in range(start, end - 1)
                if context.person_before(p) and (japanese or not is_kanji(text[p - 1]))
            ),
            None,
        )
        if first is not None and 2 <= end - first <= 4:
            if any(_not_japanese(c) for c in text[first:end]):
                spans.append((first, end))
        elif end - start <= 4 and (
            _person_after(context, end) or _HONORIFIC_NEXT_RE.match(text, end)
        ):
            spans.append((start, end))
    for match in HANGUL_NAME_RE.finditer(text):
        if _person_after(context, match.end()):
            spans.append(match.span())
    return spans


def _person_after(context: NameContext, end: int) -> bool:
    """Whether の and a noun that makes 姓の a person follow ``end`` (…の件, …の携帯)."""
    if not context.text.startswith("の", end):
        return False
    after = context.overlapping(end + 1, end + 2)
    return bool(after) and (
        after[0].surface in context.lists.after or after[0].lemma in context.lists.after
    )
