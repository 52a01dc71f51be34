"""Given names after a relation and の that MeCab reads as common words (母の和子は).

A rule of :func:`kb.text.masking.names.person_name_spans` with a trigger of its own: a person
noun of ``masking_words.tsv`` and の before kanji or hiragana. The word is a name when UniDic
reads it as one before さん, where it reads 年金, おむつ and 学校 as the common nouns they are.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kb.text.masking.context import NameContext, is_person
from kb.text.masking.words import masking_words


def has_relation_name(text: str) -> bool:
    """Whether ``text`` has a person noun and の before kanji or hiragana (the cheap test)."""
    return bool(_relation_name_re().search(text))


@lru_cache(maxsize=1)
def _relation_name_re() -> re.Pattern[str]:
    """A person noun and の before kanji or hiragana: where a record may name a relative
    (母の和子は, 長女のさくらが)."""
    person = masking_words().person
    words = "|".join(re.escape(w) for w in sorted(person, key=len, reverse=True))
    return re.compile(rf"(?:{words})の(?=[\u4e00-\u9fff々\u3041-\u3096])")


_KANJI_NAME_RE = re.compile("[\u4e00-\u9fff々]{2,3}")
_HIRAGANA_NAME_RE = re.compile("[\u3041-\u3096]{2,4}")
_AFTER_RELATION_NAME_RE = re.compile("[はがをともにへ、。\uff0c\uff0e,（(]|から|より|$")


def relation_given_name_spans(context: NameContext) -> list[tuple[int, int]]:
    """Given names MeCab reads as common words after a relation and の (母の和子は: 和子 as a
    word; 長女のさくらが: さくら as 桜).

    The word must be one morpheme of two or three kanji or two to four hiragana, before a
    particle or a stop; a plain common noun (not a formal noun such as ため, とき, 所, which
    MeCab tags 副詞可能, nor a verbal noun such as 介護); and one that UniDic reads as a given
    name before an honorific: 和子さん, さくらさん and ゆうきさん are names there, while 年金さん,
    おむつさん and 学校さん stay common nouns. A name the dictionary does not know as one
    (あかり, つばさ) is missed.
    """
    spans: list[tuple[int, int]] = []
    index = {start: k for k, start in enumerate(context.starts)}
    for match in _relation_name_re().finditer(context.text):
        k = index.get(match.end())
        if k is None:
            continue
        word = context.words[k]
        start, end = context.starts[k], context.end(k)
        if (
            (word.pos1, word.pos2, word.pos3) != ("名詞", "普通名詞", "一般")
            or not (
                _KANJI_NAME_RE.fullmatch(word.surface) or _HIRAGANA_NAME_RE.fullmatch(word.surface)
            )
            or not _AFTER_RELATION_NAME_RE.match(context.text, end)
        ):
            continue
        probe = context.tokenizer.morphemes(word.surface + "さん")
        if len(probe) >= 2 and probe[0].surface == word.surface and is_person(probe[0]):
            spans.append((start, end))
    return spans
