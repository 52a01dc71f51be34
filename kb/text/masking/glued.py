"""Given names that MeCab reads as common words glued after a surname, for
:mod:`kb.text.masking.names`.

A surname tagged 人名・姓 and one or two kanji glued after it, before a particle, a bracket, a
space or the end, are a full name even where the kanji are common words: Chinese and Korean
names (劉|建国, 張|偉, 金|英|洙, 朴成|民) and Japanese given names the tagger cut (蛭子権|三郎。).
Without this rule the tagged surname, glued to a common noun, reads as part of a compound
(日影|規制) and the whole name stays.
"""

from __future__ import annotations

from kb.text.masking.context import NameContext, is_kanji, is_katakana
from kb.text.masking.surnames import TITLE_ENDS

_NOT_GIVEN_ENDS = TITLE_ENDS | frozenset("市県町村区都府道課部係局署室院園校社会宅邸様方殿頭")
"""Last characters of a title (教頭 too), an office, a place or a house: never of a given name
here."""


def glued_given_end(context: NameContext, i: int, j: int, not_given: frozenset[str]) -> int | None:
    """Where the name ends when name tokens ``i..j`` start with a surname and one or two
    kanji that are not name tokens are glued after them; ``None`` when the rule does not apply.

    Args:
        context: The text and its morphemes.
        i: The first name token (tagged 人名・姓).
        j: The last name token of the run.
        not_given: Words never taken as the given name (titles, place suffixes).
    """
    words = context.words
    # A one-kanji surname alone (劉, 張, 金: Chinese and Korean) or a surname and a given name
    # already (蛭子 権): a longer surname alone before a noun is the start of a compound
    # (日影|規制, 中村|地区).
    chinese = i == j and len(words[i].surface) == 1
    if words[i].pos4 != "姓" or not (chinese or (j > i and words[j].pos4 == "名")):
        return None
    k, end = j + 1, context.end(j)
    glued = ""
    while (
        k < len(words)
        and context.starts[k] == end
        and all(is_kanji(c) for c in words[k].surface)
        and len(glued) + len(words[k].surface) <= 2
    ):
        glued += words[k].surface
        end = context.end(k)
        k += 1
    if not glued or (k < len(words) and context.starts[k] == end and _joins(words[k].surface)):
        return None
    if (
        glued in not_given
        or glued[-1] in _NOT_GIVEN_ENDS
        or any(context.not_name(w) for w in words[j + 1 : k])
        or any(w.pos2 == "固有名詞" and w.pos3 in ("地名", "組織") for w in words[j + 1 : k])
    ):
        return None
    return end


def _joins(surface: str) -> bool:
    """Whether a word glued after the kanji continues them (a kanji, katakana or Latin word,
    a digit): then they were the start of a longer word, not a given name."""
    ch = surface[0]
    return is_kanji(ch) or is_katakana(ch) or ch == "々" or (ch.isascii() and ch.isalnum())
