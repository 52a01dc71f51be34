"""A surname after 旧姓 (maiden name), whatever MeCab tags it: 吉川 reads as a place in 旧姓 吉川,
金子 as a word in 旧姓 金子）. A rule of :func:`kb.text.masking.names.person_name_spans`
(records only: published text needs an honorific).
"""

from __future__ import annotations

import re

from kb.text.masking.context import NameContext
from kb.text.masking.foreign import common_word


def maiden_name_spans(context: NameContext) -> list[tuple[int, int]]:
    """The surname after each 旧姓 of the text; 旧姓は不明 is no surname, and a common word is
    one only where something closes it (旧姓 金子）, 旧姓岸、)."""
    text = context.text
    return [
        m.span("name")
        for m in _MAIDEN_RE.finditer(text)
        if not common_word(context, *m.span("name"))
        or (
            _MAIDEN_END_RE.match(text, m.end())
            and m["name"] not in _NO_SURNAME
            and m["name"] not in context.lists.not_name
        )
    ]


# After 旧姓 comes a surname, whatever MeCab tags it (吉川 reads as a place in 旧姓 吉川).
_MAIDEN_RE = re.compile(
    # Glued, a kanji or katakana surname only (旧姓松田; 旧姓のまま is no name).
    "旧姓(?:[ \u3000:：は（(]+|(?=[\u4e00-\u9fff々\u30a1-\u30fa]))"
    "(?P<name>[\u4e00-\u9fff々]{1,4}|[\u30a1-\u30fa\u30fc]{2,8}|[\u3041-\u3096]{2,8})"
)
_NO_SURNAME = frozenset(
    {"不明", "無し", "なし", "ナシ", "未記入", "未確認", "同上", "同じ", "使用", "併記", "通称"}
)
"""What records write after 旧姓 instead of one (旧姓は不明、旧姓 併記)."""
# What closes the surname after 旧姓 when it is also a common word (旧姓 金子）, 旧姓岸、).
_MAIDEN_END_RE = re.compile("[ \u3000]?(?:[）)、,。・]|$)")
