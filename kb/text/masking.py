"""Masking of personal data in free text, before a query is written to any log.

Counsellors type what citizens say, and citizens say their phone number, e-mail address, My
Number (個人番号, 12 digits) or name. The query log must keep none of it, so every logged query
goes through :func:`mask_personal` first. The text is normalized (NFKC: full-width digits,
at signs and hyphens become ASCII) before matching, so a phone number typed in full-width
digits is caught like ``090-1234-5678``; the masked text is the normalized text with
placeholders.

Rules, in order:

* e-mail addresses → ``[メール]``;
* digit runs (with ``-``, spaces or parentheses between digits): 12 digits → ``[個人番号]``;
  10-11 digits starting with ``0``, or ``+81`` numbers → ``[電話番号]``; shorter runs (dates,
  postal codes, amounts) are kept;
* names: tokens MeCab tags 固有名詞・人名, and proper nouns or unknown words directly followed
  by 様 / さん / 氏 (see :func:`kb.text.mecab.person_name_spans`) → ``[氏名]``.
"""

from __future__ import annotations

import re

from kb.text.mecab import MeCabTokenizer, person_name_spans
from kb.text.normalize import normalize

EMAIL = "[メール]"
PHONE = "[電話番号]"
MY_NUMBER = "[個人番号]"
NAME = "[氏名]"

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# A run that starts and ends with a digit and holds only digits and phone separators.
_DIGITS_RE = re.compile(r"(?<![0-9])(?:\+\s?)?\(?[0-9][0-9\- ()]{7,}[0-9](?![0-9])")


def _digit_run(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = re.sub(r"\D", "", run)
    if len(digits) == 12 and not run.lstrip("(").startswith("+"):
        return MY_NUMBER
    if run.startswith("+") and digits.startswith("81") and 11 <= len(digits) <= 12:
        return PHONE
    if digits.startswith("0") and 10 <= len(digits) <= 11:
        return PHONE
    return run


def mask_personal(text: str, tokenizer: MeCabTokenizer | None = None) -> str:
    """Normalize ``text`` and replace personal data with placeholders.

    Args:
        text: A query as typed (any width, any script).
        tokenizer: MeCab tokenizer for name detection; a new one if omitted.

    Returns:
        The normalized text with e-mail addresses, phone numbers, My Numbers and detectable
        names replaced by ``[メール]``, ``[電話番号]``, ``[個人番号]`` and ``[氏名]``.
    """
    out = normalize(text)
    out = _EMAIL_RE.sub(EMAIL, out)
    out = _DIGITS_RE.sub(_digit_run, out)
    spans = person_name_spans(tokenizer or MeCabTokenizer(), out)
    for start, end in reversed(spans):
        out = out[:start] + NAME + out[end:]
    return out
