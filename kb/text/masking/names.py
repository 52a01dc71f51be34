"""Person-name detection for masking: which spans of a text MeCab reads as people's names.

Built on the tagging of :meth:`kb.text.mecab.MeCabTokenizer.morphemes` (UniDic tags surnames
and given names 名詞・固有名詞・人名), with rules of its own: honorifics (様, さん, 氏...) make
a name of the word before them, place and organization suffixes (市, 病院...) unmake one, and
a bare 人名 tag must look like a name (UniDic tags many short words 人名).
"""

from __future__ import annotations

from kb.text.mecab import MeCabTokenizer, Morpheme

_HONORIFICS = frozenset({"様", "さん", "氏", "さま", "くん", "君", "ちゃん", "殿"})
# A "name" followed by one of these is a place or an organization: 桜川市, 中村橋, 鈴木病院.
_PLACE_SUFFIXES = frozenset(
    [
        "市",
        "町",
        "村",
        "区",
        "郡",
        "県",
        "都",
        "府",
        "駅",
        "局",
        "署",
        "館",
        "園",
        "校",
        "橋",
        "川",
        "山",
        "台",
        "通り",
        "病院",
        "医院",
        "クリニック",
        "小学校",
        "中学校",
        "高校",
        "学園",
        "公園",
        "団地",
        "地区",
        "商店",
        "工務店",
        "会",
        "社",
        "屋",
        "家",
        "線",
        "式",
        "法",
        "賞",
    ]
)
# Titles after a bare surname (鈴木係長): the surname is still a name.
_TITLE_HEADS = frozenset(
    [
        "係",
        "係長",
        "課長",
        "部長",
        "主任",
        "主査",
        "主事",
        "先生",
        "医師",
        "議員",
        "委員",
        "保健師",
        "相談員",
        "社長",
        "所長",
        "院長",
        "室長",
        "局長",
        "副",
        "課",
        "部",
        "さん",
        "様",
        "氏",
        "一家",
        "家族",
        "宅",
        "方",
    ]
)
# Role words that take さん: not names.
_ROLE_WORDS = frozenset(
    [
        "ケアマネ",
        "ケアマネージャー",
        "ヘルパー",
        "ドライバー",
        "ボランティア",
        "オーナー",
        "スタッフ",
        "ママ",
        "パパ",
    ]
)


def person_name_spans(
    tokenizer: MeCabTokenizer, text: str, *, honorific_only: bool = False
) -> list[tuple[int, int]]:
    """Character spans of ``text`` that MeCab reads as people's names.

    A span is a run of tokens tagged 名詞・固有名詞・人名 (姓, 名 or 一般), or a proper noun,
    unknown word or katakana word directly followed by an honorific (様, さん, 氏...). Tokens
    followed by a place or organization suffix (桜川市, 鈴木病院) are not names. Two name
    tokens separated by spaces form one span (山田 太郎). Used to mask names before text is
    stored or logged; over-masking a rare word is the lesser harm.

    Args:
        tokenizer: The shared tokenizer (its per-thread tagger is reused).
        text: Any text.
        honorific_only: Only names directly followed by an honorific (for published text,
            where bare surnames are more often places or officials).

    Returns:
        Sorted, non-overlapping ``(start, end)`` character offsets.
    """
    honorific = any(h in text for h in _HONORIFICS)
    if honorific_only and not honorific:
        # Every span then needs an honorific token after it: none can be found.
        return []
    words = tokenizer.morphemes(text)
    if not honorific and not any(_is_person(w) for w in words):
        # Without an honorific only a token tagged 人名 starts a span: most texts have none.
        return []
    flags = [_is_name_token(words, i) for i in range(len(words))]
    if not any(flags):
        return []
    starts: list[int] = []
    pos = 0
    for word in words:
        start = text.find(word.surface, pos)
        if start < 0:
            start = pos
        starts.append(start)
        pos = start + len(word.surface)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        if not flags[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and flags[j + 1]:
            j += 1
        nxt = words[j + 1].surface if j + 1 < len(words) else ""
        if nxt in _PLACE_SUFFIXES or (honorific_only and nxt not in _HONORIFICS):
            i = j + 1
            continue
        if nxt not in _HONORIFICS and not _plausible_bare_name(words, i, j):
            i = j + 1
            continue
        start, end = starts[i], starts[j] + len(words[j].surface)
        if spans and not text[spans[-1][1] : start].strip():
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        i = j + 1
    return spans


def _plausible_bare_name(words: list[Morpheme], i: int, j: int) -> bool:
    """Whether tokens ``i..j`` tagged 人名 without an honorific are really a name.

    UniDic tags many short words 人名 (マイナ in マイナ保険証, 日影 in 日影規制): a lone katakana
    token or a one-character token is not taken as a name, nor is a surname glued to a common
    noun other than a title (日影規制, but 鈴木係長 is a name).
    """
    if i == j:
        surface = words[i].surface
        if len(surface) < 2 or not all(_is_kanji(ch) for ch in surface):
            return False
    if j + 1 < len(words):
        nxt = words[j + 1]
        if nxt.pos1 == "名詞" and nxt.pos2 == "普通名詞" and nxt.surface not in _TITLE_HEADS:
            return False
    return True


def _is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch in "々〆ヶ"


def _is_person(word: Morpheme) -> bool:
    return word.pos2 == "固有名詞" and word.pos3 == "人名"


def _is_name_token(words: list[Morpheme], i: int) -> bool:
    word = words[i]
    surface = word.surface
    pos2 = word.pos2
    if pos2 == "固有名詞" and word.pos3 == "人名":
        return True
    if i + 1 >= len(words) or words[i + 1].surface not in _HONORIFICS:
        return False
    if surface in _ROLE_WORDS or not surface.isalnum():
        return False
    if word.pos1 == "名詞" and pos2 == "固有名詞":
        return word.pos3 != "地名"
    if word.unknown:
        return True
    return len(surface) >= 2 and all("\u30a1" <= ch <= "\u30fa" or ch == "ー" for ch in surface)
