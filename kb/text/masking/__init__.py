"""Masking of personal data in free text: case records at ingest, queries before any log.

Counsellors write down, and citizens say, phone numbers, e-mail addresses, SNS accounts, My
Numbers (個人番号), insurance, pension and bank account numbers, licence plates, addresses, dates
of birth and names. None of it may reach the
store, the index, a log or a screen. :class:`Masker` replaces each with a placeholder and leaves
the rest of the text exactly as written (full-width characters, line breaks); matching runs on a
folded view of the text (NFKC, kanji numerals 〇一二…九 as digits, every dash as ``-``), so
full-width digits and kanji numerals (〇九〇ー一二三四ー五六七八) are caught like ``090-1234-5678``.

Rules, in order (each sees the output of the previous ones):

0. the cells of a pasted table under a personal-data header (氏名, フリガナ, 生年月日, 住所,
   マイナンバー, 被保険者番号...; a header has two such labels or more): the whole cell
   becomes the column's placeholder, whatever it holds (:mod:`~kb.text.masking.table`);
1. e-mail addresses, also written ``taro[at]example.com`` → ``[メール]`` (addresses under a
   public domain such as ``lg.jp`` are kept);
2. SNS and messaging ids: ``@handles`` and ids after a service's name (``LINE ID: taro_1234``,
   ``インスタ: hikari.photo``) → ``[アカウント]``;
3. ID numbers introduced by their label (マイナンバー, 個人番号, 被保険者証の記号・番号,
   基礎年金番号, 運転免許証, 在留カード, 障害者手帳, 口座番号, 受給者番号, ナンバー...) → the
   label is kept, the number becomes ``[番号]`` (``[個人番号]`` for My Number); so do bank
   accounts after 普通/当座/口座 (``普通 1234567``), residence card numbers (``AB12345678CD``)
   and licence plates (``品川 500 さ 12-34``, the region kept);
4. dates of birth: a date (or a month and day) after 生年月日/誕生日, or a date before
   生まれ/生 → ``[生年月日]``;
5. postal addresses: ``〒123-4567`` and blocks such as 中央町3丁目4番5号, 中央町三丁目4-5,
   12番地の3, 北3条西4丁目5-6 with the town name before them → ``[住所]`` (the prefecture,
   city and ward are kept); a number such as 3-1 after a document or counter word (様式3-1,
   会議室3-2, 第12-3条) or before a unit (3-4年生) is a reference, not a block, and a
   two-part number needs a town before it (字中島456-7, but 要介護1-2);
6. phone numbers: digit runs of 10-11 digits starting with 0 (also read aloud with の:
   〇七〇の九八七六の五四三二), ``+81`` numbers, and shorter numbers after
   電話/TEL/携帯/FAX → ``[電話番号]``, except the public numbers given in ``keep_phones``
   (the department directory), free dial and navi dial numbers (0120, 0570) and a landline
   right after an office's name (福祉課 0296-55-1234), when written with separators; any
   other run of 10 digits or more (a date and a time aside) → ``[個人番号]`` (12 digits) or
   ``[番号]``. A run holding several numbers (``090-1234-5678 / 080-1111-2222``, a date
   before a number) is split where spaces, slashes or parentheses separate them;
7. names (:mod:`~kb.text.masking.names`): tokens MeCab tags 固有名詞・人名, proper nouns and
   unknown words before 様/さん/氏/くん/ちゃん/殿, foreign names in katakana groups
   (マリア・サントス), given names in kana before an honorific or after a person noun
   (はるとくん, 相談者のきよし) and names in Latin letters (Taro Yamada, NGUYEN THI LAN after
   氏名/申請者 or before さん) → ``[氏名]``, except inside ``keep_words`` (department names,
   the city's place names). Common nouns before an honorific are roles, trades and pets
   (ケアマネジャーさん, 大家さん, ワンちゃん), and a surname that is also a landform needs
   something that shows it is a person (小川の妻, but 小川の水位).

The rules are applied until the text no longer changes, so masking is idempotent.

Modules: :mod:`~kb.text.masking.masker` (the :class:`Masker` and its rules),
:mod:`~kb.text.masking.profiles` (which rules apply to records and to published text),
:mod:`~kb.text.masking.edits` (placeholders written into the text),
:mod:`~kb.text.masking.patterns` (the folded view and the regular expressions),
:mod:`~kb.text.masking.phones` (which runs of digits are phone or ID numbers),
:mod:`~kb.text.masking.placeholders`, :mod:`~kb.text.masking.table` (pasted tables),
:mod:`~kb.text.masking.names` (person names on MeCab's tags), with
:mod:`~kb.text.masking.kana` (katakana groups, names in kana),
:mod:`~kb.text.masking.latin` (names in Latin letters), :mod:`~kb.text.masking.context`
(what the name rules share) and :mod:`~kb.text.masking.words` (the few word lists, read from
the package's ``data/masking_words.tsv``).
"""

from __future__ import annotations

from kb.text.masking.edits import strip_placeholders
from kb.text.masking.masker import Masker
from kb.text.masking.names import person_name_spans
from kb.text.masking.phones import phone_numbers
from kb.text.masking.placeholders import (
    ACCOUNT,
    ADDRESS,
    BIRTH_DATE,
    EMAIL,
    ID_NUMBER,
    MY_NUMBER,
    NAME,
    PHONE,
    PLACEHOLDERS,
)
from kb.text.masking.profiles import (
    DEFAULT_PUBLIC_EMAIL_DOMAINS,
    EDITED,
    FULL,
    PUBLISHED,
    MaskProfile,
)
from kb.text.masking.queries import mask_personal

__all__ = [
    "ACCOUNT",
    "ADDRESS",
    "BIRTH_DATE",
    "DEFAULT_PUBLIC_EMAIL_DOMAINS",
    "EDITED",
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
