"""Person-name detection for masking: which spans of a text are people's names.

Built on the tagging of :meth:`kb.text.mecab.MeCabTokenizer.morphemes` (UniDic tags surnames
and given names 名詞・固有名詞・人名), with rules of its own:

* honorifics (様, さん, 氏, くん, ちゃん...) make a name of a proper noun or unknown word
  before them, but not of a common noun: ケアマネジャーさん, ハローワークさん, ワンちゃん and
  大家さん stay;
* place and organization suffixes (市, 病院, 城...) unmake a name (桜川市, 鈴木病院);
* a bare 人名 tag must look like a name: two kanji or more, not glued to a common noun
  (日影規制), and a surname that is also a landform (小川, 高橋) only when something shows it
  is a person (小川の妻, but 小川の水位); a name in kana needs a person noun before it
  (相談者のきよし);
* foreign names in katakana groups and given names in kana come from
  :mod:`kb.text.masking.kana`, names in Latin letters from :mod:`kb.text.masking.latin`.

A span that cuts a katakana word grows to the whole word (ミ|サキ); spans separated only by
spaces merge (山田 太郎). Over-masking a rare word is the lesser harm.
"""

from __future__ import annotations

import re

from kb.text.masking.context import HONORIFICS, NameContext, is_kanji, is_katakana, is_person
from kb.text.masking.fold import BREAKS_RE, fold
from kb.text.masking.foreign import foreign_name_spans, has_foreign_name
from kb.text.masking.glued import glued_given_end
from kb.text.masking.kana import (
    aged_name_spans,
    called_spans,
    has_age_or_reading,
    has_katakana_group,
    kana_honorific_spans,
    katakana_group_spans,
    listed_kana_name_spans,
)
from kb.text.masking.latin import latin_name_spans
from kb.text.masking.maiden import maiden_name_spans
from kb.text.masking.relatives import (
    has_relation_name,
    has_self_introduction,
    plausible_given,
    relation_full_name_spans,
    relation_given_name_spans,
    self_introduced_spans,
    surname_at,
)
from kb.text.masking.surnames import (
    TITLE_ENDS,
    surname_before,
    surname_read_as_word,
    surname_start,
)
from kb.text.masking.titled import (
    PERSON_TITLES,
    ROLES,
    has_office_staff,
    office_staff_spans,
    role_before,
    title_after,
    titled_surname,
)
from kb.text.masking.words import masking_words
from kb.text.mecab import MeCabTokenizer

# A "name" followed by one of these is a place or an organization: 桜川市, 中村橋, 鈴木病院.
_PLACE_SUFFIXES = frozenset(
    [
        *("市", "町", "村", "区", "郡", "県", "都", "府", "駅", "局", "署", "館", "園", "校"),
        *("橋", "川", "山", "台", "通り", "病院", "医院", "クリニック", "小学校", "中学校"),
        *("高校", "学園", "公園", "団地", "地区", "商店", "工務店", "会", "社", "屋", "家"),
        *("線", "式", "法", "賞", "城", "寺", "神社", "港", "荘", "店", "堂", "院", "島", "浜"),
        *("湖", "沿い", "付近", "周辺", "流域", "河畔", "上流", "下流", "沿岸"),
    ]
)
# Titles after a bare surname (鈴木係長): the surname is still a name.
_TITLE_HEADS = frozenset(
    [
        *("係", "係長", "課長", "部長", "主任", "主査", "主事", "先生", "医師", "議員", "委員"),
        *("保健師", "相談員", "社長", "所長", "院長", "室長", "局長", "副", "課", "部", "さん"),
        *("様", "氏", "一家", "家族", "宅", "方"),
        # What a record writes glued after a person: 中村本人来所, 佐々木来庁, 父名義.
        *("本人", "来庁", "来所", "来訪", "名義"),
    ]
)
# Words after a tagged surname that are never its given name: titles, places, offices.
_NOT_GIVEN = _PLACE_SUFFIXES | _TITLE_HEADS
# Professional titles that MeCab cuts into several words (弁護|士, 看護|師, 社会|福祉|士):
# matched on the text after the name.
_TITLE_WORDS = (
    *("弁護士", "司法書士", "行政書士", "税理士", "社会福祉士", "介護福祉士", "精神保健福祉士"),
    *("看護師", "薬剤師", "助産師", "保育士", "介護士", "支援員", "指導員", "相談支援専門員"),
    *("教諭", "校長", "教頭", "園長", "師長", "理事長", "会長", "巡査", "警部", "ケアマネ"),
)
# Last characters of surnames that are also landforms and structures (小川, 高橋, 中島).
_LANDFORM = frozenset("川河橋山田野原谷沢島池森林崎浜井坂岡丘江湖沼瀬滝宮寺里畑堀岸浦磯関門堤")
# One letter is a name already made anonymous (Aさん, B氏), as manuals and records write.
_LONE_LETTER_RE = re.compile("[A-Za-z\uff21-\uff3a\uff41-\uff5a]")
_SELF_AFTER_RE = re.compile(r"[（(]本人[）)]")
_EPONYM_AFTER_RE = re.compile("(?:氏)?(?:病|型|症候群|症)")
_KANJI_EPONYM_AFTER_RE = re.compile("(?:氏)?(?:病|症候群|症)(?![\u4e00-\u9fff])")
_KATAKANA_RE = re.compile("[\u30a1-\u30fa\u30fc・]+")


def _eponym(text: str, start: int, end: int) -> bool:
    """Whether the name at ``text[start:end]`` names a disease (アルツハイマー型, パーキンソン病,
    バセドウ病, 橋本病で通院): no one's name in a record. A kanji name before 病休, 病欠 or 型枠
    is a person's (佐藤健一病休中, 一郎型枠大工)."""
    if _KATAKANA_RE.fullmatch(text, start, end):
        return bool(_EPONYM_AFTER_RE.match(text, end))
    return bool(_KANJI_EPONYM_AFTER_RE.match(text, end))


# An initial (Y.T.氏): the Latin rules read initials before an honorific too.
_INITIAL_RE = re.compile("[A-Z\uff21-\uff3a][.\uff0e・]")
_LATIN_RE = re.compile(
    "[A-Z\uff21-\uff3a\u00c0-\u00de\u0100-\u024f\u1e00-\u1eff]"
    "[A-Za-z\uff21-\uff3a\uff41-\uff5a\u00c0-\u00ff\u0100-\u024f\u1e00-\u1eff]"
    # a name in lower case before an honorific: yamada taroさん
    "|[a-z\uff41-\uff5a] ?(?:さん|様|さま|氏|くん|ちゃん|殿)"
    # or two words in lower case (mitsuko nemoto, kenji.watanabe): read as romaji names. From
    # a word's start only: inside a long run of letters every start would scan to its end.
    "|(?<![a-z])[a-z]{2,}[ ._][a-z]{2,}"
)


_NAME_VARIANTS = str.maketrans(
    "髙﨑濵德栁𠮷關邊邉櫻廣國澤齊齋眞惠實嶋舘槇曻", "高崎浜徳柳吉関辺辺桜広国沢斉斎真恵実島館槙昇"
)
"""Variant kanji of family and given names (異体字: 髙橋, 山﨑, 濵田, 𠮷田) that UniDic does not
tag as names, to the forms it knows. Names are found on the folded text, one character for
one, so the spans fall on the text as written."""


def person_name_spans(
    tokenizer: MeCabTokenizer, text: str, *, honorific_only: bool = False
) -> list[tuple[int, int]]:
    """Character spans of ``text`` that are people's names (see the module docstring).

    Args:
        tokenizer: The shared tokenizer (its per-thread tagger is reused).
        text: Any text.
        honorific_only: Only names directly followed by an honorific (for published text,
            where bare surnames are more often places or officials).

    Returns:
        Sorted, non-overlapping ``(start, end)`` character offsets.
    """
    # Same length, character for character: the spans found on the folded text are the
    # original text's.
    text = text.translate(_NAME_VARIANTS)
    honorific = any(h in text for h in HONORIFICS) or "님" in text or "씨" in text
    if honorific_only and not honorific:
        # Every span then needs an honorific after it: none can be found.
        return []
    latin = bool(_LATIN_RE.search(text) or _INITIAL_RE.search(text))
    aged = not honorific_only and has_age_or_reading(text)
    relation_named = not honorific_only and has_relation_name(text)
    called = not honorific_only and "名乗" in text
    introduced = not honorific_only and has_self_introduction(text)
    titled = not honorific_only and any(title in text for title in (*PERSON_TITLES, *ROLES))
    staffed = not honorific_only and has_office_staff(text)
    words = tokenizer.morphemes(text)
    if (
        not honorific
        and not latin
        and not any(is_person(w) for w in words)
        and not has_katakana_group(text)
        and not aged
        and not called
        and not introduced
        and not titled
        and not staffed
        and not has_foreign_name(text)
        and not (not honorific_only and "旧姓" in text)
        and not relation_named
    ):
        # Without an honorific only a 人名 tag, a katakana group or a Latin name starts a span:
        # most texts have none.
        return []
    context = NameContext(tokenizer, text, words, masking_words())
    spans = _token_spans(context, honorific_only)
    spans += katakana_group_spans(context, honorific_only)
    if aged:
        spans += aged_name_spans(context)
    if called:
        spans += called_spans(context)
    if honorific:
        spans += kana_honorific_spans(context)
        spans += listed_kana_name_spans(context)
    if relation_named:
        spans += relation_given_name_spans(context)
        spans += relation_full_name_spans(context)
    if introduced:
        spans += self_introduced_spans(context)
    spans += foreign_name_spans(context, honorific_only)
    if staffed:
        spans += office_staff_spans(context)
    if not honorific_only:
        spans += maiden_name_spans(context)
    if latin:
        folded = fold(text)
        found = latin_name_spans(
            tokenizer,
            folded.text,
            honorific_only=honorific_only,
            person_before=lambda start: context.person_before(folded.span(start, start + 1)[0]),
        )
        spans += [folded.span(start, end) for start, end in found]
    spans = [
        span
        for span in spans
        if not _LONE_LETTER_RE.fullmatch(text, *span) and not _eponym(text, *span)
    ]
    spans += _given_names_after(text, spans)
    return _merge(text, [_whole_katakana_word(text, start, end) for start, end in spans])


# --- tokens tagged 人名, and proper nouns before an honorific ---------------------------------


def _is_name_token(context: NameContext, i: int) -> bool:
    word = context.words[i]
    if (
        is_person(word)
        or _mixed_given_name(context, i)
        or surname_read_as_word(context, i)
        or titled_surname(context, i)
    ):
        return True
    if not context.honorific_at(i + 1) or not word.surface.isalnum() or context.not_name(word):
        return False
    if word.pos1 == "名詞" and word.pos2 == "固有名詞":
        if word.pos3 == "組織":
            return False
        if word.pos3 == "地名":
            # 清水様: a place name before 様/氏/殿 is a surname; 桜川さん may be an office.
            nxt = context.words[i + 1].surface
            return nxt in ("様", "さま", "氏", "殿") and all(is_kanji(c) for c in word.surface)
        return True
    if word.pos1 in ("記号", "接頭辞") and all(is_kanji(c) for c in word.surface):
        return True  # a rare kanji UniDic files as a symbol or a prefix: 李娜さん, 張偉さん
    if (
        i > 0
        and word.pos2 == "普通名詞"
        and (
            (is_person(context.words[i - 1]) and context.end(i - 1) == context.starts[i])
            or (
                surname_at(context, i - 1)
                and _glued_or_one_space(context, i - 1, i)
                and plausible_given(context.tokenizer, word.surface)
            )
        )
        and len(word.surface) <= 3
        and (
            all(is_kanji(c) for c in word.surface)
            or (
                len(word.surface) == 2
                and all(is_katakana(c) for c in word.surface)
                and word.surface not in _SHOP_WORDS
            )
        )
        and word.surface[-1] not in TITLE_ENDS
    ):
        # A given name the dictionary reads as a word, glued to a surname before an honorific:
        # 木村蒼空さん (蒼空, "blue sky"), 飯嶋トメさん; after a surname read as a place, glued
        # or one space after it, only one that reads as a given name (桜井 源五郎さん; not 千葉
        # 銀行さん, 桜井 本屋さん). Roles and relations are not_name above; a longer katakana
        # word is a shop's (丸山ストアさん).
        return True
    # Known common nouns before an honorific are roles, trades and pets (ヘルパーさん,
    # ワンちゃん); a word the dictionary lacks is more likely a name (トゥアンさん, Taroさん).
    return word.unknown


def _glued_or_one_space(context: NameContext, k: int, i: int) -> bool:
    """Whether word ``i`` follows word ``k`` glued or after one space (桜井 源五郎さん)."""
    gap = context.text[context.end(k) : context.starts[i]]
    return gap in ("", " ", "\u3000")


def _mixed_given_name(context: NameContext, i: int) -> bool:
    """Whether word ``i`` is a piece of a given name like ズヴォ|子 in 田中ズヴォ子さん: a katakana
    word the dictionary lacks and one kanji, glued between a surname and an honorific."""
    words = context.words
    for k in (i, i - 1):  # k: the katakana word, k + 1: the kanji
        if not (1 <= k < len(words) - 1 and words[k].unknown and is_person(words[k - 1])):
            continue
        kanji = words[k + 1].surface
        if (
            all(is_katakana(c) for c in words[k].surface)
            and len(kanji) == 1
            and is_kanji(kanji)
            and context.honorific_at(k + 2)
            and context.end(k - 1) == context.starts[k]
            and context.end(k) == context.starts[k + 1]
        ):
            return True
    return False


def _token_spans(context: NameContext, honorific_only: bool) -> list[tuple[int, int]]:
    words = context.words
    flags = [_is_name_token(context, i) for i in range(len(words))]
    if not any(flags):
        return []
    spans: list[tuple[int, int]] = []
    rejected: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        if not flags[i]:
            i += 1
            continue
        j = i
        while (
            j + 1 < len(words)
            and flags[j + 1]
            # A tab or line break between two names makes two fields, never one name.
            and not BREAKS_RE.search(context.text, context.end(j), context.starts[j + 1])
        ):
            j += 1
        while i < j and words[i].surface in context.lists.person:
            i += 1  # 孫|ゆい（11）: UniDic tags 孫 a surname, here it is the relation
        nxt = words[j + 1] if j + 1 < len(words) else None
        honored = context.honorific_at(j + 1)
        # 林主査, 山口先生; 担当森に, ケアマネの原（…）
        titled = not honored and (title_after(context, j) or role_before(context, i))
        family = nxt is not None and nxt.surface == "家" and nxt.pos1 == "接尾辞"  # 坂本家
        place = nxt is not None and nxt.surface in _PLACE_SUFFIXES and not family
        if honored and j + 2 < len(words) and context.end(j + 1) == context.starts[j + 2]:
            # An "honorific" inside a place name: 左門殿川, 御前様橋 (but 山田さん家 is a family).
            after = words[j + 2].surface
            if after in _PLACE_SUFFIXES and after != "家":
                honored, place = False, True
        # One kanji glued to a common noun before it ends a compound (ママ友さん), unless the
        # noun is a relation (長男翔) or a role (民生委員林さん, ケアマネ菅さん).
        compound = (
            i == j
            and len(words[i].surface) == 1
            and i > 0
            and words[i - 1].pos2 == "普通名詞"
            and context.end(i - 1) == context.starts[i]
            and words[i - 1].surface not in context.lists.person
            and not role_before(context, i)
        )
        place = (place or compound) and not titled
        if not place and (honored or not honorific_only):
            glued_end = None if honored or titled else glued_given_end(context, i, j, _NOT_GIVEN)
            if honored:
                first = surname_start(context, i)
                if (
                    first == context.starts[i]
                    and i > 0
                    and words[i].pos2 == "普通名詞"
                    and surname_at(context, i - 1)
                    and _glued_or_one_space(context, i - 1, i)
                    and plausible_given(context.tokenizer, words[i].surface)
                ):
                    first = context.starts[i - 1]  # 桜井源五郎さん: the surname read as a place
                spans.append((first, context.end(j)))
            elif titled:
                spans.append((context.starts[i], context.end(j)))
            elif glued_end is not None:
                # 劉建国（中国籍）, 夫蛭子権三郎。: the kanji glued after the surname are its
                # given name (kb.text.masking.glued).
                start = surname_before(context, i)
                spans.append((context.starts[i] if start is None else start, glued_end))
            elif _plausible_bare_name(context, i, j):
                # 相談_四十物恵美.docx: the surname the dictionary reads as a word goes too.
                start = surname_before(context, i)
                spans.append((context.starts[i] if start is None else start, context.end(j)))
            else:
                rejected.append((context.starts[i], context.end(j)))
        i = j + 1
    # A given name of one kanji after an accepted surname and a space (高田 浩) is part of it.
    ends = {e for _, e in spans}
    for start, end in rejected:
        gap = start
        while gap > 0 and context.text[gap - 1] in " \u3000":
            gap -= 1
        if gap in ends:
            spans.append((start, end))
    return spans


_SHOP_WORDS = frozenset({"ビル", "ラボ", "ジム", "バー", "ホーム", "ママ", "パパ"})
"""Katakana words of two characters after a surname that are a place or a role, not a name."""


# After a surname and a space: one to three kanji with their reading or an age in brackets
# (対象児童 菊地 蒼空（そら）, 長女 佐々木 心愛（ここあ）) are the given name.
_GIVEN_AFTER_RE = re.compile(
    "[ \u3000](?P<given>[\u4e00-\u9fff々]{1,3})"
    "(?=[（(](?:[\u3041-\u3096\u30a1-\u30fa\u30fc・ ]{1,12}|[0-9]{1,3}(?:歳|才)?)[）)・、])"
)


def _given_names_after(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for _, end in spans:
        match = _GIVEN_AFTER_RE.match(text, end)
        if match:
            out.append(match.span("given"))
    return out


def _plausible_bare_name(context: NameContext, i: int, j: int) -> bool:
    """Whether tokens ``i..j`` tagged 人名 without an honorific are really a name.

    UniDic tags many short words 人名 (マイナ in マイナ保険証, 日影 in 日影規制) and many
    surnames are also landforms (小川, 高橋): a token glued to a common noun other than a
    title is not a name; a kana name needs a person noun before it (相談者のきよし); a lone
    token needs two kanji; a landform surname before の needs a person word after (小川の件).
    """
    words = context.words
    nxt = words[j + 1] if j + 1 < len(words) else None
    if (
        nxt is not None
        and context.end(j) == context.starts[j + 1]  # glued: a space ends a name (佐々木太郎 儀)
        and nxt.pos1 == "名詞"
        and nxt.pos2 == "普通名詞"
        and nxt.surface not in _TITLE_HEADS
        and not context.text.startswith(_TITLE_WORDS, context.end(j))
    ):
        return False
    start, end = context.starts[i], context.end(j)
    if (
        nxt is not None
        and nxt.surface == "の"
        and j + 2 < len(words)
        and words[j + 2].surface in _PLACE_SUFFIXES
    ):
        return False  # 主治医は金沢の病院: a place's hospital, whoever is before it
    if end - start >= 2 and (
        context.person_before(start) or _SELF_AFTER_RE.match(context.text, end)
    ):
        return True
    if i == j:
        surface = words[i].surface
        if (
            len(surface) == 1
            and is_kanji(surface)
            and context.person_before(start)
            and (nxt is None or nxt.pos1 in ("助詞", "補助記号"))
        ):
            return True  # a one-kanji given name after a relation: 長男の浩。, 夫の茂が
        if len(surface) < 2 or not all(is_kanji(ch) for ch in surface):
            return False
        if surface[-1] in _LANDFORM and nxt is not None and nxt.surface == "の":
            after = words[j + 2] if j + 2 < len(words) else None
            lists = context.lists
            return after is not None and (
                after.surface in lists.after
                or after.surface in lists.person
                or after.lemma in lists.person
            )
    return True


# --- merging ---------------------------------------------------------------------------------


def _whole_katakana_word(text: str, start: int, end: int) -> tuple[int, int]:
    """A span widened to the katakana word it cuts (ミ|サキ: MeCab split a name it lacks), and
    to the 子 of a given name written katakana + 子 (ヨシ|子, ミツ|子), unless a kanji follows
    (子供)."""
    if is_katakana(text[start]):
        while start > 0 and is_katakana(text[start - 1]):
            start -= 1
    if is_katakana(text[end - 1]):
        while end < len(text) and is_katakana(text[end]):
            end += 1
        if text[end : end + 1] == "子" and not is_kanji(text[end + 1 : end + 2] or "a"):
            end += 1
    return start, end


def _merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans, overlapping ones and ones with only spaces between them joined.

    Only spaces (half and full width) join two names: a tab or a line break separates the
    columns or lines of a table, which must keep their shape (山田太郎<TAB>鈴木花子 is two
    fields).
    """
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and (start <= out[-1][1] or not text[out[-1][1] : start].strip(" \u3000")):
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
