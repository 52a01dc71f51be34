"""Names that MeCab's 人名 tag misses: foreign names in katakana groups, given names in kana.

* マリア・サントス, グエン・ヴァン・ナム, ヤマダ タロウ: katakana words joined by ・, ＝ or
  a space, when enough of the words read as a name;
* はるとくん, さくらちゃん, 凛ちゃん: the kana (or, before ちゃん/くん, kanji) just before an
  honorific, which MeCab cuts apart or reads as a common noun, unless it is a family, role or
  pet word (おばあちゃん, みなさん, ネコちゃん);
* 山田太郎（やまだたろう）, 高橋美咲（ﾐｻｷ）: the reading written in brackets after a name
  (:func:`bracketed_reading`);
* 孫のひなた（5歳）, 長男 翔（しょう）: a word in kana or kanji after a person noun with an
  age or a reading in brackets after it (:func:`aged_name_spans`).
"""

from __future__ import annotations

import re
import unicodedata

from kb.text.given_names import kana_given_names
from kb.text.kana import to_hiragana
from kb.text.masking.context import (
    CHILD_HONORIFICS,
    NameContext,
    is_hiragana,
    is_honorific,
    is_kanji,
    is_katakana,
    is_person,
)
from kb.text.masking.relatives import katakana_name_after_relation
from kb.text.mecab import MeCabTokenizer, Morpheme

_SEPARATORS = "・＝=\u30a0\uff65 \u3000"  # also the double hyphen, half-width ・ and spaces
# Bounded, and starting only where a katakana run starts, so that a long run is tried once.
_KATAKANA_GROUP_RE = re.compile(
    rf"(?<![ァ-ヺー])[ァ-ヺー]{{1,30}}(?:[{_SEPARATORS}][ァ-ヺー]{{1,30}}){{1,5}}(?![ァ-ヺー])"
)
_SEPARATOR_RE = re.compile(rf"[{_SEPARATORS}]")
_HONORIFIC_AFTER_RE = re.compile(r"[ \u3000]?(?:さん|様|さま|氏|くん|君|ちゃん|殿)")
_PARTICLES = frozenset("のはがをにへともや")
_SMALL_KANA = frozenset("ぁぃぅぇぉっゃゅょゎ")
_NAME_LABELS = frozenset({"名前", "氏名", "名義", "署名"})
_FUNCTION_WORD_POS = frozenset({"代名詞", "連体詞", "副詞", "接続詞", "感動詞"})
"""Words before an honorific that are no name: あなた様, どちら様 (pronouns), その様な,
ちいさな君 (determiners), そう様."""
# くん that MeCab did not split off (翔く|ん, そう|たくん), unless a word goes on after it
# (くんれん, やってくんない).
_KUN_RE = re.compile(r"くん(?:(?![ぁ-ゖ])|(?=[のはがをにへともや]))")


# Furigana in brackets: hiragana, katakana (full or half width), spaces and ・ between them.
_KANA = "ぁ-ゖァ-ヺｦ-ﾟー・･"
_BRACKETED_KANA_RE = re.compile(
    rf"[ \u3000]*[（(][ \u3000]*([{_KANA}][{_KANA} \u3000]{{0,39}}?)[ \u3000]*[）)]"
)
_KANA_GAPS_RE = re.compile(r"[・･ \u3000]")
_FIELD_KANA_RE = re.compile(
    rf"[ \u3000]*[,，\t][ \u3000]*([{_KANA}][{_KANA} \u3000]{{0,39}}?)[ \u3000]*(?=[,，\t]|$)"
)


def _plain_kana(text: str) -> str:
    """``text`` in full-width hiragana, without spaces and ・ (ﾔﾏﾀﾞ ﾀﾛｳ → やまだたろう)."""
    return _KANA_GAPS_RE.sub("", to_hiragana(unicodedata.normalize("NFKC", text)))


def bracketed_reading(
    tokenizer: MeCabTokenizer, text: str, start: int, end: int
) -> tuple[int, int] | None:
    """The reading written in brackets just after the name ``text[start:end]``, if any.

    Records and forms write a name's furigana after it: 山田太郎（やまだたろう）, 高橋美咲
    （ﾐｻｷ）. Masking the name alone would leave the person readable. The bracketed kana is
    the name's reading when it is the name's dictionary reading or a part of it at either end
    (the surname or the given name alone), or, for a reading the dictionary does not give
    (陽翔（はると）), unless MeCab reads it as common nouns only: a role or a status in kana
    (恵子（パート）, 中村（ケアマネ）) stays. Two words in the brackets are a family and a given
    name (王 芳（ワン ファン）). The next field of a comma- or tab-separated line counts only
    when it is the name's reading (山田太郎,やまだたろう,...).

    Args:
        tokenizer: MeCab.
        text: The text.
        start: Where the name starts ...
        end: ... and ends.

    Returns:
        The span of the kana inside the brackets (or of the field), or ``None``.
    """
    # 山田太郎,やまだたろう: else the next field of a CSV or tab-separated line.
    field = _BRACKETED_KANA_RE.match(text, end) is None
    match = (_FIELD_KANA_RE if field else _BRACKETED_KANA_RE).match(text, end)
    if match is None:
        return None
    written = _plain_kana(match.group(1))
    if len(written) < 2:
        return None
    name = _plain_kana("".join(r.kana for r in tokenizer.readings(text[start:end])))
    if name and (name.startswith(written) or name.endswith(written) or written == name):
        return match.span(1)
    if field:
        return None  # a field of its own is the reading only when it reads as the name
    if _KANA_GAPS_RE.search(match.group(1).strip(" \u3000")):
        return match.span(1)  # 王 芳（ワン ファン）: a family and a given name
    if _common_nouns(tokenizer.morphemes(unicodedata.normalize("NFKC", match.group(1)))):
        return None  # パート, ケアマネ, ソーシャルワーカー: a role, not a reading
    return match.span(1)


# The name alone in brackets, and what is written just before the opening bracket.
_BEFORE_WINDOW = 64
_CLOSE_AFTER_RE = re.compile(r"[ \u3000]*[）)]")
_LATIN_BEFORE_RE = re.compile(
    r"(?<![A-Za-z0-9])((?:[A-Z][A-Za-z'\-]*[ \u3000]+){0,3}[A-Z][A-Za-z'\-]*)[ \u3000]*$"
)
_KANA_BEFORE_RE = re.compile(rf"([{_KANA}][{_KANA} \u3000]{{0,39}}?)[ \u3000]*$")
_BOUNDARY = " \u3000\t\n、。,.:;「『(【[/\uff0c\uff1a\uff1b\uff08\uff0f"
"""What a name may follow: a space, a line break, punctuation or an opening bracket."""


def reading_before(
    tokenizer: MeCabTokenizer, text: str, start: int, end: int
) -> tuple[int, int] | None:
    """The reading or the romanised name written just before ``（name）``, if any.

    Forms also put the name second: やまだ たろう（山田太郎）, WANG FANG（王芳）, Nguyen Van Nam
    (阮文南). When the brackets hold the masked name ``text[start:end]`` and nothing else, the
    words just before the opening bracket are the same person's name when they are

    - one to four capitalised Latin words (WANG FANG, Nguyen Van Nam), but not one acronym of
      up to four capitals (JA（山田）);
    - kana ending with the name's dictionary reading, or a part of it at either end (only that
      part is taken: 相談者のやまだたろう（山田太郎） keeps 相談者の);
    - kana standing alone after a space, a punctuation mark or the start, that MeCab does not
      read as common nouns only: a role stays (ケアマネ（山田）, ヘルパー（佐藤）).

    Returns:
        The span of those words, or ``None``.
    """
    opening = start
    while opening > 0 and text[opening - 1] in " \u3000":
        opening -= 1
    if opening == 0 or text[opening - 1] not in "（(" or not _CLOSE_AFTER_RE.match(text, end):
        return None
    opening -= 1
    # Only the last stretch before the bracket is read: a name is never longer than this.
    offset = max(0, opening - _BEFORE_WINDOW)
    head = text[offset:opening]
    latin = _LATIN_BEFORE_RE.search(head)
    if latin is not None:
        words = latin.group(1).split()
        if len(words) == 1 and words[0].isupper() and len(words[0]) <= 4:
            return None  # JA, NPO, NHK（山田）: an organisation's acronym
        return offset + latin.start(1), offset + latin.end(1)
    kana = _KANA_BEFORE_RE.search(head)
    if kana is None:
        return None
    run_start, run_end = offset + kana.start(1), offset + kana.end(1)
    bullets = len(kana.group(1)) - len(kana.group(1).lstrip("・"))
    if bullets:  # a list's bullet, not a part of the name (・ケアマネジャー（[氏名]）)
        run_start += bullets
        if run_start >= run_end:
            return None
        kana = _KANA_BEFORE_RE.search(text, run_start, opening)
        if kana is None:
            return None
        run_start, run_end = kana.start(1), kana.end(1)
    written = _plain_kana(kana.group(1))
    name = _plain_kana("".join(r.kana for r in tokenizer.readings(text[start:end])))
    if len(name) >= 2:
        # The reading at the end of the run (the name's own, or its surname or given name).
        run = kana.group(1)
        for cut in range(len(run)):
            tail = _plain_kana(run[cut:])
            reads = tail == name or name.startswith(tail) or name.endswith(tail)
            starts = cut == 0 or run[cut - 1] in _BOUNDARY or tail == name
            if len(tail) >= 2 and reads and starts:
                return run_start + cut, run_end
    alone = run_start == 0 or text[run_start - 1] in _BOUNDARY
    if not alone or len(written) < 2:
        return None
    if _common_nouns(tokenizer.morphemes(unicodedata.normalize("NFKC", kana.group(1)))):
        return None
    return run_start, run_end


# An age, a school year or a reading in brackets: what follows a child's given name in a
# record (（5歳）, （小3）, （中学2年）, （年長）, （ゆうと）).
_AGE_OR_READING_RE = re.compile(
    r"[（(][ \u3000]*(?:[0-9\uff10-\uff19]{1,3}[ \u3000]*(?:歳|才|か月|ヶ月|ケ月"
    r"|(?P<bare>[）)]))"
    r"|(?:小学?|中学?|高校?)[ \u3000]*[0-9\uff10-\uff19](?:年生?)?[ \u3000]*[）)、,]"
    r"|年[長中少](?:児|組)?[ \u3000]*[）)、,]"
    rf"|[{_KANA}][{_KANA} \u3000]{{0,19}}[）)])"
)
# What someone called themselves: 「ヤマダ」と名乗った, 「田中です」と名乗る.
_CALLED_RE = re.compile(
    r"「[ \u3000]*(?P<name>[^「」\s]{1,12}?)[ \u3000]*(?:です|と申します|といいます)?」"
    r"[ \u3000]*と名乗"
)


def called_spans(context: NameContext) -> list[tuple[int, int]]:
    """The name someone gave in quotes before と名乗る (「ヤマダ」と名乗った), unless it is a
    role (「市役所の者」「警察官」と名乗る: what a scam record must keep)."""
    spans = []
    for m in _CALLED_RE.finditer(context.text):
        words = context.tokenizer.morphemes(m.group("name"))
        katakana = all(is_katakana(ch) for ch in m.group("name"))
        kanji = all(is_kanji(ch) for ch in m.group("name"))
        if _reads_as_name(words, katakana=katakana) or (kanji and any(w.unknown for w in words)):
            spans.append(m.span("name"))
    return spans


def _gloss(context: NameContext, match: re.Match[str]) -> bool:
    """Whether bracketed katakana read as common nouns only (（ステップファミリー）, （パート）): a
    gloss or a role, not the reading of a name."""
    inner = unicodedata.normalize("NFKC", match.group(0).strip("（()） \u3000"))
    if not inner or not all(is_katakana(ch) or ch in "・ " for ch in inner):
        return False  # an age, or a reading in hiragana (しょう is a word too: 賞)
    return _common_nouns(context.tokenizer.morphemes(inner))


def _common_nouns(words: list[Morpheme]) -> bool:
    """Whether MeCab read a word as known common nouns only (no 人名, nothing unknown)."""
    return all(w.pos1 == "名詞" and not is_person(w) and not w.unknown for w in words)


def _reads_as_name(words: list[Morpheme], *, katakana: bool) -> bool:
    """Whether MeCab's reading of a short word shows a name: a 人名 tag, or, for katakana, a
    cut into pieces that are not all nouns (ヒナ|タ, ミサ|キ); パート, ゲーム, スマホ are not."""
    if any(is_person(w) for w in words):
        return True
    return katakana and not all(w.pos1 == "名詞" for w in words)


_HONORIFIC_ENDS = ("ちゃん", "くん", "さん", "さま", "様", "君")


def has_age_or_reading(text: str) -> bool:
    """Whether ``text`` has an age or a kana reading in brackets (a cheap first test)."""
    return bool(_AGE_OR_READING_RE.search(text))


def aged_name_spans(context: NameContext) -> list[tuple[int, int]]:
    """Given names after a person noun, shown by an age or a reading in brackets.

    MeCab reads many given names as common words (ひなた → 日向, さくら → 桜) or does not
    tag one kanji as a name (翔), so 孫のひなた（5歳） and 長男 翔（しょう） kept the name.
    The name is the hiragana or katakana (2-6) or kanji (1-3) just before the bracket when a
    person noun ends right before it (:meth:`NameContext.person_before`: 孫の, 長男 ); a bare
    number counts as an age after kana only (祖母 ハナ（88）, but not 長男の件（2）). Without
    the bracket a word after a person noun is not taken (長男のいじめ, 娘のしつけ).
    """
    text = context.text
    spans: list[tuple[int, int]] = []
    for match in _AGE_OR_READING_RE.finditer(text):
        bracket = match.start()
        # 孫のはるとくん（4歳）: the name ends before its honorific.
        bracket -= next((len(h) for h in _HONORIFIC_ENDS if text.endswith(h, 0, bracket)), 0)
        for length in range(1, 7):
            start = bracket - length
            if start < 0:
                break
            piece = text[start:bracket]
            katakana = all(is_katakana(ch) for ch in piece)
            kana = katakana or all(is_hiragana(ch) for ch in piece)
            if not kana and not (length <= 3 and all(is_kanji(ch) for ch in piece)):
                break
            if match.group("bare") and not kana:
                break  # 長男の件（2）: a bare number after kanji is no age
            if katakana and not _reads_as_name(context.tokenizer.morphemes(piece), katakana=True):
                break  # 妻のパート（3）, 息子のゲーム（3）
            if (length >= 2 or not kana) and context.person_before(start):
                if start not in context.start_set or _gloss(context, match):
                    break  # 母親（ステップファミリー）: part of a word, and a gloss, no reading
                words = context.overlapping(start, bracket)
                # 長男の発達（3歳児健診で…）: before an age, kanji must read as a name.
                named = (
                    kana
                    or match.group(0)[-1] in "）)"
                    or any(is_person(w) or w.unknown for w in words)
                )
                if named and not any(context.not_name(w) for w in words):
                    spans.append((start, bracket))
                break
    return spans


def has_katakana_group(text: str) -> bool:
    """Whether ``text`` has katakana words joined by ・, ＝ or a space (a cheap first test)."""
    return bool(_KATAKANA_GROUP_RE.search(text))


def katakana_group_spans(context: NameContext, honorific_only: bool) -> list[tuple[int, int]]:
    """Katakana words joined by ・, ＝ or a space, when enough of them read as a name.

    MeCab knows マリア and サントス but not every part (ヴァン, ナム are common nouns to it, and
    グエン・ティ・ラン is one unknown word), so a group is a name when one part is a name or an
    unknown word and an honorific or a person noun shows it is a person, or two parts are.
    """
    text = context.text
    spans: list[tuple[int, int]] = []
    for match in _KATAKANA_GROUP_RE.finditer(text):
        start, end = match.span()
        if max(len(p) for p in _SEPARATOR_RE.split(match.group(0))) < 2:
            continue  # ア・イ・ウ: letters of a list, not a name (レ・ティ・ホア has ティ, ホア)
        honored = bool(_HONORIFIC_AFTER_RE.match(text, end))
        if honorific_only and not honored:
            continue
        names = 0
        strong = False  # a part no dictionary word could be: バハドゥル, トゥ|イ (not リード)
        place = False
        pos = start
        for part in _SEPARATOR_RE.split(match.group(0)):
            found = context.overlapping(pos, pos + len(part))
            pos += len(part) + 1
            if len(found) == 1 and found[0].unknown and len(found[0].surface) > len(part):
                # MeCab read the whole group as one unknown word (ツバキ・サザンカ as much as
                # グエン・ティ・ラン): read each part on its own.
                found = context.tokenizer.morphemes(part)
            if not any(is_person(w) or w.unknown for w in found) and len(found) == 1:
                # In context MeCab may read a name as a suffix (妻 チャン・ティ・マイ: チャン
                # as -chan): a part that alone is a name counts.
                alone = context.tokenizer.morphemes(part)
                if len(alone) == 1 and (is_person(alone[0]) or alone[0].unknown):
                    found = alone
            if any(is_person(w) or w.unknown for w in found) or _no_word(found):
                names += 1
                strong = (
                    strong
                    or _no_word(found)
                    or any(w.unknown or (is_person(w) and len(w.surface) >= 4) for w in found)
                )
            place = place or any(w.pos3 == "地名" for w in found)
        parts = len(_SEPARATOR_RE.split(match.group(0)))
        # カルロス・リマ・サントス: one part a place (リマ) among names is still a person.
        if place and not honored and not (strong and names >= 2 and parts >= 3):
            continue
        if (
            names >= 2
            or (names and (honored or context.person_before(start)))
            # Three parts or more, one of them a name no common word could be: ラム・バハドゥル・
            # タパ (a list of things, ケージ・フード・リード, has at most a short name-like word).
            or (strong and parts >= 3 and not honorific_only)
        ):
            spans.append((start, end))
    return spans


def _no_word(found: list[Morpheme]) -> bool:
    """Whether MeCab read a katakana part as no word: sounds it files as symbols (トゥ|イ, ティ),
    as it reads a foreign name it does not know (ハロー|ワーク are words)."""
    return bool(found) and all(w.pos1 == "記号" for w in found)


def kana_honorific_spans(context: NameContext) -> list[tuple[int, int]]:
    """Names before an honorific that MeCab splits or tags as common nouns.

    MeCab often cuts a given name in hiragana apart (はると → はる|と, そうたくん → そう|たくん)
    or reads it as a common noun (さくら → 桜, ゆうき → 勇気), and some kanji names too
    (凛 → 凛, 翔くん → 翔く|ん). So the name here is the run of hiragana (or, before
    ちゃん/くん, of kanji) just before an honorific, unless it is a family, role or pet word.
    """
    text = context.text
    spans: list[tuple[int, int]] = []
    for h_start, honorific in _honorific_positions(context):
        if h_start == 0:
            continue
        before = text[h_start - 1]
        span = None
        if is_hiragana(before):
            span = _hiragana_name(context, h_start)
        elif before in " \u3000" and h_start > 1 and is_hiragana(text[h_start - 2]):
            # 相談者 やまだたろう さん: a space between the name and the honorific.
            span = _hiragana_name(context, h_start - 1)
        elif is_kanji(before) and honorific in CHILD_HONORIFICS:
            span = _kanji_child_name(context, h_start)
        elif is_katakana(before):
            span = katakana_name_after_relation(context, h_start)
        if span is not None:
            spans.append(span)
    return spans


def _honorific_positions(context: NameContext) -> list[tuple[int, str]]:
    out = [(context.starts[k], w.surface) for k, w in enumerate(context.words) if is_honorific(w)]
    seen = {start for start, _ in out}
    for match in _KUN_RE.finditer(context.text):
        if match.start() not in seen:
            out.append((match.start(), "くん"))
    return sorted(out)


def listed_kana_name_spans(context: NameContext) -> list[tuple[int, int]]:
    """Names in hiragana before a 様 or 君 that MeCab did not read as an honorific.

    MeCab reads やまだたろう様 as やま|だ|たろう|様 (様 the stem of 様だ, after an auxiliary
    verb) and ゆうと君 as ゆう|と|君 (君 the pronoun きみ). Where it read the character as a word
    of its own (not 様子, 君主) after hiragana, the run before it is a name only when it ends with
    a given name of gimei's list (たろう, ゆうと), alone or after two to four more hiragana (a
    surname: やまだ): the honorific is in doubt, so the list decides."""
    text, spans = context.text, []
    for k, word in enumerate(context.words):
        start = context.starts[k]
        if (
            word.surface not in ("様", "君")
            or is_honorific(word)
            or start < 2
            or not is_hiragana(text[start - 1])
        ):
            continue
        span = _hiragana_name(context, start)
        if span is not None and _ends_with_listed_name(text[span[0] : span[1]]):
            spans.append(span)
    return spans


def _ends_with_listed_name(run: str) -> bool:
    """Whether ``run`` is a kana given name of the list, or two to four hiragana (a surname)
    and one of at least two (やまだ|たろう)."""
    names = kana_given_names()
    return run in names or any(
        run[-size:] in names for size in range(2, len(run) - 1) if len(run) - size <= 4
    )


def _hiragana_name(context: NameContext, h_start: int) -> tuple[int, int] | None:
    text = context.text
    start = h_start
    while start > 0 and h_start - start < 10 and is_hiragana(text[start - 1]):
        start -= 1
    run = text[start:h_start]
    # はるとくんとひなちゃん: the run before ちゃん starts after the previous honorific.
    cut = max(run.rfind(h) + len(h) if h in run else 0 for h in ("さん", "ちゃん", "くん", "さま"))
    start, run = start + cut, run[cut:]
    # 孫のはると: the particle after the noun before is not part of the name (but はると at the
    # start of a line and にゃんこ are).
    noun_before = start > 0 and (text[start - 1].isalnum() or text[start - 1] in "]）)")
    # 長女はるとちゃん: right after a relation the run is the name, は included (cutting it would
    # leave a letter of the name in the text; cutting a particle off only loses a word).
    # After 名前 or 氏名 (名前はやまだたろう様) the は is a particle: those nouns label a name.
    relation_before = run[:1] not in ("の", "が", "を", "へ") and any(
        text.endswith(w, 0, start) for w in context.lists.person if w not in _NAME_LABELS
    )
    if (
        noun_before
        and not relation_before
        and len(run) >= 3
        and run[0] in _PARTICLES
        and run[1] not in _SMALL_KANA
    ):
        start, run = start + 1, run[1:]
    if not 2 <= len(run) <= 6 or run[0] in "おご" or run in context.lists.not_name:
        return None
    words = context.overlapping(start, h_start)
    if any(context.not_name(w) or w.pos1 in _FUNCTION_WORD_POS for w in words):
        return None
    return start, h_start


def _kanji_child_name(context: NameContext, h_start: int) -> tuple[int, int] | None:
    text = context.text
    start = h_start
    while start > 0 and h_start - start < 4 and is_kanji(text[start - 1]):
        start -= 1
    # The word that ends at the honorific, when MeCab split the text there (長女|凛|ちゃん).
    k = context.ending_at(h_start)
    if k is not None and context.starts[k] >= start:
        word = context.words[k]
        if is_person(word) or context.not_name(word):
            return None  # 人名 are the token rule's; 姉ちゃん, 猫ちゃん are no names
        return context.starts[k], h_start
    # No word boundary there (翔く|ん): the kanji run, less a person noun before it (長男翔).
    run = text[start:h_start]
    for noun in sorted(context.lists.person, key=len, reverse=True):
        if run.startswith(noun) and len(run) > len(noun):
            start += len(noun)
            break
    lists = context.lists
    if text[start:h_start] in lists.not_name or text[start:h_start] in lists.person:
        return None
    return start, h_start
