"""Given names after a relation (and の) that MeCab reads as common words (母の和子は, 次女みどり).

A rule of :func:`kb.text.masking.names.person_name_spans` with a trigger of its own: a person
noun of ``masking_words.tsv``, with or without の, before kanji or kana. The word is a name
when UniDic reads it as one before さん, where it reads 年金, おむつ and 学校 as the common nouns
they are, or, in kana, when the list of given names of :mod:`kb.text.given_names` holds it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kb.text.given_names import kana_given_names
from kb.text.masking.context import NameContext, is_katakana, is_person
from kb.text.masking.titled import PERSON_TITLES, ROLES
from kb.text.masking.words import masking_words
from kb.text.mecab import MeCabTokenizer


def has_relation_name(text: str) -> bool:
    """Whether ``text`` has a person noun (and の) before kanji or kana (the cheap test)."""
    return bool(_relation_name_re().search(text))


@lru_cache(maxsize=1)
def _relation_name_re() -> re.Pattern[str]:
    """A person noun, with or without の, before kanji or kana: where a record may name a
    relative (母の和子は, 長女のさくらが, 次女みどりが, 母ハナが)."""
    person = masking_words().person
    words = "|".join(re.escape(w) for w in sorted(person, key=len, reverse=True))
    # Katakana only glued or after a space (母ハナが): after の it is as often a thing
    # (本人のペース).
    # In brackets or after a ・ (妹（トメ）, 長女（光・年金生活）, 元夫・林から, 娘さん（誠）):
    # any script.
    return re.compile(
        rf"(?:{words})(?:(?:さん|様|ちゃん|くん)?[（(・](?=[\u4e00-\u9fff々\u3041-\u3096\u30a1-\u30fa])"
        rf"|の(?=[\u4e00-\u9fff々\u3041-\u3096])"
        rf"|[ \u3000]?(?=[\u4e00-\u9fff々\u3041-\u3096\u30a1-\u30fa]))"
    )


_KANJI_NAME_RE = re.compile("[\u4e00-\u9fff々]{2,3}")
_KANA_NAME_RE = re.compile("[\u3041-\u3096]{2,4}|[\u30a1-\u30fa\u30fc]{2,4}")
_AFTER_RELATION_NAME_RE = re.compile(
    "[ \u3000]?(?:[はがをともにへ、。\uff0c\uff0e,（(]|から|より|さん|様|くん|ちゃん|$)"
)
_ONE_KANJI_RE = re.compile("[\u4e00-\u9fff々]")
_JOINED_END_RE = re.compile("[・、,（）()]|から|より|[がはとにもをへ]|$")
"""What ends a name after a ・ (元夫・林から, 妻・葵も); not の (a facility's name follows)."""
_BRACKETED_END_RE = re.compile("[・、,（）()]")
"""What ends a name in brackets: it is the whole first item (妹（トメ）, 長女（光・年金生活）;
母（光の園）, 長男（桜が丘中学校） are places)."""


def relation_given_name_spans(context: NameContext) -> list[tuple[int, int]]:
    """Given names MeCab reads as common words after a relation, with or without の (母の和子は:
    和子 as a word; 長女のさくらが, 次女みどりが: さくら as 桜, みどり as 緑).

    The word must be one morpheme of two or three kanji (妻 和子 から) or two to four hiragana
    or katakana (母ハナが), before a
    particle or a stop; a plain common noun (not a formal noun such as ため, とき, 所, which
    MeCab tags 副詞可能, nor a verbal noun such as 介護); and one that UniDic reads as a given
    name before an honorific: 和子さん, さくらさん and ゆうきさん are names there, while 年金さん,
    おむつさん and 学校さん stay common nouns. A name in kana the dictionary does not know as one
    (あかり, つばさ) is looked up in a list of given names instead (:func:`_listed_kana_names`); a
    one-kanji name (夫の勇は) is missed: 金, 税, 方 and 愛 read as names before さん too.
    """
    spans: list[tuple[int, int]] = []
    index = {start: k for k, start in enumerate(context.starts)}
    matches = list(_relation_name_re().finditer(context.text))
    for match in matches:
        k = index.get(match.end())
        if k is None:
            continue
        word = context.words[k]
        start, end = context.starts[k], context.end(k)
        joined = context.text[match.end() - 1] in "（(・"
        shape = _KANJI_NAME_RE.fullmatch(word.surface) or _KANA_NAME_RE.fullmatch(word.surface)
        if joined:
            # One kanji too in brackets (長女（光・…）, 本人（森）): no compound to end there.
            shape = shape or _ONE_KANJI_RE.fullmatch(word.surface)
        bracketed = context.text[match.end() - 1] in "（("
        ends = _BRACKETED_END_RE if bracketed else _JOINED_END_RE
        after = (ends if joined else _AFTER_RELATION_NAME_RE).match(context.text, end)
        if (
            (word.pos1, word.pos2, word.pos3) != ("名詞", "普通名詞", "一般")
            or not shape
            or not after
            or context.not_name(word)
            or word.surface in _NOT_GIVEN_NAMES  # 長男（養子）: who he is
        ):
            continue
        probe = context.tokenizer.morphemes(word.surface + "さん")
        if (
            (len(probe) >= 2 and probe[0].surface == word.surface and is_person(probe[0]))
            or (joined and _given_name_ending(word.surface))
            # 夫の源五郎と, 次男の与兵衛さん: endings no common word after a relation has.
            or word.surface.endswith(_MALE_NAME_ENDS)
        ):
            spans.append((start, end))
    return spans + _listed_kana_names(context, matches, spans)


_MALE_NAME_ENDS = ("五郎", "太郎", "次郎", "三郎", "四郎", "衛門", "兵衛", "之助", "之介")
_GIVEN_NAME_ENDS = ("郎", "衛門", "兵衛", "之助", "之介", "蔵", "子", "美", "恵", "奈", "菜")
"""How given names end (源五郎, 与兵衛, トメ子), when the dictionary reads the whole as a word
(源五郎: a beetle)."""
_NOT_GIVEN_NAMES = frozenset(
    {"息子", "様子", "養子", "実子", "里子", "継子", "末子", "双子", "母子", "父子", "親子", "妻子"}
    | {"女子", "男子", "弟子", "王子", "調子", "利子", "菓子", "帽子", "椅子", "冊子", "障子"}
    | {"扇子", "原子", "電子", "分子", "因子", "格子", "拍子", "種子", "獅子", "団子", "餃子"}
    | {"新郎", "野郎", "女郎", "賛美", "優美", "審美", "恩恵", "知恵", "互恵", "特恵", "土蔵"}
    | {"酒蔵", "冷蔵", "貯蔵", "所蔵", "秘蔵", "内蔵", "埋蔵", "地蔵", "野菜", "白菜", "山菜"}
    | {"嫡子", "庶子", "長子", "一子", "猶子", "遺子", "孤児", "迷子", "穴蔵", "卵子", "精子"}
    | {"甲子", "判子", "梯子", "茄子", "柚子", "玉子", "硝子", "黒子"}
)
"""Words with those endings that say who or what a relative is (長男（養子）, 次女（双子）)."""


def _given_name_ending(word: str) -> bool:
    """Whether ``word`` (two or three kanji, in brackets or after ・ after a relation: 夫（源五郎）)
    ends as a given name does and is not a word of :data:`_NOT_GIVEN_NAMES`."""
    return word.endswith(_GIVEN_NAME_ENDS) and word not in _NOT_GIVEN_NAMES


_FULL_NAME_END_RE = re.compile(
    "[ \u3000]?(?:[はがをともにへのでも、。,（(・0-9\uff10-\uff19]|から|より|$)"
)
"""What ends a full name after a relation: a particle (の too: 父千葉勇気の年金, as the given
name must read as one), a bracket, a stop or an age (父千葉勇気72歳)."""
_GIVEN_SHAPE_RE = re.compile(
    "[\u4e00-\u9fff々]{1,3}|[\u3041-\u3096]{2,4}|[\u30a1-\u30fa\u30fc]{2,4}"
)
_NOT_GIVEN_ENDS = frozenset("市県町村区都府道国課部係局署室院園校社会店屋家長員任師士官者宅")
"""Last characters of what follows a surname and is no given name: an office, a place, a
title, a family (高橋病院, 佐藤課長, 山田宅)."""


def plausible_given(tokenizer: MeCabTokenizer, word: str) -> bool:
    """Whether ``word``, after a surname, reads as a given name: one UniDic tags a given name
    before さん (勇気, さくら, ハナ), one ending as men's names do (源五郎, 与兵衛), or two to
    four katakana of a word usually written otherwise (トメ: 止め), not a role. 銀行, 市役所,
    出身, 餃子, ヘルパー and バス are not."""
    probe = tokenizer.morphemes(word + "さん")
    if probe and probe[0].surface == word and is_person(probe[0]) and probe[0].pos4 == "名":
        return True
    if word.endswith(_MALE_NAME_ENDS):
        return True
    if (
        not _KATAKANA_GIVEN_RE.fullmatch(word)
        or word in ROLES
        or word in PERSON_TITLES
        or word in KATAKANA_THINGS
    ):
        return False
    words = tokenizer.morphemes(word)
    return len(words) == 1 and (words[0].unknown or words[0].lemma != word)


_KATAKANA_GIVEN_RE = re.compile("[\u30a1-\u30fa]{2,4}")
KATAKANA_THINGS = frozenset(
    {"タコ", "イカ", "カニ", "エビ", "カメ", "サル", "ハト", "トラ", "リス", "キツネ", "タヌキ"}
    | {"ネコ", "イヌ", "クマ", "ウサギ", "ブタ", "ウシ", "ヘビ", "カエル", "カラス", "スズメ"}
    | {"ゴミ", "バラ", "ウナギ", "マグロ", "サケ", "タイ", "ナス", "ネギ", "カキ", "クリ"}
    | {"ハチ", "セミ", "トンボ", "ホタル", "アリ", "シカ", "イノシシ", "サンマ", "イワシ"}
)
"""Animals, food and things a city's texts write in katakana, for a kanji word as names are
(タコさんウインナー, 福井 カニです, the query 松本 カラス): never taken as a given name."""


def relation_full_name_spans(context: NameContext) -> list[tuple[int, int]]:
    """A surname and a given name after a relation (父千葉勇気は, 夫・高橋トメから, 長女及川源五郎
    （12歳）): after a person noun, a surname (tagged one, or a place name UniDic reads as a
    surname before さん: 千葉) and one word of one to three kanji or two to four kana, glued or
    after one space, before a particle, a bracket or a stop, are a person's full name when the
    word reads as a given name (:func:`plausible_given`: 勇気, トメ, 源五郎 are words to MeCab
    in a sentence). Not an office, a place, a title or a family after the surname
    (父高橋病院に, 母山田宅), a verbal noun (父千葉出張) or a word (夫青森出身, 父千葉 大学)."""
    spans: list[tuple[int, int]] = []
    index = {start: k for k, start in enumerate(context.starts)}
    words = context.words
    for match in _relation_name_re().finditer(context.text):
        k = index.get(match.end())
        if k is None or k + 1 >= len(words) or not surname_at(context, k):
            continue
        given = words[k + 1]
        gap = context.text[context.end(k) : context.starts[k + 1]]
        if (
            gap not in ("", " ", "\u3000")
            or not _GIVEN_SHAPE_RE.fullmatch(given.surface)
            or given.pos1 != "名詞"
            or given.pos3 in ("サ変可能", "副詞可能", "助数詞可能", "地名", "組織")
            or given.surface[-1] in _NOT_GIVEN_ENDS
            or given.surface in PERSON_TITLES  # 担任の岩崎先生に: a title, not a given name
            or context.not_name(given)
            or not _FULL_NAME_END_RE.match(context.text, context.end(k + 1))
            or not plausible_given(context.tokenizer, given.surface)  # 夫青森出身, 父千葉 大学
        ):
            continue
        spans.append((context.starts[k], context.end(k + 1)))
    return spans


def katakana_name_after_relation(context: NameContext, h_start: int) -> tuple[int, int] | None:
    """A katakana word of two to four characters before an honorific, right after a person
    noun (長男のトメくん, 母ハナさん): a given name, though MeCab reads トメ as 止め. Family,
    role and pet words are not (娘のワンちゃん: the lists)."""
    text = context.text
    start = h_start
    while start > 0 and (is_katakana(text[start - 1]) or text[start - 1] == "ー"):
        start -= 1
    words = context.overlapping(start, h_start)
    if (
        not 2 <= h_start - start <= 4
        or "ー" in text[start:h_start]  # ヘルパー, ワーカー: roles; such names are foreign
        or text[start:h_start] in ROLES
        or text[start:h_start] in PERSON_TITLES
        or len(words) != 1
        or start not in context.start_set
        or context.not_name(words[0])
        or not context.person_before(start)
        # A word usually written otherwise (トメ: 止め, ハナ: 花) or none MeCab knows; not a
        # loanword of its own (インコちゃん, ガイドさん, バイトくん).
        or not (words[0].unknown or is_person(words[0]) or words[0].lemma != words[0].surface)
        or text[start:h_start] in KATAKANA_THINGS
        # The honorific ends the word: タコさんウインナー, カニさん歩き, リスさん組 are things.
        or _COMPOUND_AFTER_RE.match(text, h_start)
    ):
        return None
    return start, h_start


_COMPOUND_AFTER_RE = re.compile(
    "(?:さん|くん|君|ちゃん|様|さま)[\u4e00-\u9fff々\u30a1-\u30fa\u30fc]"
)
"""An honorific glued to a noun after it: part of a compound (タコさんウインナー), no name's."""


_INTRODUCED_RE = re.compile(
    # At a sentence's start, or after how a caller opens (はい、 もしもし、): not after a
    # topic and its comma (特産は、熊本 ミカンです; おすすめは、吉野 さくらです).
    "(?:^|(?<=[。「『\n\t ])|(?<=はい、)|(?<=もしもし、)|(?<=あの、))"
    "(?:(?:私|わたし|わたくし)(?:は|、))?"
    "(?P<name>[\u4e00-\u9fff々]{1,4}[ \u3000]"
    "(?:[\u4e00-\u9fff々]{1,3}|[\u3041-\u3096]{2,4}|[\u30a1-\u30fa\u30fc]{2,4}))"
    "(?=です|と申します|と申す|といいます|と言います)"
)


def has_self_introduction(text: str) -> bool:
    """Whether ``text`` may hold a name given with です or と申します (the cheap test)."""
    return _INTRODUCED_RE.search(text) is not None


def self_introduced_spans(context: NameContext) -> list[tuple[int, int]]:
    """A full name a citizen gives at the start of a sentence (千葉 さくらです。, 私は高橋 トメと
    申します): a surname (tagged one, or a place UniDic reads as a surname before さん), a
    space and a given name (:func:`plausible_given`), before です or と申します. One word
    alone (千葉です) may be a place, and stays; so do 千葉 市役所です and 田中 課長です."""
    spans: list[tuple[int, int]] = []
    index = {start: k for k, start in enumerate(context.starts)}
    for match in _INTRODUCED_RE.finditer(context.text):
        k = index.get(match.start("name"))
        if k is None or not surname_at(context, k):
            continue
        if context.end(k) + 1 >= match.end("name"):
            continue  # the surname is not the first word
        given = match["name"].split()[-1]
        if not plausible_given(context.tokenizer, given):
            continue  # 千葉 市役所です, 田中 課長です, 宇都宮 餃子です
        spans.append(match.span("name"))
    return spans


def surname_at(context: NameContext, k: int) -> bool:
    """Whether word ``k`` is a surname before a given name: tagged 人名 (not a given name: 姓,
    or of no known kind: 村上 in 父村上源五郎), or a place name of two or three characters that
    UniDic reads as a surname before さん (桜井, 千葉 are places to it in a sentence)."""
    word = context.words[k]
    if word.pos2 == "固有名詞" and word.pos3 == "人名" and word.pos4 != "名":
        return True  # 姓, or a person's name of no known kind (村上 in 父村上源五郎)
    if not (word.pos2 == "固有名詞" and word.pos3 == "地名" and 2 <= len(word.surface) <= 3):
        return False
    probe = context.tokenizer.morphemes(word.surface + "さん")
    return len(probe) >= 2 and probe[0].surface == word.surface and probe[0].pos4 == "姓"


_PRESENT_OR_NOT = frozenset({"あり", "なし", "アリ", "ナシ"})
"""How records note a relative present or not (子どもあり, 配偶者なし): also names in the list."""
_FORMAL_LEMMAS = frozenset(
    ("事", "物", "所", "為", "訳", "筈", "方", "様", "儘", "内", "中", "後", "前", "他", "皆")
)
"""Lemmas of formal nouns that sound like given names when written in kana (こと: 琴)."""


def _listed_kana_names(
    context: NameContext, matches: list[re.Match[str]], found: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Given names in kana after a relation that the dictionary does not know as names, found
    in the list of :func:`kb.text.given_names.kana_given_names` (longest first), where a
    particle, a bracket or a stop ends them and MeCab ends a word.

    Many given names are everyday words in kana (みみ, もも, ゆめ, まつり, ちから), so the list
    alone is no evidence. A listed word is a name where the record sets it apart as one: in
    brackets or after a ・ (孫（ひなた）, 母・ひなた), or before an age in brackets (長女のりく
    （12）); after の, a space or glued to the relation, only where MeCab cannot read it as one
    noun (次男の嫁のそうたは: そう|た), since 子どものみみが, 家族 ともに and 子どもまつり are
    words; so 次女のりくは (陸) and 長女のみおと (a "symbol", as 腸 in 子どものちょうが) stay
    readable. Never a formal noun (こと), a noun with its particle (とき|は), one followed by
    more of its word (母のほし|がる), or あり/なし. ``matches``: the relations found in the text
    (:func:`_relation_name_re`)."""
    text, spans = context.text, []
    taken = {start for start, _ in found}
    word_starts = set(context.starts)
    word_ends = {context.end(i) for i in range(len(context.words))}
    for match in matches:
        start = match.end()
        if (
            start in taken
            or match.start() not in word_starts  # 大丈|夫なのか: no relation there
            or start not in word_starts
            or not _KANA_NAME_RE.match(text, start)
            or _grammar_at(context, start)  # 娘|さん, ズヴォ子|さん
        ):
            continue
        apart = text[start - 1] in "（(・"
        bracketed = text[start - 1] in "（("
        ends = _BRACKETED_END_RE if bracketed else _AFTER_RELATION_NAME_RE
        for end in range(min(len(text), start + 4), start + 1, -1):
            word = text[start:end]
            if (
                end not in word_ends
                or not _KANA_NAME_RE.fullmatch(word)
                or word not in kana_given_names()
                or word in _PRESENT_OR_NOT
                or _word_and_particle(context, start, end)  # 母のとき|は
                or not ends.match(text, end)
                or not _word_ends_there(context, end)
            ):
                continue
            if (apart or _AGE_AFTER_RE.match(text, end) or _not_one_noun(context, start, end)) and (
                not _formal(context, word)
            ):
                spans.append((start, end))
                break
    return spans


_AGE_AFTER_RE = re.compile("[（(][0-9\uff10-\uff19]{1,3}(?:歳|才)?[）)]")


def _word_ends_there(context: NameContext, end: int) -> bool:
    """Whether what follows ``end`` is a particle, a symbol or nothing (母のほし|がる: no)."""
    after = context.overlapping(end, end + 1)
    return not after or after[0].pos1 in ("助詞", "補助記号", "空白")


def _grammar_at(context: NameContext, start: int) -> bool:
    """Whether MeCab reads a suffix, a particle or an auxiliary at ``start`` (娘|さん)."""
    words = context.overlapping(start, start + 1)
    return bool(words) and words[0].pos1 in ("接尾辞", "助詞", "助動詞")


def _not_one_noun(context: NameContext, start: int, end: int) -> bool:
    """Whether MeCab cuts ``text[start:end]`` into pieces or does not know it (そう|た): a
    word it knows (みみ, まつり) is not a name it failed to read."""
    words = context.overlapping(start, end)
    if not words:
        return False
    if len(words) == 1:
        # Not a "symbol": UniDic files kana it has no word for there, names (みお) and words
        # (ちょう: 腸, こう) alike.
        return words[0].unknown
    return True


def _word_and_particle(context: NameContext, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` reads as a noun and the particle ending it (とき|は), not
    as a name that ends in a particle's sound (はる|と in 次女（はると）: はる is no noun)."""
    words = context.overlapping(start, end)
    return (
        len(words) >= 2
        and words[-1].pos1 == "助詞"
        and words[-2].pos1 == "名詞"
        and context.text.endswith(words[-1].surface, start, end)
    )


def _formal(context: NameContext, word: str) -> bool:
    """Whether ``word`` alone is a formal noun or one MeCab reads as an adverbial or verbal
    noun (こと, とき, なか, いみ), however the list has it."""
    alone = context.tokenizer.morphemes(word)
    if len(alone) != 1:
        return False
    token = alone[0]
    return token.lemma in _FORMAL_LEMMAS or (
        token.pos1 == "名詞" and token.pos3 in ("副詞可能", "サ変可能", "助数詞可能")
    )
