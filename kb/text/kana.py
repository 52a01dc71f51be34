"""Kana and kanji helpers shared by the reading index, query rewriting and suggest.

Readings are compared as hiragana: MeCab gives them in katakana, citizens type them in
hiragana, and a loanword typed in hiragana (「こんびに」) should meet its katakana spelling.
Long vowels are left as the normalizer leaves them (ー after katakana, and so after the
hiragana it becomes). :func:`is_grammar` tells the kana of grammar (particles, auxiliaries,
light verbs) from a content word typed unconverted.
"""

from __future__ import annotations

_KATA_TO_HIRA = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}  # ァ..ヶ → ぁ..ゖ
_KATA_TO_HIRA.update({0x30FD: 0x309D, 0x30FE: 0x309E})  # ヽヾ → ゝゞ


def to_hiragana(text: str) -> str:
    """Katakana turned into hiragana; everything else (ー, latin, kanji) unchanged."""
    return text.translate(_KATA_TO_HIRA)


def is_kanji(ch: str) -> bool:
    """CJK ideographs (unified, extension A and beyond, compatibility) and 々〆."""
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3FFFF
        or ch in "々〆"
    )


def has_kanji(text: str) -> bool:
    """Whether ``text`` holds at least one kanji."""
    return any(is_kanji(ch) for ch in text)


def is_hiragana(ch: str) -> bool:
    """Hiragana letters and the long-vowel mark (as typed in a hiragana word: 「こーひー」)."""
    return "\u3041" <= ch <= "\u3096" or ch == "ー"


def is_katakana_word(text: str) -> bool:
    """Whether ``text`` is written in katakana only (and ー), and is not empty."""
    return bool(text) and all("\u30a1" <= ch <= "\u30fa" or ch == "ー" for ch in text)


def grams(text: str, n: int) -> list[str]:
    """The character ``n``-grams of ``text`` in order (``text`` itself when shorter)."""
    if len(text) <= n:
        return [text] if text else []
    return [text[i : i + n] for i in range(len(text) - n + 1)]


def _forms(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The closed class of modern Japanese grammar, as MeCab (unidic-lite) tags it: particles,
# auxiliaries, the light verbs and adjectives that carry inflection (する・いる・なる・ある・
# できる・くれる…), 様・そう, formal nouns (こと・とき・ため…), まだ・もう and pronouns, in
# the written forms they take. Kept
# by part of speech because the same kana are content words elsewhere (いい in いいんかい).
# Classical and dialect readings (り, き, ず as ざん, ぜ, けん, ど, せい) are left out on
# purpose: MeCab reaches for them when it cuts an unconverted content word into pieces
# (「せいど」 → せい + ど for 制度), and those pieces must stay convertible.
_GRAMMAR: dict[str, frozenset[str]] = {
    "助詞": _forms(
        "が の を に へ と より から で や ば ても でも けれど けれども けど のに ので し て "
        "ながら たり だり つつ は も こそ さえ しか すら ばかり まで だけ ほど くらい ぐらい "
        "など なんか なり やら か な よ ね かな かしら わ ぞ さ って とか"
    ),
    "助動詞": _forms(
        "ない なかっ なく なけれ なきゃ ず ぬ ん たい たく たかっ たけれ ます まし ませ ましょ "
        "です でし でしょ だ だっ だろ た たら たろ せ せる させ させる れ れる られ られる "
        "う よう まい らしい らしく らしかっ そう みたい な に で でしょう だろう ましょう"
    ),
    "動詞": _forms(
        "し する すれ しろ さ せ しよ い いる いれ いろ なる なら なり なっ なれ なろ ある "
        "あり あっ あれ あろ でき できる できれ できよ こ き くる くれ こよ いく いき いけ "
        "いか いっ いこ み みる みれ みよ おく おき おい おか おけ しまう しまい しまっ しまわ "
        "ちゃ ちゃう ちゃっ くれる もらう もらい もらっ もらえ もらわ あげ あげる くださ "
        "ください くださる いただ いただく いただき いただけ いただい"
    ),
    "形容詞": _forms(
        "ない なく なかっ なけれ なき いい よい よく よかっ よけれ ほしい ほしく ほしかっ"
    ),
    "形状詞": _forms("よう そう みたい"),
    "名詞": _forms("こと もの ところ とき ため はず わけ"),
    "副詞": _forms("まだ もう"),
    "代名詞": _forms(
        "わたし わたくし ぼく おれ あなた これ それ あれ どれ ここ そこ あそこ どこ こちら "
        "そちら あちら どちら なに なん だれ いつ"
    ),
}


def is_grammar(surface: str, pos1: str) -> bool:
    """Whether a morpheme (its surface and MeCab's top-level part of speech) is grammar.

    Grammar is a particle, an auxiliary, a light verb or adjective in one of its modern forms
    (し, ない, いる, なっ, ください…), 様 or そう, a formal noun (こと, とき, ため…), まだ or
    もう, or a pronoun: what a query's kana are when they are not a word the citizen left
    unconverted.
    """
    return surface in _GRAMMAR.get(pos1, ())


_O_ROW = frozenset("おこごそぞとどのほぼぽもよろをょ")
_U_ROW = frozenset("うくぐすずつづぬふぶぷむゆるゅ")


def without_long_vowels(kana: str) -> str:
    """``kana`` (hiragana) with its long vowels taken out: how it reads when they slip.

    ー goes, and so do the う after an お- or う-row kana and the お after an お-row kana:
    じゅうみんひょう, じゅみんひょう and じゅうみんひょお all give じゅみんひょ; たくしーけん
    and たくしけん give たくしけん; なんようび and なんよおび give なんよび -- the typos an
    outside probe found costing most (a long vowel dropped, or its う typed お).
    """
    out: list[str] = []
    for ch in kana:
        before = out[-1] if out else ""
        if ch == "ー" or (ch == "う" and (before in _O_ROW or before in _U_ROW)):
            continue
        if ch == "お" and before in _O_ROW:
            continue
        out.append(ch)
    return "".join(out)
