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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from kb.text.mecab import MeCabTokenizer, person_name_spans
from kb.text.normalize import normalize

EMAIL = "[メール]"
PHONE = "[電話番号]"
MY_NUMBER = "[個人番号]"
ID_NUMBER = "[番号]"
ADDRESS = "[住所]"
BIRTH_DATE = "[生年月日]"
NAME = "[氏名]"

PLACEHOLDERS = (EMAIL, PHONE, MY_NUMBER, ID_NUMBER, ADDRESS, BIRTH_DATE, NAME)

DEFAULT_PUBLIC_EMAIL_DOMAINS = ("lg.jp", "go.jp")
"""Local and central government domains: addresses there are offices, not people."""

_KANJI_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}
_KANJI_DIGITS["零"] = "0"
_DASH_CHARS = set("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff70\u2500\u2501")

# --- rule patterns (on the folded view) ------------------------------------------------------

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")

_ID_VALUE = r"[0-9A-Za-z](?:[0-9A-Za-z]|[- ](?=[0-9A-Za-z]))*"
_ID_LABELS = (
    "マイナンバー",
    "個人番号",
    "基礎年金番号",
    "年金番号",
    "年金手帳番号",
    "被保険者番号",
    "被保険者証番号",
    "保険者番号",
    "保険証番号",
    "受給者番号",
    "受給者証番号",
    "受給資格者番号",
    "口座番号",
    "免許証番号",
    "運転免許証番号",
    "運転免許証",
    "免許証",
    "住民票コード",
    "手帳番号",
    "在留カード番号",
    "パスポート番号",
    "旅券番号",
    "証書番号",
    "記号番号",
    "顧客番号",
    "お客様番号",
    "契約番号",
)
_ID_LABEL_RE = re.compile(
    r"(?P<label>" + "|".join(sorted(_ID_LABELS, key=len, reverse=True)) + r")"
    r"(?P<gap>(?:\s|[:#は第]|の|no\.?|番号|普通|当座|預金|\(普通\)|\(当座\))*)"
    r"(?P<value>" + _ID_VALUE + r")",
    re.IGNORECASE,
)
# 健康保険証「記号 1234 番号 56」: the two parts are labelled separately.
_KIGOU_RE = re.compile(
    r"(?P<label>記号)(?P<gap>\s*[:]?\s*)(?P<value>[0-9A-Za-z]+(?:-[0-9A-Za-z]+)*)"
    r"(?:(?P<label2>\s*(?:、|,)?\s*番号)(?P<gap2>\s*[:]?\s*)(?P<value2>[0-9]+(?:-[0-9]+)*))?"
)
_MY_NUMBER_LABELS = ("マイナンバー", "個人番号")

_ERA = r"(?:明治|大正|昭和|平成|令和|[MTSHR]\.?)\s*(?:[0-9十]{1,3}|元)"
_YEAR = rf"(?:{_ERA}|[0-9]{{4}}|[0-9]{{2}}(?=\s*年))"
_DATE = (
    rf"{_YEAR}\s*(?:年(?:\s*[0-9]{{1,2}}\s*月(?:\s*[0-9]{{1,2}}\s*日)?)?"
    rf"|[./-]\s*[0-9]{{1,2}}\s*[./-]\s*[0-9]{{1,2}})"
)
_BIRTH_BEFORE_RE = re.compile(
    rf"(?P<label>生年月日|誕生日|出生日|生年)(?P<gap>\s*(?:[:は]|が|の)?\s*)(?P<value>{_DATE})"
)
_BIRTH_AFTER_RE = re.compile(rf"(?P<value>{_DATE})(?=\s*(?:生まれ|うまれ|生(?![活徒産])))")

_KANJI = r"一-龥々〆ヶ"
_NUM = r"[0-9十]+"
_BLOCK = (
    rf"(?:{_NUM}丁目(?:\s*{_NUM}番地?(?:\s*{_NUM}号)?|\s*[0-9]+(?:-[0-9]+){{0,2}})?"
    rf"|{_NUM}番地(?:の{_NUM})?(?:\s*{_NUM}号)?"
    rf"|{_NUM}番{_NUM}号"
    rf"|(?<=[{_KANJI}ァ-ヶ])(?!0)[0-9]{{1,4}}-[0-9]{{1,4}}(?:-[0-9]{{1,4}})?(?![0-9-]))"
    r"(?:\s*[ァ-ヶー一-龥A-Za-z]{0,12}\s*[0-9]+号室)?"
)
_ADDRESS_RE = re.compile(rf"(?P<place>[{_KANJI}ァ-ヶー]{{0,20}}){_BLOCK}")
# What stays of the place name: prefecture, city/county and ward are not personal.
_ADDRESS_KEEP_RE = re.compile(
    rf"^(?:[{_KANJI}]{{2,3}}?(?:都|道|府|県))?(?:[{_KANJI}ァ-ヶー]{{1,6}}?(?:市|郡))?"
    rf"(?:[{_KANJI}ァ-ヶー]{{1,5}}?区)?"
)
_POSTAL_RE = re.compile(r"〒\s*[0-9]{3}\s*-?\s*[0-9]{4}")
_ADDRESS_LABEL_RE = re.compile(
    r"(?P<label>(?:現住所|住所|居所|転居先|転入先)(?:は|:|:)\s*)"
    r"(?P<value>[^。、,\n()]*?[0-9][^。、,\n()]*?)(?=[。、,\n(]|$)"
)

_SEP = r"[- ()・./]"
_DIGIT_RUN_RE = re.compile(
    rf"(?<![0-9])(?:\+\s?)?\(?[0-9](?:[0-9]|{_SEP}{{1,3}}(?=[0-9(]))*[0-9]\)?"
)
_PHONE_LABEL_RE = re.compile(
    r"(?:電話|tel|携帯|ケータイ|自宅|fax|ファックス|ファクス|連絡先)(?:番号)?"
    r"(?:\s|[:は]|が|の|\(携帯\)|\(自宅\))*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Folded:
    """The folded view of a text and, for each of its characters, the original offset."""

    text: str
    origin: tuple[int, ...] | None
    """``None`` when every character folds to one character (the offsets are the same)."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of folded ``[start, end)``."""
        if self.origin is None:
            return start, end
        o_start = self.origin[start]
        o_end = self.origin[end - 1] + 1 if end > start else o_start
        return o_start, o_end


def _fold_char(ch: str) -> str:
    """What one character folds to; ー and ｰ are settled by :func:`_fold` (they need context)."""
    if ch in _KANJI_DIGITS:
        return _KANJI_DIGITS[ch]
    if ch in _DASH_CHARS:
        return "ー" if ch in "\u30fc\uff70" else "-"
    out = unicodedata.normalize("NFKC", ch)
    if out in ("\uff5e", "\u301c"):
        out = "~"
    if any(c in _DASH_CHARS for c in out):
        out = "".join("-" if c in _DASH_CHARS else c for c in out)
    return out or " "


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each new character once, then looks it up."""

    def __missing__(self, code: int) -> str:
        out = _fold_char(chr(code))
        self[code] = out
        return out


_FOLD_TABLE = _FoldTable()
# ー and ｰ (both translated to ー) are a long vowel after katakana, elsewhere a dash.
_DASH_VOWEL_RE = re.compile("(?<![\u30a1-\u30fc])ー+")


@lru_cache(maxsize=256)
def _fold(text: str) -> _Folded:
    # Cached: most rules leave a text unchanged, so the next rule folds the same text again.
    # str.translate folds character by character in C; only a text with a character that
    # folds to several (㈱ → (株)) needs the offsets mapped one by one.
    folded = text.translate(_FOLD_TABLE)
    if "ー" in folded:
        folded = _DASH_VOWEL_RE.sub(lambda m: "-" * len(m.group(0)), folded)
    if len(folded) == len(text):
        return _Folded(folded, None)
    origin: list[int] = []
    for i, ch in enumerate(text):
        origin.extend([i] * len(_FOLD_TABLE[ord(ch)]))
    return _Folded(folded, tuple(origin))


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


@dataclass(frozen=True)
class MaskProfile:
    """Which rules apply: cases get all of them; published text (FAQ, manuals) a few."""

    emails: bool = True
    ids: bool = True
    birth_dates: bool = True
    addresses: bool = True
    phones: bool = True
    mobile_phones_only: bool = False
    """Mask only mobile numbers (060/070/080/090): landlines in FAQ are offices."""
    names: bool = True
    honorific_names_only: bool = False
    """Mask only names followed by 様/さん/氏: bare surnames in manuals are authors, places."""


FULL = MaskProfile()
"""Every rule: case records and queries."""
PUBLISHED = MaskProfile(
    emails=False,
    addresses=False,
    mobile_phones_only=True,
    honorific_names_only=True,
)
"""FAQ entries and manuals, written for publication: their phone numbers, e-mail addresses and
addresses are offices'. Only ID numbers, dates of birth, mobile numbers and names with an
honorific (a private person's data pasted in by mistake) are masked."""

_MOBILE_RE = re.compile(r"^0[6789]0")


class Masker:
    """Replaces personal data in text with placeholders (see the module docstring).

    Args:
        tokenizer: MeCab tokenizer for names; a new one if omitted.
        keep_phones: Public phone numbers (any format) never masked: the department directory.
        keep_words: Words never masked as names: department names, the city's place names.
        public_email_domains: E-mail addresses under these domains are kept.
    """

    def __init__(
        self,
        tokenizer: MeCabTokenizer | None = None,
        *,
        keep_phones: Iterable[str] = (),
        keep_words: Iterable[str] = (),
        public_email_domains: Iterable[str] = DEFAULT_PUBLIC_EMAIL_DOMAINS,
    ) -> None:
        self.tokenizer = tokenizer or MeCabTokenizer()
        self.keep_phones = frozenset(d for d in (_digits(normalize(p)) for p in keep_phones) if d)
        self.keep_words = tuple(sorted({w for w in keep_words if w}, key=len, reverse=True))
        self.public_email_domains = tuple(d.lower().lstrip(".") for d in public_email_domains)

    def mask(self, text: str, profile: MaskProfile = FULL) -> str:
        """``text`` with personal data replaced; everything else as written.

        Args:
            text: Any text.
            profile: Which rules apply (:data:`FULL` by default).

        Returns:
            The masked text. Masking it again returns it unchanged.
        """
        out = text
        for _ in range(4):
            masked = self._mask_once(out, profile)
            if masked == out:
                break
            out = masked
        return out

    def _mask_once(self, text: str, profile: MaskProfile) -> str:
        rules: list[Callable[[str], str]] = []
        if profile.emails:
            rules.append(self._emails)
        if profile.ids:
            rules.append(self._ids)
        if profile.birth_dates:
            rules.append(self._birth_dates)
        if profile.addresses:
            rules.append(self._addresses)
        if profile.phones:
            rules.append(lambda t: self._phones(t, mobile_only=profile.mobile_phones_only))
        out = text
        for rule in rules:
            out = rule(out)
        if profile.names:
            out = self._names(out, honorific_only=profile.honorific_names_only)
        return out

    # --- rules --------------------------------------------------------------------------

    @staticmethod
    def _replace(
        text: str,
        pattern: re.Pattern[str],
        repl: Callable[[re.Match[str]], list[tuple[int, int, str]]],
    ) -> str:
        """Run ``pattern`` on the folded view; ``repl`` gives folded spans to replace."""
        folded = _fold(text)
        edits: list[tuple[int, int, str]] = []
        for match in pattern.finditer(folded.text):
            for start, end, placeholder in repl(match):
                if end > start:
                    o_start, o_end = folded.span(start, end)
                    edits.append((o_start, o_end, placeholder))
        return _apply(text, edits)

    def _emails(self, text: str) -> str:
        def repl(m: re.Match[str]) -> list[tuple[int, int, str]]:
            domain = m.group(1).lower()
            if any(domain == d or domain.endswith("." + d) for d in self.public_email_domains):
                return []
            return [(m.start(), m.end(), EMAIL)]

        return self._replace(text, _EMAIL_RE, repl)

    def _ids(self, text: str) -> str:
        def labelled(m: re.Match[str]) -> list[tuple[int, int, str]]:
            value = m.group("value")
            if len(_digits(value)) < 4:
                return []
            placeholder = MY_NUMBER if m.group("label") in _MY_NUMBER_LABELS else ID_NUMBER
            return [(m.start("value"), m.end("value"), placeholder)]

        def kigou(m: re.Match[str]) -> list[tuple[int, int, str]]:
            out = []
            if _digits(m.group("value")):
                out.append((m.start("value"), m.end("value"), ID_NUMBER))
            if m.group("value2"):
                out.append((m.start("value2"), m.end("value2"), ID_NUMBER))
            return out

        text = self._replace(text, _ID_LABEL_RE, labelled)
        return self._replace(text, _KIGOU_RE, kigou)

    def _birth_dates(self, text: str) -> str:
        def value(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [(m.start("value"), m.end("value"), BIRTH_DATE)]

        text = self._replace(text, _BIRTH_BEFORE_RE, value)
        return self._replace(text, _BIRTH_AFTER_RE, value)

    def _addresses(self, text: str) -> str:
        def postal(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [(m.start(), m.end(), ADDRESS)]

        def block(m: re.Match[str]) -> list[tuple[int, int, str]]:
            keep = _ADDRESS_KEEP_RE.match(m.group("place"))
            start = m.start() + (keep.end() if keep else 0)
            return [(start, m.end(), ADDRESS)]

        def labelled(m: re.Match[str]) -> list[tuple[int, int, str]]:
            value = m.group("value")
            if ADDRESS in value and not re.sub(r"\[住所\]|\s", "", value).strip("0123456789-"):
                return []
            keep = _ADDRESS_KEEP_RE.match(value)
            start = m.start("value") + (keep.end() if keep else 0)
            return [(start, m.end("value"), ADDRESS)]

        text = self._replace(text, _POSTAL_RE, postal)
        text = self._replace(text, _ADDRESS_RE, block)
        return self._replace(text, _ADDRESS_LABEL_RE, labelled)

    def _phones(self, text: str, *, mobile_only: bool) -> str:
        def repl(m: re.Match[str]) -> list[tuple[int, int, str]]:
            run = m.group(0)
            # Parentheses only count when they wrap an area code: "(099)555-1101".
            start, end = m.start(), m.end()
            while run.startswith(("(", " ")) and ")" not in run[1:5]:
                run, start = run[1:], start + 1
            while run.endswith((")", " ")) and "(" not in run[-6:-1]:
                run, end = run[:-1], end - 1
            digits = _digits(run)
            if not digits:
                return []
            international = run.lstrip("(").startswith("+")
            if international and digits.startswith("81"):
                digits = "0" + digits[2:]
            if digits in self.keep_phones:
                return []
            before = m.string[max(0, start - 16) : start]
            labelled = bool(_PHONE_LABEL_RE.search(before)) and len(digits) >= 6
            phone = labelled or (digits.startswith("0") and 10 <= len(digits) <= 11)
            if international and 10 <= len(digits) <= 11:
                phone = True
            if phone:
                if mobile_only and not _MOBILE_RE.match(digits):
                    return []
                return [(start, end, PHONE)]
            if mobile_only or not 10 <= len(digits) <= 12:
                return []
            # No 10-12 digit run survives: My Number, pension and licence numbers look alike.
            return [(start, end, MY_NUMBER if len(digits) == 12 else ID_NUMBER)]

        return self._replace(text, _DIGIT_RUN_RE, repl)

    def _names(self, text: str, *, honorific_only: bool) -> str:
        spans = person_name_spans(self.tokenizer, text, honorific_only=honorific_only)
        if not spans:
            return text
        kept = _occurrences(text, self.keep_words) + _occurrences(text, PLACEHOLDERS)
        edits = [
            (start, end, NAME)
            for start, end in spans
            if not any(k_start < end and start < k_end for k_start, k_end in kept)
        ]
        return _apply(text, edits)


def _occurrences(text: str, words: Iterable[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for word in words:
        start = text.find(word)
        while start >= 0:
            out.append((start, start + len(word)))
            start = text.find(word, start + 1)
    return out


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping spans (the first of overlapping ones wins)."""
    if not edits:
        return text
    edits.sort(key=lambda e: (e[0], -e[1]))
    parts: list[str] = []
    pos = 0
    for start, end, placeholder in edits:
        if start < pos:
            continue
        parts.append(text[pos:start])
        # Adjacent identical placeholders merge, so re-masking cannot grow the text.
        if not (parts and "".join(parts).endswith(placeholder) and not text[pos:start]):
            parts.append(placeholder)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def phone_numbers(text: str) -> list[str]:
    """The landline and free-dial numbers in ``text`` (digits only; mobile numbers excluded).

    Used to learn the public numbers a city prints in its published FAQ (代表電話, 夜間窓口),
    which are then kept when case records mention them.
    """
    found: list[str] = []
    for match in _DIGIT_RUN_RE.finditer(_fold(text).text):
        digits = _digits(match.group(0))
        if digits.startswith("0") and 10 <= len(digits) <= 11 and not _MOBILE_RE.match(digits):
            found.append(digits)
    return found


_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


def strip_placeholders(text: str) -> str:
    """``text`` with the masking placeholders blanked out (for the lexical index)."""
    return _PLACEHOLDER_RE.sub(" ", text)


def mask_personal(text: str, tokenizer: MeCabTokenizer | None = None) -> str:
    """Normalize ``text`` and replace personal data with placeholders (every rule).

    Used for queries before they are logged; ingest uses :class:`Masker` directly so that
    stored text keeps its original form.

    Args:
        text: A query as typed (any width, any script).
        tokenizer: MeCab tokenizer for name detection; a new one if omitted.

    Returns:
        The normalized text with e-mail addresses, phone numbers, ID numbers, addresses, dates
        of birth and detectable names replaced by ``[メール]``, ``[電話番号]``, ``[個人番号]``,
        ``[番号]``, ``[住所]``, ``[生年月日]`` and ``[氏名]``.
    """
    return Masker(tokenizer).mask(normalize(text))
