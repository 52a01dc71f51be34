"""Is a query Japanese? The lexical index only understands Japanese; other languages are
answered by the multilingual dense model alone.

Script-based, no model: kana means Japanese; Hangul, or simplified Chinese characters that
Japanese does not use, mean not Japanese; text with no CJK at all (English, Vietnamese,
Portuguese...) is not Japanese either. Kanji-only text without simplified forms (「児童手当
申請」) is taken as Japanese, which is the safe default for a Japanese city hall.
"""

from __future__ import annotations

import re

_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Simplified Chinese characters and Chinese function words absent from Japanese writing.
_CHINESE_ONLY = frozenset(
    "们这么吗呢怎样个办还没给让对说请问里时会过为从现开关门号间长东车电书买卖钱证补贴疗险养儿岁"
    "习费读应该谁哪儿吧啊哦呀么们边务员报们级选举设备离婚丢垃圾扔搬家单亲残疾护照签证缴纳"
)


def is_japanese(text: str) -> bool:
    """Whether ``text`` should be searched as Japanese (lexically and densely)."""
    if _KANA.search(text):
        return True
    if _HANGUL.search(text):
        return False
    if any(ch in _CHINESE_ONLY for ch in text):
        return False
    return bool(_CJK.search(text))
