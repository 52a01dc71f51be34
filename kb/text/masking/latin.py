"""People's names written in Latin letters: Taro Yamada, YAMADA Taro, NGUYEN THI LAN.

A run of one to four capitalised words (``Yamada``, ``YAMADA``) is a name when

* an honorific follows it (``Maria Santosさん``, ``Kim Minju 様``) or a title precedes it
  (``Mr. Brown``);
* it has two words or more and follows a person noun (``申請者 YAMADA Taro``,
  ``氏名はNGUYEN THI LAN``, ``名義 SUZUKI HANAKO``);
* it has two words or more in capitals, as a passport writes a name (``NGUYEN VAN NAM``; not
  acronyms such as ``NHK BS``), or after a nationality (``ネパール人のBishnu Prasad Sharma``), or
  before an English verb of a record (``Lee Minho came to ask``);
* it has two words or more, each spelled like Japanese in Hepburn romaji and read by MeCab
  (in katakana, with the long vowels romaji leaves out) as a person's name: ``Taro Yamada``,
  ``YAMADA Taro``, but not ``Kosodate Shien`` (子育て支援) or ``Hello Work``;
* it is two romaji words, one in title case and one in capitals, as forms write a Japanese
  name, and the one in capitals reads as a surname (``Sakura WATANABE``: Sakura is also 桜).

A run glued to a following kanji or katakana word (``LINEアカウント``, ``PDFファイル``) is a
compound, not a name.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kb.text.given_names import kana_given_names, kana_surnames
from kb.text.mecab import MeCabTokenizer

# Capitals and small letters with the accents of Vietnamese, Portuguese, Spanish...
# (NGUYỄN THỊ LAN, João): Latin-1 and Latin Extended A, B and Additional.
_UP = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u024f\u1e00-\u1eff"
_LO = "a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f\u1e00-\u1eff"
_WORD = rf"(?:[{_UP}][{_LO}]+(?:['\-][{_UP}]?[{_LO}]+)?|[{_UP}]{{2,}}(?:['\-][{_UP}]+)?)"
# Small words inside a name: Ana Paula de Oliveira Silva, Siti binti Abdullah, van der Berg.
_PARTICLE = r"(?:de|da|das|do|dos|del|della|la|le|van|von|der|den|ten|bin|binti|al|el|y)"
_RUN_RE = re.compile(
    rf"(?<![A-Za-z0-9@._\-/{_LO}{_UP}]){_WORD}(?:(?: |・|, ?)(?:{_PARTICLE} )?{_WORD}){{0,5}}"
    rf"(?![A-Za-z0-9@_/{_LO}{_UP}]|-(?!(?:san|sama|kun|chan)(?![A-Za-z]))|\.[A-Za-z])"
)
_TITLE_RE = re.compile(r"(?:Mr|Ms|Mrs|Miss|Dr|Prof)\.? ?$")
_TITLES = frozenset({"Mr", "Ms", "Mrs", "Miss", "Dr", "Prof"})
_HONORIFIC_RE = re.compile(
    # 女士, 小姐, 先生: a Chinese record's (Zhang Min女士咨询).
    r" ?(?:さん|様|さま|氏|くん|君|ちゃん|殿|女士|小姐|先生)|-(?:san|sama|kun|chan)(?![A-Za-z])"
)
# Initials before an honorific (相談者Y.T.氏, full-width ones too): a person, as records
# write one.
_INITIALS_RE = re.compile(
    r"(?<![A-Za-z0-9.])[A-Z](?:\. ?|・)[A-Z]\.?(?= ?(?:さん|様|さま|氏|くん|君|ちゃん|殿))"
)
_BARE_INITIALS_RE = re.compile(r"(?<![A-Za-z0-9.])[A-Z]\. ?[A-Z]\.(?![A-Za-z0-9])")
_NOT_INITIALS = frozenset({"U.S.", "U.K.", "E.U.", "A.M.", "P.M.", "N.Y.", "L.A.", "D.C."})
"""Abbreviations that are no person's initials (本人はU.S.に在住)."""
# The commonest family names of Vietnam, China and Korea, in the Latin letters of a residence
# card: with another word or more after them, a person (Khách hàng: Nguyen Van Minh).
# Not those that are English words too (Do, Le, Park, Kim, Song, Sun): Do Not Disturb, Park
# Hyatt Tokyo.
_FOREIGN_SURNAMES = frozenset(
    {"Nguyen", "Tran", "Pham", "Hoang", "Huynh", "Phan", "Duong", "Trinh", "Truong"}
    | {"Nguyễn", "Trần", "Phạm", "Hoàng", "Huỳnh", "Dương", "Trương"}
    | {"Zhang", "Wang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Zhou", "Zhu", "Guo"}
    | {"Zheng", "Liang", "Xie", "Choi", "Jeong", "Yoon"}
)
_READING_RE = re.compile(r" ?[（(][\u3041-\u3096\u30a1-\u30fa\u30fc・ ]{1,16}[）)]")
"""A name's reading in kana, in brackets after it (Yuki（ゆうき）)."""
_AGE_AFTER_RE = re.compile(r" ?[（(][0-9]{1,3}(?:歳|才)?[）)]")
_SUBJECT_AFTER_RE = re.compile(r" ?(?:は|が)")
# What follows a person's name in a record, and no product's or place's: an age or a date of
# birth (Nguyen Thi Hoa(20歳), CHOI MIRA、48歳, MARIA SANTOS([生年月日]生)).
_PERSON_AFTER_RE = re.compile(
    r" ?(?:[（(]\s?(?:[0-9]{1,3}\s?(?:歳|才)|\[生年月日\])|、\s?[0-9]{1,3}\s?(?:歳|才)"
    # A nationality in brackets (Maria Santos（フィリピン籍）, Nguyen Thi Lan (ベトナム国籍)).
    # (外国人・日本人 describe a service's public, English Cafe（外国人・日本人…）).
    r"|[（(]\s?(?:[\u30a1-\u30fa\u30fc]{2,}(?:人|国籍|籍)|[\u4e00-\u9fff]{1,3}(?:国籍|籍))"
    r"[)）、,・ ]"
    # The person it is, in brackets (KASUGA Takeshi（本人）, Tome Kasuga（妻、70歳）).
    r"|[（(]\s?(?:本人|相談者|申請者|世帯主|代理人|夫|妻|父|母|長男|長女|次男|次女|三男|三女"
    r"|息子|娘|祖父|祖母|孫|兄|弟|姉|妹)[)）、,・ ]"
    # An English record's details of a person (Luciana Takahashi, nationality ブラジル).
    r"|, ?(?i:nationality|aged? [0-9]|born|date of birth|DOB)\b"
    # Quoted as the name of an account or a document (「Ai Aoki」の名前で登録).
    r"|[」』]\s?(?:の|という)?(?:名前|名義|氏名))"
)
_SUFFIX_RE = re.compile(r"-(?:san|sama|kun|chan)$")
# What a person does in a record: two words or more before it are a person's name (Nguyen Van
# Anから電話, Maria Santosが来庁), whatever their language.
_PERSON_ACTION_RE = re.compile(
    r" ?(?:が|から|より|は|と|に)? ?"
    r"(?:来庁|来所|来訪|来日|入国|電話|連絡|相談|面談|申請|訪問|同行|同席|入院|在住|名乗)"
)
# A signature or a sender line before the name (Best regards, John Smith; From: John Smith).
_SIGNED_RE = re.compile(
    r"(?:(?i:best regards|kind regards|regards|sincerely|thanks|thank you|from|name|sender)"
    r"[,:.!]?|差出人[:：]?|送信者[:：]?)\s?$"
)
# A label or a bracket that a name in Latin letters follows: 本名 SUZUKI RIKO, ローマ字表記:,
# and a person's name given again in brackets after the masked one ([氏名]さん（CHOI MIRA、…）).
_NAME_BEFORE_RE = re.compile(
    r"(?:(?:本名|氏名|通称|通称名|旧姓|通名|ローマ字(?:表記)?|送信者名|差出人名|名義(?:人)?"
    r"|(?:パスポート|旅券|在留カード)(?:上)?の?(?:氏名|名前|表記)?)\s?(?:は|:)?\s?"
    r"|(?:さん|様|さま|氏|くん|ちゃん|\[氏名\])\s?\(\s?)$"
)
# A nationality before the name (ネパール人のBishnu Prasad Sharma, ベトナム国籍 NGUYEN VAN NAM)
# or an English verb of a record after it (Lee Minho came to ask, … Mamani from Peru).
_NATIONALITY_BEFORE_RE = re.compile(
    r"(?:[\u30a1-\u30fa\u30fc]{2,}|[\u4e00-\u9fff]{1,3})(?:人|国籍|籍)(?:の|で|、)?\s?$"
)
# An English record's relation word before the name (wife Tome Kasuga, son Naomi).
_ENGLISH_RELATION_BEFORE_RE = re.compile(
    r"(?<![A-Za-z])(?i:wife|husband|son|daughter|mother|father|mom|dad|brother|sister"
    r"|grandmother|grandfather|grandson|granddaughter|grandchild|child|spouse|partner"
    r"|niece|nephew|aunt|uncle|cousin|stepson|stepdaughter|applicant|client)[:,]? ?$"
)
_ENGLISH_ACTION_RE = re.compile(
    r" (?:came|comes|visited|called|asked|phoned|moved|lives|is from|from|and (?:his|her)\b)"
)
_CAPITAL_WORD_RE = re.compile(rf"[{_UP}]{{2,}}(?:['\-][{_UP}]+)?")
_VOWEL_RE = re.compile("[AEIOUYÀ-ÆÈ-ÏÒ-ÖØ-Ýa-z\u0100-\u024f\u1e00-\u1eff]")
_ACRONYMS = frozenset(
    {"JR", "NHK", "ATM", "PTA", "LGBT", "LGBTQ", "JA", "OK", "NG", "CEO", "AI", "IT", "EAST"}
    | {"WEST", "CITY", "CARD", "BANK", "PAY", "NET", "WEB", "APP", "SMS", "QR", "USB", "JAPAN"}
)
"""Words in capitals that are not a person's: with them a run in capitals is no name."""
_NOT_NAME_WORDS = frozenset(
    {"LINE", "ID", "TEL", "FAX", "SNS", "NPO", "URL", "PC", "MAIL", "EMAIL", "E-MAIL", "DV"}
    | {"FACEBOOK", "INSTAGRAM", "TWITTER", "SKYPE", "WECHAT", "ZOOM", "GMAIL", "YAHOO"}
)
"""Words in Latin letters that a label or a bracket is followed by as often as a name is."""
# A name in lower case before an honorific (yamada taroさん): romaji words only.
_LOWER_RUN_RE = re.compile(
    r"(?<![A-Za-z0-9@._\-/])[a-z]{2,}(?: [a-z]{2,}){0,2}(?= ?(?:さん|様|さま|氏|くん|ちゃん|殿))"
)
_LOWER_PAIR_RE = re.compile(
    r"(?<![A-Za-z0-9@._\-/])([a-z]{2,})[ ._]([a-z]{2,})(?![A-Za-z0-9@_\-/]|\.[A-Za-z])"
)
_GLUED_RE = re.compile(r"[一-龥々ァ-ヺ]")

# Hepburn romaji, one syllable at a time (longest first): enough to read a name in katakana.
_ROWS = {
    "": "アイウエオ",
    "k": "カキクケコ",
    "g": "ガギグゲゴ",
    "s": "サシスセソ",
    "z": "ザジズゼゾ",
    "t": "タチツテト",
    "d": "ダヂヅデド",
    "n": "ナニヌネノ",
    "h": "ハヒフヘホ",
    "b": "バビブベボ",
    "p": "パピプペポ",
    "m": "マミムメモ",
    "y": "ヤイユエヨ",
    "r": "ラリルレロ",
    "w": "ワイウエヲ",
}
_YOON = {"ky": "キ", "gy": "ギ", "ny": "ニ", "hy": "ヒ", "by": "ビ", "py": "ピ", "my": "ミ",
         "ry": "リ", "sh": "シ", "ch": "チ", "j": "ジ"}  # fmt: skip
_OTHERS = {"shi": "シ", "chi": "チ", "tsu": "ツ", "fu": "フ", "ji": "ジ", "si": "シ", "ti": "チ",
           "tu": "ツ", "hu": "フ", "zi": "ジ", "di": "ヂ", "du": "ヅ", "fa": "ファ", "fi": "フィ",
           "fe": "フェ", "fo": "フォ", "je": "ジェ", "she": "シェ", "che": "チェ"}  # fmt: skip


def _syllables() -> dict[str, str]:
    out = {c + v: kana for c, row in _ROWS.items() for v, kana in zip("aiueo", row, strict=True)}
    small = {"a": "ャ", "u": "ュ", "o": "ョ", "e": "ェ"}
    out.update({c + v: kana + s for c, kana in _YOON.items() for v, s in small.items()})
    out.update(_OTHERS)
    return out


_SYLLABLES = _syllables()
_SYLLABLE_RE = re.compile(
    "|".join(sorted(_SYLLABLES, key=len, reverse=True)) + r"|n(?![aiueoy])|([kgsztdhbpmrjfc])(?=\1)"
)


def to_katakana(word: str) -> str | None:
    """``word`` read as Hepburn romaji in katakana (``Yamada`` → ヤマダ), or ``None``.

    Args:
        word: One word in Latin letters.

    Returns:
        The katakana, or ``None`` when ``word`` is not spelled like romaji (``Smith``).
    """
    out: list[str] = []
    pos = 0
    text = word.lower()
    while pos < len(text):
        match = _SYLLABLE_RE.match(text, pos)
        if match is None:
            return None
        piece = match.group(0)
        if match.group(1):
            out.append("ッ")
        elif piece == "n":
            out.append("ン")
        else:
            out.append(_SYLLABLES[piece])
        pos = match.end()
    return "".join(out)


def _variants(kana: str) -> list[str]:
    """``kana`` and its readings with a long vowel the romaji left out (タロ → タロウ)."""
    out = [kana]
    if kana[-1:] in "オコソトノホモヨロゴゾドボポョ":
        out.append(kana + "ウ")
    if kana[-1:] in "ウクスツヌフムユルグズブプュ":
        out.append(kana + "ウ")
    for i, ch in enumerate(kana[:-1]):
        if ch in "オコソトノホモヨロゴゾドボポョ" and kana[i + 1] not in "ウャュョ":
            out.append(kana[: i + 1] + "ウ" + kana[i + 1 :])
    return out[:6]


def _reading(tokenizer: MeCabTokenizer, word: str) -> str:
    """``person``, ``other`` (proper noun, unknown), ``common`` or ``none`` for one romaji word."""
    kana = to_katakana(word)
    if kana is None or len(kana) < 2:
        return "none"
    best = "common"
    for variant in _variants(kana):
        morphemes = tokenizer.morphemes(variant)
        if all(m.pos2 == "固有名詞" and m.pos3 == "人名" for m in morphemes):
            return "person"
        if len(morphemes) == 1:
            m = morphemes[0]
            proper = m.pos2 == "固有名詞" and m.pos3 not in ("地名", "組織")
            if proper and m.lemma != m.surface:
                return "person"  # スズキ → 鈴木: a surname the dictionary spells in kanji
            if proper or m.unknown:
                best = "other"
    return best


def latin_name_spans(
    tokenizer: MeCabTokenizer,
    text: str,
    *,
    honorific_only: bool = False,
    person_before: Callable[[int], bool] = lambda _start: False,
) -> list[tuple[int, int]]:
    """Spans of ``text`` that are people's names in Latin letters (see the module docstring).

    Args:
        tokenizer: MeCab tokenizer, to read romaji words in katakana.
        text: The text, already folded to half-width letters.
        honorific_only: Only names followed by an honorific.
        person_before: Whether a person noun ends just before a character offset.

    Returns:
        Sorted ``(start, end)`` character offsets.
    """
    spans: list[tuple[int, int]] = []
    for match in _RUN_RE.finditer(text):
        start, end = match.span()
        words = [
            w for w in re.split(r"(?: |・|, ?)", match.group(0)) if not re.fullmatch(_PARTICLE, w)
        ]
        # A title is not part of the name: "Mr. Brown", "Dr Smith".
        while words and words[0] in _TITLES:
            start += len(words[0])
            while start < end and text[start] in ". ":
                start += 1
            words = words[1:]
        if not words:
            continue
        titled = bool(_TITLE_RE.search(text[max(0, start - 6) : start]))
        suffix = _SUFFIX_RE.search(text, start, end)
        if suffix:  # Yamada-san: the run took the honorific as a hyphenated part
            end = suffix.start()
            words[-1] = words[-1][: -len(suffix.group(0))]
        honorific = bool(suffix) or bool(_HONORIFIC_RE.match(text, end))
        reading = _READING_RE.match(text, end)
        if (
            not honorific
            and reading
            and _HONORIFIC_RE.match(text, reading.end())
            and not _is_place(tokenizer, reading.group(0))
        ):
            # Yuki（ゆうき）ちゃん: the name and its reading in kana are one name.
            end, honorific = reading.end(), True
        if not honorific and _GLUED_RE.match(text, end):
            continue
        if honorific or titled:
            spans.append((start, end))
            continue
        if honorific_only:
            continue
        if len(words) < 2:
            # One word in title case after a person noun, as the subject of the sentence or with
            # an age after it (妻 Maria は, 息子のLucas（8）); 相談者のGmail, 本人 Google で検索
            # are services.
            if re.fullmatch(rf"[{_UP}][{_LO}]{{1,}}", words[0]) and (
                (
                    person_before(start)
                    and len(words[0]) > 2
                    and (_SUBJECT_AFTER_RE.match(text, end) or _AGE_AFTER_RE.match(text, end))
                )
                or _ENGLISH_RELATION_BEFORE_RE.search(text, max(0, start - 16), start)
            ):
                spans.append((start, end))
            continue
        if (
            person_before(start)
            or _SIGNED_RE.search(text, max(0, start - 16), start)
            or (
                _NAME_BEFORE_RE.search(text, max(0, start - 16), start)
                and _NOT_NAME_WORDS.isdisjoint(w.upper() for w in words)
            )
            or _PERSON_ACTION_RE.match(text, end)
            or _PERSON_AFTER_RE.match(text, end)
            or _NATIONALITY_BEFORE_RE.search(text, max(0, start - 12), start)
            or _ENGLISH_RELATION_BEFORE_RE.search(text, max(0, start - 16), start)
            or _ENGLISH_ACTION_RE.match(text, end)
            or (words[0].capitalize() in _FOREIGN_SURNAMES and len(words) <= 4)
            # Their country in brackets after them (Ana Paula Oliveira（ブラジル）).
            or (
                (country := _READING_RE.match(text, end)) is not None
                and _is_place(tokenizer, country.group(0))
            )
            or _in_capitals(words)
            or japanese_name(tokenizer, words)
            or _given_and_family_romaji(tokenizer, words)
        ):
            spans.append((start, end))
    spans += [m.span() for m in _INITIALS_RE.finditer(text)]
    if not honorific_only:
        # Initials after a person noun (母はM.S.、, 生徒A.K.（2年）).
        spans += [
            m.span()
            for m in _BARE_INITIALS_RE.finditer(text)
            if person_before(m.start()) and m.group(0).replace(" ", "") not in _NOT_INITIALS
        ]
    if not honorific_only:
        # A given name and a surname in lower case, with a space, a dot or an underscore
        # (本人署名 mitsuko nemoto, ローマ字表記 kenji.watanabe): both words read as a person's
        # name in katakana (hello world, kosodate shien, sakura city do not).
        for match in _LOWER_PAIR_RE.finditer(text):
            if japanese_name(tokenizer, [match.group(1), match.group(2)]):
                spans.append(match.span())
    for match in _LOWER_RUN_RE.finditer(text):
        if all(to_katakana(w) for w in match.group(0).split()):
            spans.append(match.span())
    return sorted(spans)


def _is_place(tokenizer: MeCabTokenizer, bracketed: str) -> bool:
    """Whether the words in brackets name a place, not read a name: MARIA SANTOS（フィリピン）様
    keeps its country."""
    inner = bracketed.strip(" （()）")
    return any(w.pos3 == "地名" for w in tokenizer.morphemes(inner))


def _in_capitals(words: list[str]) -> bool:
    """Whether every word is in capitals, two of them with a vowel, none an acronym or a
    service: a name as a passport or a residence card writes it (NGUYEN VAN NAM, TRAN THI MAI,
    DELA CRUZ), which a record copies; NHK BS, JR EAST and LINE ID are not."""
    return (
        all(_CAPITAL_WORD_RE.fullmatch(w) for w in words)
        and sum(1 for w in words if _VOWEL_RE.search(w)) >= 2
        and _ACRONYMS.isdisjoint(words)
        and _NOT_NAME_WORDS.isdisjoint(words)
    )


_ROMAJI_PLACE_WORDS = frozenset(
    {"SHI", "MACHI", "CHO", "MURA", "SON", "KU", "KEN", "FU", "TO", "GUN", "SHIYAKUSHO", "YAKUBA"}
    | {"YAKUSHO", "EKI", "KOEN", "KOUEN", "GAKKO", "GAKKOU", "BYOIN", "BYOUIN", "JINJA", "TERA"}
    | {"DERA", "JI", "HONTEN", "SHITEN", "DORI", "DOORI", "BASHI", "HASHI", "KAWA", "GAWA"}
    | {"YAMA", "SAN", "JIMA", "SHIMA", "MAE", "CENTER", "SENTA", "HALL", "KAIKAN", "SANGYO"}
)
"""Romaji words of places and buildings (Sakuragawa SHIYAKUSHO, Ueno EKI): no one's name."""


def _given_and_family_romaji(tokenizer: MeCabTokenizer, words: list[str]) -> bool:
    """Whether two romaji words are a Japanese name as passports and forms write one: the
    given name in title case and the family name in capitals (Sakura WATANABE, WATANABE
    Sakura), both spelled like Hepburn romaji (the capitals three letters or more), the one in
    capitals read as a surname (:func:`_reads_as_surname`), neither an acronym, a service or a
    place word (SHI, EKI). The given name may be a word (Sakura: 桜). Tokyo DOME, Shinkansen
    NOZOMI, Ito YOKADO and Tokyo JAPAN are not."""
    if len(words) != 2:
        return False
    capitals = [w for w in words if _CAPITAL_WORD_RE.fullmatch(w)]
    titled = [w for w in words if re.fullmatch(rf"[{_UP}][{_LO}]+", w)]
    if len(capitals) != 1 or len(titled) != 1:
        return False
    if capitals[0] in _ACRONYMS or capitals[0] in _NOT_NAME_WORDS:
        return False
    kana = [to_katakana(w) for w in words]
    if any(k is None or len(k) < 2 for k in kana) or len(capitals[0]) < 3:
        return False
    if any(w.upper() in _ROMAJI_PLACE_WORDS for w in words):
        return False  # Sakuragawa SHIYAKUSHO, Kita KU: a place
    return _reads_as_surname(tokenizer, capitals[0]) and _reads_as_given(tokenizer, titled[0])


def _readings_with_syllabic_n(word: str) -> list[str]:
    """``word`` in katakana, and read with an n before a vowel or y as ン (Kenichi: ケニチ and
    ケンイチ, Shinya: シニャ and シンヤ, as Hepburn without the apostrophe writes them)."""
    readings = []
    text = word.lower()
    cuts = [0] + [
        i + 1 for i in range(1, len(text) - 1) if text[i] == "n" and text[i + 1] in "aiueo"
    ]
    for cut in cuts:
        head, tail = text[:cut], text[cut:]
        parts = [to_katakana(head) if head else "", to_katakana(tail)]
        if all(p is not None for p in parts):
            readings.append("".join(p or "" for p in parts))
    return readings


def _reads_as_given(tokenizer: MeCabTokenizer, word: str) -> bool:
    """Whether ``word`` in katakana is a given name of gimei's list (Sakura サクラ, Shota
    ショウタ), one UniDic tags a person's name, or one it does not know: not a city (Osaka,
    Chiba) or a word (Furusato) before a place that is a surname too (Osaka UMEDA)."""
    given = kana_given_names()
    for kana in _readings_with_syllabic_n(word):
        if any(v in given for v in _variants(kana)):
            return True
    return _reading(tokenizer, word) in (
        "person",
        "other",  # a proper noun or a word UniDic lacks (Kenichi read as ケニチ), not a place
    )


def _reads_as_surname(tokenizer: MeCabTokenizer, word: str) -> bool:
    """Whether ``word`` in katakana is a common surname (:func:`kana_surnames`: CHIBA チバ,
    OTSUKI オオツキ) or one word UniDic tags a surname (WATANABE ワタナベ); not DOME, NOZOMI
    (a given name) or ONSEN."""
    kana = to_katakana(word)
    if kana is None:
        return False
    listed = kana_surnames()
    for variant in _variants(kana):
        # OTSUKI: the long vowel romaji leaves out is オ as often as ウ (大槻 オオツキ).
        if variant in listed or variant.replace("オウ", "オオ") in listed:
            return True
        morphemes = tokenizer.morphemes(variant)
        if len(morphemes) == 1 and morphemes[0].pos3 == "人名" and morphemes[0].pos4 == "姓":
            return True
    return False


def japanese_name(tokenizer: MeCabTokenizer, words: list[str]) -> bool:
    """Whether every word, read in katakana, is what MeCab tags a person's name (tanaka taro)."""
    return all(_reading(tokenizer, w) == "person" for w in words)
