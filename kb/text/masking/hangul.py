"""Korean names written in Hangul, for :mod:`kb.text.masking.names`."""

from __future__ import annotations

import re

from kb.text.masking.context import NameContext

# A Korean name in Hangul: two to four syllables standing alone.
HANGUL_NAME_RE = re.compile("(?<![\uac00-\ud7a3])[\uac00-\ud7a3]{2,4}(?![\uac00-\ud7a3])")
_HANGUL_HONORIFIC_RE = re.compile("[ \u3000]?(?:님|씨|さん|様|さま|氏|殿|くん|ちゃん)")


def hangul_name_spans(context: NameContext, honorific_only: bool) -> list[tuple[int, int]]:
    """Korean names in Hangul before an honorific (김민준 님, 김민준さん) or after a person noun
    (申請者 김민준). A Korean sentence has particles and longer words around its names; only
    a run of two to four syllables standing alone counts."""
    spans: list[tuple[int, int]] = []
    for match in HANGUL_NAME_RE.finditer(context.text):
        start, end = match.span()
        honored = bool(_HANGUL_HONORIFIC_RE.match(context.text, end))
        if honored or (not honorific_only and context.person_before(start)):
            spans.append((start, end))
    return spans
