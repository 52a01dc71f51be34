"""A query as the logs keep it: normalized, every rule applied, and a whole query that is a
person's full name (三浦 源五郎) kept as ``[氏名]`` (the query log, the audit log, briefs).
"""

from __future__ import annotations

import re

from kb.text.masking.masker import Masker
from kb.text.masking.placeholders import NAME
from kb.text.masking.relatives import plausible_given
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize


def mask_personal(text: str, tokenizer: MeCabTokenizer | None = None) -> str:
    """Normalize ``text`` and replace personal data with placeholders (every rule).

    Used for queries before they are logged; ingest uses :class:`Masker` directly so that
    stored text keeps its original form.

    Args:
        text: A query as typed (any width, any script).
        tokenizer: MeCab tokenizer for name detection; a new one if omitted.

    Returns:
        The normalized text with e-mail addresses, SNS accounts, phone numbers, ID numbers,
        addresses, dates of birth and detectable names replaced by ``[メール]``,
        ``[アカウント]``, ``[電話番号]``, ``[個人番号]``, ``[番号]``, ``[住所]``, ``[生年月日]``
        and ``[氏名]``.
    """
    masker = Masker(tokenizer)
    # As typed first: normalization folds Latin letters to lower case, and capitals are what
    # tell a name in Latin letters ("Taro Yamada", "NGUYEN THI LAN") from other words. Then
    # the normalized text, for what only its folded form shows.
    masked = masker.mask(normalize(masker.mask(text)))
    return NAME if name_query(masker.tokenizer, masked) else masked


_NAME_QUERY_RE = re.compile(
    "(?P<surname>[\u4e00-\u9fff々]{1,4}|\\[氏名\\])[ \u3000]"
    "(?P<given>[\u4e00-\u9fff々]{1,3}|[\u3041-\u3096]{2,4}|[\u30a1-\u30fa]{2,4})"
)


def name_query(tokenizer: MeCabTokenizer, query: str) -> bool:
    """Whether a whole query is a person's full name, surname and given name with a space
    between (三浦 源五郎, 高橋 トメ, 山田 さくら): a staff member looking someone up. The surname
    must be tagged one by UniDic (not a place: 千葉 ごみ, 本町 図書館), the given name read as
    one (:func:`~kb.text.masking.relatives.plausible_given`; not 桜井 ひまわり). The query
    log and the audit keep ``[氏名]`` instead: a name typed alone would otherwise sit there
    beside the cases it found."""
    match = _NAME_QUERY_RE.fullmatch(query.strip())
    if match is None:
        return False
    given = match["given"]
    if match["surname"] != NAME:
        surname = tokenizer.morphemes(match["surname"])
        if len(surname) != 1 or not (surname[0].pos3 == "人名" and surname[0].pos4 != "名"):
            return False
    return plausible_given(tokenizer, given)
