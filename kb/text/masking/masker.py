"""The :class:`Masker`: the masking rules of :mod:`kb.text.masking`, applied in order.

Each rule runs its patterns (:mod:`kb.text.masking.patterns`) on the folded view of the text
and edits the original text at the matching spans; names come from
:func:`kb.text.masking.names.person_name_spans`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable

from kb.text.masking.accounts import (
    HANDLE_RE,
    PROFILE_PATH_RE,
    SNS_GAP_LABEL_RE,
    SNS_LABEL_RE,
    SNS_URL_RE,
    spelled_at_is_address,
)
from kb.text.masking.cells import labelled_cell_edits
from kb.text.masking.edits import (
    apply_edits,
    display_order,
    full_width_view,
    merged_spans,
    occurrences,
)
from kb.text.masking.fold import FORMAT_CHAR_RE, fold
from kb.text.masking.kana import bracketed_reading, reading_before
from kb.text.masking.labelled import (
    labelled_name_re,
    labelled_name_spans,
    surname_before_mask_spans,
)
from kb.text.masking.names import person_name_spans
from kb.text.masking.patterns import (
    ADDRESS_KEEP_RE,
    ADDRESS_LABEL_RE,
    ADDRESS_RE,
    BANK_ACCOUNT_RE,
    BARE_TOWN_RE,
    BIRTH_AFTER_RE,
    BIRTH_BEFORE_RE,
    BRACKETED_BIRTH_RE,
    CARD_RE,
    CHOME_LANDMARK_RE,
    CITY_DISTRICT_RE,
    DIGIT_RUN_RE,
    EMAIL_RE,
    ID_LABEL_RE,
    ID_UNIT_AFTER_RE,
    IPV4_RE,
    KIGOU_RE,
    MY_NUMBER_LABELS,
    OLD_FULL_DATE_RE,
    PHONE_NO_RE,
    PLATE_RE,
    POSTAL_RE,
    REFERENCE_AFTER_RE,
    REFERENCE_END,
    RESIDENCE_CARD_RE,
    ROOM_RE,
    TOWN_END,
)
from kb.text.masking.phones import digits_of, luhn, number_edits, spoken_number_edits
from kb.text.masking.placeholders import (
    ACCOUNT,
    ADDRESS,
    BIRTH_DATE,
    EMAIL,
    ID_NUMBER,
    MY_NUMBER,
    NAME,
    PLACEHOLDERS,
)
from kb.text.masking.profiles import (
    DEFAULT_PUBLIC_EMAIL_DOMAINS,
    FULL,
    MaskProfile,
    column_placeholders,
)
from kb.text.masking.records import (
    ACCOUNT_HOLDER_RE,
    BANK_RE,
    HOUSEHOLD_MEMBER_RE,
    HOUSEHOLD_RE,
    NAME_BEFORE_AGE_RE,
    RELATION_NAME_RE,
    RELATION_WORD_RE,
    aged_name,
    relation_name_ok,
)
from kb.text.masking.table import column_edits
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize

_HALF_WIDTH_KANA_RE = re.compile("[\uff66-\uff9f]")
# One kanji numeral after a town-like word is the end of a given name (中村浩二, 健一); a lot
# number in kanji numerals has more than one (字中島四五六, 大字飯塚九一一).
_KANJI_NUMERAL_RE = re.compile("[〇一二三四五六七八九十]")

_TIME_BEFORE_PLACE_RE = re.compile("(?:[来先今翌]月|[来先今]週|[本明昨今先後当翌]日|月[末初]|年内)")


class Masker:
    """Replaces personal data in text with placeholders (see :mod:`kb.text.masking`).

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
        self.keep_phones = frozenset(d for d in (digits_of(normalize(p)) for p in keep_phones) if d)
        self.keep_words = tuple(sorted({w for w in keep_words if w}, key=len, reverse=True))
        self.public_email_domains = tuple(d.lower().lstrip(".") for d in public_email_domains)

    def mask(self, text: str, profile: MaskProfile = FULL) -> str:
        """``text`` with personal data replaced; everything else as written (as shown).

        Args:
            text: Any text.
            profile: Which rules apply (:data:`FULL` by default).

        Returns:
            The masked text. Masking it again returns it unchanged.
        """
        out = display_order(text)
        for _ in range(4):
            masked = self._mask_once(out, profile)
            if masked == out:
                break
            out = masked
        return out

    def _mask_once(self, text: str, profile: MaskProfile) -> str:
        rules: list[Callable[[str], str]] = [lambda t: self._columns(t, profile)]
        if profile.emails:
            rules.append(self._emails)
        if profile.accounts:
            rules.append(self._accounts)
        if profile.ids:
            rules.append(self._ids)
        if profile.birth_dates:
            rules.append(lambda t: self._birth_dates(t, old_dates=profile.old_full_dates))
        if profile.addresses:
            rules.append(self._addresses)
        if profile.phones:
            rules.append(lambda t: self._phones(t, mobile_only=profile.mobile_phones_only))
        out = text
        for rule in rules:
            out = rule(out)
        if profile.names:
            if not profile.honorific_names_only:
                out = self._record_names(out)
            out = self._names(out, honorific_only=profile.honorific_names_only)
            if not profile.honorific_names_only:
                # 四月一日 [氏名]: the surname beside a given name that the rules found alone.
                spans = surname_before_mask_spans(self.tokenizer, out)
                out = apply_edits(out, [(start, end, NAME) for start, end in spans])
        return out

    # --- rules --------------------------------------------------------------------------

    @staticmethod
    def _replace(
        text: str,
        pattern: re.Pattern[str],
        repl: Callable[[re.Match[str]], list[tuple[int, int, str]]],
    ) -> str:
        """Run ``pattern`` on the folded view; ``repl`` gives folded spans to replace."""
        folded = fold(text)
        edits: list[tuple[int, int, str]] = []
        for match in pattern.finditer(folded.text):
            for start, end, placeholder in repl(match):
                if end > start:
                    o_start, o_end = folded.span(start, end)
                    edits.append((o_start, o_end, placeholder))
        return apply_edits(text, edits)

    @staticmethod
    def _columns(text: str, profile: MaskProfile) -> str:
        """Cells under a personal-data header (:mod:`.table`; :mod:`.cells` in records only)."""
        allowed = column_placeholders(profile)
        cells = labelled_cell_edits(text, allowed) if profile.addresses else []
        return apply_edits(text, column_edits(text, allowed) + cells)

    def _emails(self, text: str) -> str:
        def repl(m: re.Match[str]) -> list[tuple[int, int, str]]:
            domain = m.group(1).lower()
            if not spelled_at_is_address(m):
                return []  # "look at example.com"
            if any(domain == d or domain.endswith("." + d) for d in self.public_email_domains):
                return []
            return [(m.start(), m.end(), EMAIL)]

        return self._replace(text, EMAIL_RE, repl)

    def _accounts(self, text: str) -> str:
        def handle(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [(m.start(), m.end(), ACCOUNT)]

        def labelled(m: re.Match[str]) -> list[tuple[int, int, str]]:
            value, gap = m.group("value"), m.group("gap")
            # "LINE Pay" is a product: an id needs a label (ID, アカウント, :) or a digit, _ or .
            if not SNS_GAP_LABEL_RE.search(gap) and not re.search(r"[0-9_.]", value):
                return []
            if ("で" in gap or m.group("label") == "エックス") and not re.search("[A-Za-z]", value):
                return []  # LINEで 10時に, エックス 2024: a time or a year, not an id
            return [(m.start("value"), m.end("value"), ACCOUNT)]

        def profile(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [(m.start("value"), m.end("value"), ACCOUNT)]

        if _SNS_HOST_HINT_RE.search(fold(text).text):  # most texts have none: skip the scan
            text = self._replace(text, SNS_URL_RE, profile)
        if "://" in text:
            text = self._replace(text, PROFILE_PATH_RE, profile)
        text = self._replace(text, HANDLE_RE, handle)
        return self._replace(text, SNS_LABEL_RE, labelled)

    def _ids(self, text: str) -> str:
        def labelled(m: re.Match[str]) -> list[tuple[int, int, str]]:
            value = m.group("value")
            if len(digits_of(value)) < 4 or ID_UNIT_AFTER_RE.match(m.string, m.end("value")):
                return []
            placeholder = MY_NUMBER if m.group("label") in MY_NUMBER_LABELS else ID_NUMBER
            return [(m.start("value"), m.end("value"), placeholder)]

        def kigou(m: re.Match[str]) -> list[tuple[int, int, str]]:
            out = []
            if digits_of(m.group("value")):
                out.append((m.start("value"), m.end("value"), ID_NUMBER))
            if m.group("value2"):
                out.append((m.start("value2"), m.end("value2"), ID_NUMBER))
            return out

        def bank(m: re.Match[str]) -> list[tuple[int, int, str]]:
            if not 6 <= len(digits_of(m.group("value"))) <= 8:
                return []
            return [(m.start("value"), m.end("value"), ID_NUMBER)]

        def whole(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [(m.start(), m.end(), ID_NUMBER)]

        def plate(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [(m.start("value"), m.end("value"), ID_NUMBER)]

        text = self._replace(text, ID_LABEL_RE, labelled)
        text = self._replace(text, KIGOU_RE, kigou)
        text = self._replace(text, BANK_RE, bank)

        def card(m: re.Match[str]) -> list[tuple[int, int, str]]:
            if not luhn(digits_of(m.group("value"))):
                return []
            return [(m.start("value"), m.end("value"), ID_NUMBER)]

        def account(m: re.Match[str]) -> list[tuple[int, int, str]]:
            group = "yucho" if m.group("yucho") else "account"
            return [(m.start(group), m.end(group), ID_NUMBER)]

        def ip(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [(m.start("value"), m.end("value"), ID_NUMBER)]

        text = self._replace(text, CARD_RE, card)
        text = self._replace(text, BANK_ACCOUNT_RE, account)
        if _DOTTED_DIGITS_RE.search(fold(text).text):
            text = self._replace(text, IPV4_RE, ip)
        text = self._replace(text, RESIDENCE_CARD_RE, whole)
        return self._replace(text, PLATE_RE, plate)

    def _birth_dates(self, text: str, *, old_dates: bool) -> str:
        def value(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [(m.start("value"), m.end("value"), BIRTH_DATE)]

        def labelled(m: re.Match[str]) -> list[tuple[int, int, str]]:
            if "\n" in m.group("gap") and _cells_beside(m.string, m.start(), m.end("label")):
                # 生年月日 in a header line of a table: the next line's first cell is no birth
                # date (the table rule masks the cells under it).
                return []
            return value(m)

        text = self._replace(text, BIRTH_BEFORE_RE, labelled)
        if "生" in text or "うまれ" in text:  # what BIRTH_AFTER_RE looks ahead for
            text = self._replace(text, BIRTH_AFTER_RE, value)
        text = self._replace(text, BRACKETED_BIRTH_RE, value)
        if old_dates:
            text = self._replace(text, OLD_FULL_DATE_RE, value)
        return text

    def _addresses(self, text: str) -> str:
        def postal(m: re.Match[str]) -> list[tuple[int, int, str]]:
            # 〒309-1234 goes whole; after 郵便番号 the number only (郵便番号：[住所]).
            return [(m.start("value") if m.group("value") else m.start(), m.end(), ADDRESS)]

        def block(m: re.Match[str]) -> list[tuple[int, int, str]]:
            place = m.group("place")
            if m.group("dash") and not self._dash_block(m, place):
                return []
            if m.group("no") and (
                not place
                or place[-1] in REFERENCE_END
                or REFERENCE_AFTER_RE.match(m.string, m.end("no"))
            ):
                return []  # 第3の2の1項: a reference, not a block
            bare = m.group("bare")
            if bare and not (
                (BARE_TOWN_RE.search(place) or (len(bare) >= 2 and CITY_DISTRICT_RE.search(place)))
                and not REFERENCE_AFTER_RE.match(m.string, m.end())
                and not _KANJI_NUMERAL_RE.fullmatch(text, *folded.span(*m.span("bare")))
            ):
                # 真壁町飯塚911 and 大字山田123, but not 第3回 or 令和6年度, nor a given name
                # ending in a kanji numeral after a surname with 村 (中村浩二, folded 中村浩2).
                return []
            if m.group(0).endswith("丁目") and CHOME_LANDMARK_RE.match(m.string, m.end()):
                return []  # 本町三丁目交差点付近: a place to meet, not where someone lives
            keep = ADDRESS_KEEP_RE.match(place)
            start = m.start() + (keep.end() if keep else 0)
            # 来月本町1-2-3へ転居: a time word before the town is not part of the address.
            when = _TIME_BEFORE_PLACE_RE.match(m.string, start, m.end("place"))
            start = when.end() if when else start
            if start == m.end("place"):
                start = m.end("space")  # the town is kept (or absent): not the space after it
            return [(start, m.end(), ADDRESS)]

        def labelled(m: re.Match[str]) -> list[tuple[int, int, str]]:
            value = m.group("value")
            if ADDRESS in value and not re.sub(r"\[住所\]|\s", "", value).strip("0123456789-"):
                return []
            keep = ADDRESS_KEEP_RE.match(value)
            start = m.start("value") + (keep.end() if keep else 0)
            return [(start, m.end("value"), ADDRESS)]

        text = self._replace(text, POSTAL_RE, postal)
        folded = fold(text)  # the view ADDRESS_RE runs on (cached)
        text = self._replace(text, ADDRESS_RE, block)
        text = self._replace(text, ROOM_RE, postal)
        return self._replace(text, ADDRESS_LABEL_RE, labelled)

    def _dash_block(self, m: re.Match[str], place: str) -> bool:
        """Whether a number such as 2-3-4 or 123-4 after ``place`` is a block of an address.

        It is not after a document or counter word (様式3-1, 会議室3-2, 第12-3条) or before a
        unit (3-4年生, 9-17時); a two-part number needs a town before it (字中島456-7, but
        マニュアル5-1, 要介護1-2).
        """
        if not place or place[-1] in REFERENCE_END:
            return False
        if REFERENCE_AFTER_RE.match(m.string, m.end("dash")):
            return False
        if m.group("dash").count("-") >= 2:
            return True
        if place[-1] in TOWN_END or "字" in place or BARE_TOWN_RE.search(place):
            return True  # 中央町, 字中島, and a district after its town (真壁町真壁123-4)
        words = self.tokenizer.morphemes(place)
        return bool(words) and words[-1].pos3 == "地名"

    def _phones(self, text: str, *, mobile_only: bool) -> str:
        def repl(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return number_edits(
                m.string, m.start(), m.end(), keep=self.keep_phones, mobile_only=mobile_only
            )

        def spoken(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return spoken_number_edits(m, keep=self.keep_phones, mobile_only=mobile_only)

        text = self._replace(text, PHONE_NO_RE, spoken)
        return self._replace(text, DIGIT_RUN_RE, repl)

    def _record_names(self, text: str) -> str:
        """Names in the places records write them (:mod:`kb.text.masking.records`): an
        account's holder, a relative's name before a date of birth or an age, the members of a
        household list."""

        def named(m: re.Match[str]) -> list[tuple[int, int, str]]:
            group = next(g for g in ("named", "held", "spaced", "glued") if m.groupdict().get(g))
            if not relation_name_ok(m, group, self.tokenizer):
                return []
            return [(m.start(group), m.end(group), NAME)]

        def aged(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [(m.start("name"), m.end("name"), NAME)] if aged_name(m) else []

        def members(m: re.Match[str]) -> list[tuple[int, int, str]]:
            return [
                (member.start("name"), member.end("name"), NAME)
                for member in HOUSEHOLD_MEMBER_RE.finditer(m.string, m.start(), m.end())
                if not RELATION_WORD_RE.fullmatch(member.group("name"))
            ]

        text = self._replace(text, ACCOUNT_HOLDER_RE, named)
        text = self._replace(text, HOUSEHOLD_RE, members)
        text = self._replace(text, NAME_BEFORE_AGE_RE, aged)
        labelled = [
            span
            for m in labelled_name_re().finditer(text)
            for span in labelled_name_spans(self.tokenizer, m)
        ]
        text = apply_edits(text, [(start, end, NAME) for start, end in labelled])
        return self._replace(text, RELATION_NAME_RE, named)

    def _names(self, text: str, *, honorific_only: bool) -> str:
        view, starts, ends = text, None, None
        if _HALF_WIDTH_KANA_RE.search(text) or FORMAT_CHAR_RE.search(text):
            # ﾔﾏﾀﾞ ﾀﾛｳ, 山<ZWSP>田: MeCab reads a full-width view without invisible format
            # characters; its spans map back.
            view, starts, ends = full_width_view(text)

        def in_text(span: tuple[int, int]) -> tuple[int, int]:
            if starts is None or ends is None:
                return span
            return starts[span[0]], ends[span[1] - 1]

        found = person_name_spans(self.tokenizer, view, honorific_only=honorific_only)
        if not found:
            return text
        spans = [in_text(span) for span in found]
        kept = merged_spans(occurrences(text, self.keep_words) + occurrences(text, PLACEHOLDERS))
        kept_ends = [k_end for _, k_end in kept]
        edits = []
        for (v_start, v_end), (start, end) in zip(found, spans, strict=True):
            # The first kept stretch that ends after the span starts is the only one to check.
            k = bisect_right(kept_ends, start)
            if k == len(kept) or kept[k][0] >= end:
                edits.append((start, end, NAME))
                # 山田太郎（やまだたろう）: the furigana after a name is the name too.
                # やまだたろう（山田太郎）, WANG FANG（王芳）: or before it, the name in brackets.
                for reading in (
                    bracketed_reading(self.tokenizer, view, v_start, v_end),
                    reading_before(self.tokenizer, view, v_start, v_end),
                ):
                    if reading is not None:
                        r_start, r_end = in_text(reading)
                        if not any(s < r_end and r_start < e for s, e in spans):
                            edits.append((r_start, r_end, NAME))
        return apply_edits(text, edits)


# Cheap tests before the scans that most texts fail: a host of a profile address, digits with
# a dot between them (on the folded view, as the scans: any width).
_SNS_HOST_HINT_RE = re.compile(
    r"(?i:facebook|instagram|x\.com|twitter|tiktok|threads|ameblo|note\.com|youtube|line\.me"
    r"|lin\.ee)"
)
_DOTTED_DIGITS_RE = re.compile(r"[0-9]\.[0-9]")


def _cells_beside(text: str, start: int, end: int) -> bool:
    """Whether the line of ``text[start:end]`` holds other cells (a tab or a comma)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    return any(sep in line for sep in ("\t", ",", "\uff0c", "|"))
