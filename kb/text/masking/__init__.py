"""Masking of personal data in free text: case records at ingest, queries before any log.

Counsellors write down, and citizens say, phone numbers, e-mail addresses, My Numbers (個人番号),
insurance and pension numbers, addresses, dates of birth and names. None of it may reach the
store, the index, a log or a screen. :class:`Masker` replaces each with a placeholder and leaves
the rest of the text exactly as written (full-width characters, line breaks); matching runs on a
folded view of the text (NFKC, kanji numerals 〇一二…九 as digits, every dash as ``-``), so
full-width digits and kanji numerals (〇九〇ー一二三四ー五六七八) are caught like ``090-1234-5678``.

Rules, in order (each sees the output of the previous ones):

1. e-mail addresses → ``[メール]`` (addresses under a public domain such as ``lg.jp`` are kept);
2. ID numbers introduced by their label (マイナンバー, 個人番号, 被保険者証の記号・番号,
   基礎年金番号, 運転免許証, 口座番号, 受給者番号...) → the label is kept, the number
   becomes ``[番号]`` (``[個人番号]`` for My Number);
3. dates of birth: a date after 生年月日/誕生日, or before 生まれ/生 → ``[生年月日]``;
4. postal addresses: ``〒123-4567`` and blocks such as 中央町3丁目4番5号, 中央町三丁目4-5,
   12番地の3 with the town name before them → ``[住所]`` (the prefecture and city are kept);
5. phone numbers: digit runs of 10-11 digits starting with 0, ``+81`` numbers, and shorter
   numbers after 電話/TEL/携帯/FAX → ``[電話番号]``, except the public numbers given in
   ``keep_phones`` (the department directory); any other run of 10-12 digits → ``[個人番号]``
   (12 digits) or ``[番号]``;
6. names: tokens MeCab tags 固有名詞・人名, and proper nouns, unknown words and katakana words
   directly followed by 様/さん/氏/くん/ちゃん/殿 → ``[氏名]``, except inside ``keep_words``
   (department names, the city's place names) or before a place/organization suffix (市, 町,
   駅, 課...).

The rules are applied until the text no longer changes, so masking is idempotent.

Modules: :mod:`~kb.text.masking.masker` (the :class:`Masker` and its rules),
:mod:`~kb.text.masking.patterns` (the folded view and the regular expressions) and
:mod:`~kb.text.masking.names` (person-name detection on MeCab's tags).
"""

from __future__ import annotations

from kb.text.masking.masker import (
    ADDRESS,
    BIRTH_DATE,
    DEFAULT_PUBLIC_EMAIL_DOMAINS,
    EMAIL,
    FULL,
    ID_NUMBER,
    MY_NUMBER,
    NAME,
    PHONE,
    PLACEHOLDERS,
    PUBLISHED,
    Masker,
    MaskProfile,
    mask_personal,
    phone_numbers,
    strip_placeholders,
)
from kb.text.masking.names import person_name_spans

__all__ = [
    "ADDRESS",
    "BIRTH_DATE",
    "DEFAULT_PUBLIC_EMAIL_DOMAINS",
    "EMAIL",
    "FULL",
    "ID_NUMBER",
    "MY_NUMBER",
    "NAME",
    "PHONE",
    "PLACEHOLDERS",
    "PUBLISHED",
    "MaskProfile",
    "Masker",
    "mask_personal",
    "person_name_spans",
    "phone_numbers",
    "strip_placeholders",
]
