"""Names a record labels (氏名：…, 【相談者】…) and surnames left beside a masked given name.

The tagger cannot read a rare surname (纐纈, 四十物, 一尺八寸), a surname that is a word (平和) or a
name in Latin letters without context; the record's own label can. And where a rule found the
given name only (月見里 [氏名]さん: 健 is a name to UniDic, 月見里 is not; 纐纈 [氏名]様), the word
of kanji or kana one space before it is its surname.

Both rules read the text as written (the folded view would turn 源五郎 into 源5郎 and 【氏名】
into kb's own placeholder [氏名]) and are used by :class:`kb.text.masking.Masker` for records
(not for published text, whose names need an honorific).
"""

from __future__ import annotations

import re
from functools import lru_cache

from kb.text.given_names import kana_given_names
from kb.text.masking.context import is_kanji, is_katakana
from kb.text.masking.placeholders import NAME
from kb.text.masking.relatives import plausible_given
from kb.text.masking.surnames import NOT_SURNAMES, ROLE_WORDS, TITLE_OR_OFFICE_ENDS
from kb.text.masking.table import COLUMN_LABELS, HEADER_WORDS
from kb.text.masking.titled import PERSON_TITLES, ROLES, reads_as_surname
from kb.text.masking.words import masking_words
from kb.text.mecab import MeCabTokenizer, Morpheme

_SPACE_LABELS = ("氏名", "名前", "お名前")
"""Labels that a name follows after a plain space too (氏名 纐纈 源五郎): the others
(相談者 来所) need a colon or a bracket."""
_SPACE = "[ \u3000]"
_JAPANESE = "[\u4e00-\u9fff\u3005\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb]{1,12}"
_LATIN = "[A-Za-z\uff21-\uff3a\uff41-\uff5a\u00c0-\u024f\u1e00-\u1eff'-]{1,16}"
_VALUE = rf"(?P<japanese>{_JAPANESE}(?:{_SPACE}{_JAPANESE})?)|{_LATIN}(?:,?{_SPACE}{_LATIN}){{0,4}}"
"""A name: one or two words of kanji and kana (纐纈 源五郎), or up to five Latin words, the
family name first with a comma after it as a passport writes it (DELA CRUZ, JUAN MIGUEL)."""
_NAME_WORD = "(?:[\u4e00-\u9fff\u3005\u30a1-\u30fa\u30fc]{1,5}|[\u3041-\u3096]{2,5})"
"""A word of a full name after a label and a space: one hiragana is a particle (住人 五月女 が)."""
_READING_AFTER_RE = re.compile("[（(][\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb \u3000]{2,24}[）)]")
_NOT_VALUES = frozenset({"本名", "通称", "旧姓", "愛称", "フルネーム"})
_MORE_LABELS = frozenset({"担当", "担当職員", "記入者", "受付者", "対応者", "緊急連絡先"})
"""Labels of the staff member who wrote or took a record (担当：纐纈 源五郎), and of the
person to call (緊急連絡先 百目鬼 さくら（090-…）)."""
_NOT_A_NAME = frozenset(
    {"不明", "匿名", "なし", "無し", "同上", "同左", "未記入", "記載なし", "非公開", "非開示"}
    | {"未定", "調整中", "未割当", "全員", "各位", "複数", "多数", "不在"}
)
"""What a record writes in a name's place when it has none."""
_NOT_NAME_POS = frozenset({"動詞", "形容詞", "助動詞", "助詞", "副詞", "連体詞", "接続詞"})
"""Parts of speech of a word after a labelled name that is not part of it (来所した)."""


@lru_cache(maxsize=1)
def labelled_name_re() -> re.Pattern[str]:
    """A name label and what ends it, then up to two words of kanji and kana or five Latin
    words: the name.

    The labels are the name columns of :data:`~kb.text.masking.table.COLUMN_LABELS` and the
    person nouns of the word lists (相談者, 依頼人, 相手方, 被害者...), also with a qualifier in
    brackets (氏名（漢字）) or kanji before 氏名 / 名前 (申請者氏名, 被保険者氏名), and 氏 名 spaced
    out. A colon or an equals sign (ASCII or full width), an arrow, a closing bracket,
    an opening quote (氏名「纐纈 源五郎」) or, after 氏名 / 名前, a space or は ends the label; a
    space ends any label before two words of a full name (相談者 纐纈 源五郎).
    """
    lists = masking_words()
    labels = sorted(
        {k for k, v in COLUMN_LABELS.items() if v == NAME and not k.isascii()}
        | {w for w in lists.person if len(w) >= 2}
        | _MORE_LABELS,
        key=len,
        reverse=True,
    )
    joined = "|".join(re.escape(label) for label in labels)
    spaced = "|".join(re.escape(label) for label in _SPACE_LABELS)
    qualifier = "(?:[（(][^（）()]{1,8}[）)])?"
    ends = rf"(?:[】\uff3d]|{_SPACE}?[:：=＝→「]{_SPACE}?)"
    return re.compile(
        # Not after "[": [氏名] is kb's own placeholder.
        rf"(?<![\u4e00-\u9fff\u3005\u30a1-\u30fa\[])"
        rf"(?:(?:{joined}|[\u4e00-\u9fff]{{1,6}}(?:氏名|名前)|氏{_SPACE}名|(?i:name|full ?name))"
        rf"{qualifier}{ends}"
        rf"|(?:{spaced}){qualifier}(?:{_SPACE}|は)"
        # Any label before a full name after a space (相談者 纐纈 源五郎, 申請者 山田 太郎):
        # two words, where 相談者 来所 is one (checked further by _full_name).
        rf"|(?:{joined}){_SPACE}(?={_NAME_WORD}{_SPACE}{_NAME_WORD}(?![\u4e00-\u9fff\u3005\u3041-\u3096\u30a1-\u30fa])))"
        rf"(?P<value>{_VALUE})"
        rf"(?={_SPACE}|[、。,，()（）\[【「」\n\t/]|$|様|さん|さま|殿|宛|くん|ちゃん"
        r"|[0-9\uff10-\uff19])"
    )


_HONORIFICS = ("さん", "さま", "ちゃん", "くん", "様", "殿", "氏")
_CONTACT_LABELS = frozenset({"緊急連絡先"})
_MORE_WORDS_RE = re.compile("[ \u3000]+[\u4e00-\u9fff々\u3041-\u3096\u30a1-\u30fa]")
_DESCRIPTION_ENDS = TITLE_OR_OFFICE_ENDS | frozenset("性")
"""Last characters of words that describe a person after a label and a space (相談者 高齢 女性,
相談者 独居 高齢者), where a name would follow a colon."""


def _after_space(match: re.Match[str]) -> bool:
    """Whether the label before the value ended with a space only and is not one of
    :data:`_SPACE_LABELS` (相談者 纐纈 源五郎, where 名前 ミサキ is a label of a name)."""
    start = match.start("value")
    if match.string[start - 1] not in " \u3000":
        return False
    label = match.string[match.start() : start].rstrip(" \u3000")
    return not label.endswith(_SPACE_LABELS) and not label.endswith(")")


_GROUP_WORDS = frozenset({"夫婦", "親子", "兄弟", "姉妹", "世帯", "家族", "一家", "両親"})
_PLACE_WORDS = frozenset(
    {"市内", "市外", "県内", "県外", "町内", "区内", "都内", "管内", "近隣", "近所", "国外"}
)


def _full_name(tokenizer: MeCabTokenizer, parts: list[str], match: re.Match[str]) -> bool:
    """Whether two words after a label and a space are a full name: its reading follows in
    brackets (相談者 纐纈 源五郎（こうけつ げんごろう）), or the first reads as a surname and the
    second as a given name (申請者 山田 太郎, 相談者 李 明; not 相談者 千葉 出身, 相談者 母子 家庭,
    相談者 市内 在住), and neither describes a person (相談者 高齢 女性)."""
    if len(parts) < 2:
        return False
    label = match.string[match.start() : match.start("value")].strip(" \u3000")
    if (
        label in _CONTACT_LABELS
        and len(parts) == 2
        # 緊急連絡先 職場 あおい 支店: a place of three words, not a surname and a given name.
        and not _MORE_WORDS_RE.match(match.string, match.end("value"))
        and plausible_given(tokenizer, parts[1])
        and not _describes(tokenizer, parts[1:])
        and parts[0][-1] not in _DESCRIPTION_ENDS
        and parts[0] not in _PLACE_WORDS | _GROUP_WORDS | _NOT_A_NAME
    ):
        # 緊急連絡先 百目鬼 さくら: the label names a person, so a word before a given name is
        # its surname however MeCab reads it (百|目|鬼); a relation first (緊急連絡先 長女
        # さくら) is refused before this.
        return True
    if _describes(tokenizer, parts):
        return False
    if _READING_AFTER_RE.match(match.string, match.end("value")):
        return True
    first, second = parts[0], parts[1]
    if any(m.pos3 == "人名" for m in tokenizer.morphemes(first)):
        return True  # 佐々木 心愛: after a surname the dictionary knows, any given name
    return (_named(tokenizer, first) or reads_as_surname(tokenizer, first)) and _named(
        tokenizer, second
    )


def _named(tokenizer: MeCabTokenizer, word: str) -> bool:
    """Katakana (ミサキ, タロウ), or read as a name before さん (太郎さん, 明さん, 山田さん)."""
    if all(is_katakana(c) for c in word):
        return True
    probe = tokenizer.morphemes(word + "さん")
    return bool(probe) and probe[0].surface == word and probe[0].pos3 == "人名"


def _describes(tokenizer: MeCabTokenizer, parts: list[str]) -> bool:
    """Whether words after a label and a space describe a person instead of naming one
    (相談者 高齢 女性, 相談者 市内 在住, 相談者 家賃 滞納, 本人 不明 ですが): a word ending like a
    title, an office or 性, a group (夫婦), a place word, no-name words, or a word MeCab reads
    as a verbal, adjectival or adverbial noun or not as a noun."""
    first = parts[0]
    return (
        any(p[-1] in _DESCRIPTION_ENDS or p in _GROUP_WORDS or p in ROLE_WORDS for p in parts)
        or first in _PLACE_WORDS
        or first in _NOT_A_NAME
        or any(_not_a_name_word(m) for m in tokenizer.morphemes(first))
        # A later word read as one such word (相談者 家賃 滞納); 心|愛 is a given name.
        or any(
            len(words) == 1 and _not_a_name_word(words[0])
            for words in (tokenizer.morphemes(part) for part in parts[1:])
        )
    )


_COPULAS = ("です", "でした", "だ", "と申します", "といいます", "と言います", "と申す")
_HIRAGANA_RE = re.compile("[\u3041-\u3096]{2,6}")


def _listed_kana_name(tokenizer: MeCabTokenizer, part: str) -> str:
    """``part``, or ``part`` less a copula and an honorific after it, where that is a kana
    given name of gimei's list and not a pronoun or a determiner MeCab knows (ここ, その are
    names of the list too); else ``""``."""
    name = next((part[: -len(c)] for c in _COPULAS if part.endswith(c)), part)
    name = next((name[: -len(h)] for h in _HONORIFICS if name.endswith(h)), name)
    if not _HIRAGANA_RE.fullmatch(name) or name not in kana_given_names():
        return ""
    words = tokenizer.morphemes(name)
    if len(words) == 1 and words[0].pos1 in ("代名詞", "連体詞", "副詞", "接続詞", "感動詞"):
        return ""
    return name


def _not_a_name_word(m: Morpheme) -> bool:
    return m.pos1 != "名詞" or m.pos3 in ("サ変可能", "形状詞可能", "副詞可能")


def labelled_name_spans(tokenizer: MeCabTokenizer, match: re.Match[str]) -> list[tuple[int, int]]:
    """The span of the name after the label and of its reading in brackets after it (氏名：
    纐纈 源五郎（こうけつ げんごろう）); none when the value says there is no name (不明, 本人), is
    a relation, a role or an office (相談者：母, 相談者：市民課), or is the next label (a header
    line: 氏名　生年月日　住所). A word that is an act or a time, not a name (本人：来所予定,
    相談者：纐纈 来所), ends the name before it; one kanji is a given name whatever its tag (颯)."""
    value = match.group("value")
    parts = value.replace("\u3000", " ").replace(",", " ").split()
    lists = masking_words()
    if (
        value in _NOT_A_NAME
        or parts[0] in lists.person
        or parts[0] in lists.not_name
        or parts[0][-1] in NOT_SURNAMES
        or any(p in COLUMN_LABELS or p.casefold() in HEADER_WORDS for p in parts)
        or (_after_space(match) and not _full_name(tokenizer, parts, match))
    ):
        return []
    end = match.start("value")
    for part in parts:
        if part in _HONORIFICS:
            break  # ゆうこ さん: the honorific stays, as every rule leaves it
        honorific = next((h for h in _HONORIFICS if part.endswith(h) and part != h), "")
        if honorific:  # 所沢 美香様
            end = match.string.index(part, end) + len(part) - len(honorific)
            break
        if (
            match.group("japanese")
            and len(part) >= 2
            and any(
                m.pos1 in _NOT_NAME_POS or m.pos3 in ("サ変可能", "副詞可能")
                for m in tokenizer.morphemes(part)
            )
        ):
            # A given name in hiragana that MeCab reads as other words (やまだ たろう: だ|ろう,
            # 名前はさくらです), before a copula or alone: the list decides.
            if name := _listed_kana_name(tokenizer, part):
                end = match.string.index(part, end) + len(name)
            break
        end = match.string.index(part, end) + len(part)
    if end == match.start("value"):
        return []
    spans = [(match.start("value"), end)]
    # A reading in brackets after a name in kanji; after a Latin name kana in brackets are
    # more often the nationality (NGUYEN VAN NAM（ベトナム）).
    reading = (
        match.group("japanese")
        and end == match.end("value")
        and _READING_AFTER_RE.match(match.string, end)
    )
    if reading:
        spans.append((reading.start() + 1, reading.end() - 1))
    return spans


_BEFORE_MASK_RE = re.compile(
    # Kanji after a particle too ([住所]の月見里 [氏名]さん); hiragana only after no hiragana.
    r"(?:(?<![\u4e00-\u9fff\u3005\u30a1-\u30fa\u30fcA-Za-z0-9\]])"
    r"(?P<surname>[\u4e00-\u9fff\u3005]{1,4})"
    r"|(?<![\u4e00-\u9fff\u3005\u3041-\u3096\u30a1-\u30fa\u30fcA-Za-z0-9\]])"
    r"(?P<kana>[\u3041-\u3096]{2,5})) (?=" + re.escape(NAME) + ")"
)
# ワン・ファン（[氏名]）: katakana just before a masked name in brackets are its reading. (After
# it, （ベトナム） is as often the nationality: not taken.)
_READING_BEFORE_RE = re.compile(
    # Not from a list's bullet (・ケアマネジャー（[氏名]）): a ・ inside the word, not before it.
    r"(?<![\u30a1-\u30fa\u30fc\u30fb])[\u30a1-\u30fa\u30fc][\u30a1-\u30fa\u30fc\u30fb]{1,23}(?=[（(]"
    + re.escape(NAME)
    + "[）)])"
)


def surname_before_mask_spans(tokenizer: MeCabTokenizer, text: str) -> list[tuple[int, int]]:
    """Spans of a word of one to four kanji or two to five hiragana, a space and ``[氏名]``:
    the surname of a name whose given name alone was found (月見里 [氏名]さん, やまだ [氏名]くん),
    to be one placeholder; and of ``[氏名]`` with the katakana joined after it by ・ or = (名義
    [氏名]・ラン: a foreign name's last part the rules left).

    Not a person, relation or role word (担当 [氏名], 長女 [氏名]), a title or an office
    (弁護士, 市民課), a time word (本日 [氏名]さん来所: MeCab tags it 副詞可能), nor a word of
    hiragana that is not all nouns (から [氏名]).
    """
    if NAME not in text:
        return []
    lists = masking_words()
    spans: list[tuple[int, int]] = []
    for match in _READING_BEFORE_RE.finditer(text):
        # ワン・ファン, or one word MeCab reads as a name or does not know; not a role
        # (担当ケアマネ（[氏名]）).
        words = tokenizer.morphemes(match.group(0))
        if "・" in match.group(0) or (
            len(words) == 1 and (words[0].unknown or words[0].pos3 == "人名")
        ):
            spans.append(match.span())
    for match in _BEFORE_MASK_RE.finditer(text):
        word = match.group("surname") or match.group("kana")
        if (
            word in lists.person
            or word in lists.not_name
            or word in _NOT_VALUES
            or word in COLUMN_LABELS
            or word in ROLE_WORDS
            or (is_kanji(word[-1]) and word[-1] in TITLE_OR_OFFICE_ENDS)
        ):
            continue
        morphemes = tokenizer.morphemes(word)
        if any(m.pos1 != "名詞" or m.pos3 in ("副詞可能", "助数詞可能") for m in morphemes):
            continue
        # The surname and the given name's placeholder become one: [氏名], not [氏名] [氏名].
        spans.append((match.start(), match.end() + len(NAME)))
    for match in _KATAKANA_AFTER_MASK_RE.finditer(text):
        # 名義 [氏名]・ラン: the last part of a foreign name in katakana, after a ・ joint; not
        # a role (田中・ケースワーカー) nor another person's name (高橋・スズキ: its own mask).
        part = match.group("part")
        words = tokenizer.morphemes(part)
        if (
            len(part) <= 4
            and "ー" not in part
            and part not in ROLES
            and part not in PERSON_TITLES
            and not any(w.pos3 == "人名" for w in words)
        ):
            spans.append((match.start(), match.end()))
    return spans


_KATAKANA_AFTER_MASK_RE = re.compile(
    re.escape(NAME) + "[・=＝](?P<part>[\u30a1-\u30fa\u30fc]{1,12})(?![\u30a1-\u30fa\u30fc・])"
)
