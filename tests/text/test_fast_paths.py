"""Oracle tests: the fast paths of tokenizing and masking against their plain versions.

Ingest reads each MeCab node through memos and folds text with ``str.translate``; these tests
keep the straightforward implementations they replaced and check both give the same result on
random text, the way bm25s checks its sparse scores against a naive BM25.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.text.masking.fold import DASH_CHARS, DOT_CHARS, FORMAT_CHAR_RE, KANJI_DIGITS, fold
from kb.text.mecab import STOP_LEMMAS, MeCabTokenizer, Morpheme, _clean_lemma
from kb.text.mecab_input import tagger_pieces
from tests.text.test_properties import japanese_text

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_TOKENIZER = MeCabTokenizer()

# Characters whose folding is special: compatibility forms that expand (㈱, ㌃ with its long
# vowel), half-width katakana before ｰ, combining marks, every dash and wave dash.
_FOLD_PIECES = [
    *"㈱㌃①ｶﾞｰｱ゙か\u3099ー‐―−ｰ〜～〰一〇零ａＢ1-_ \u200b\u00ad\ufeff٣३·•\u2800\u1680\u3000\u2028⁃",
    "ｱｰﾙ",
    "カー",
    "1ー2",
]
fold_text = st.one_of(
    japanese_text,
    st.lists(st.sampled_from(_FOLD_PIECES), max_size=30).map("".join),
)


def _reference_fold(text: str) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """The per-character folding that :func:`kb.text.masking.patterns.fold` replaced: the
    folded text, where each of its characters starts in ``text`` and where it ends."""
    chars: list[str] = []
    origin: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        if FORMAT_CHAR_RE.match(ch):
            continue  # invisible format characters fold to nothing
        if ch in KANJI_DIGITS:
            out = KANJI_DIGITS[ch]
        elif not ch.isascii() and unicodedata.decimal(ch, None) is not None:
            out = str(unicodedata.decimal(ch))  # digits of other scripts
        elif ch in DASH_CHARS:
            long_vowel = ch in "\u30fc\uff70" and bool(chars) and "\u30a1" <= chars[-1] <= "\u30fc"
            out = "ー" if long_vowel else "-"
        elif ch in DOT_CHARS:
            out = "・"
        elif unicodedata.category(ch) in ("Zs", "Zl", "Zp") or ch == "\u2800":
            out = " "
        else:
            out = unicodedata.normalize("NFKC", ch)
            if out in ("\uff5e", "\u301c"):
                out = "~"
            if any(c in DASH_CHARS for c in out):
                out = "".join("-" if c in DASH_CHARS else c for c in out)
        for c in out or " ":
            if c in "\u3099\u309a" and chars:
                # A voiced mark (ﾞ, ﾟ, or combining) joins the kana before it: ｶﾞ → ガ.
                composed = unicodedata.normalize("NFC", chars[-1] + c)
                if len(composed) == 1:
                    chars[-1] = composed
                    ends[-1] = i + 1
                    continue
            chars.append(c)
            origin.append(i)
            ends.append(i + 1)
    return "".join(chars), tuple(origin), tuple(ends)


def _reference_lemmas(tokenizer: MeCabTokenizer, text: str) -> tuple[str, ...]:
    """Index terms as read from :meth:`MeCabTokenizer.analyze`, token by token."""
    out = []
    for token in tokenizer.analyze(text):
        term = token.lemma.strip()
        if token.content and term and term not in STOP_LEMMAS and any(c.isalnum() for c in term):
            out.append(term)
    return tuple(out)


def _reference_morphemes(tokenizer: MeCabTokenizer, text: str) -> list[Morpheme]:
    """Morphemes read from fugashi's named-tuple features, node by node, without memos.

    The text is tagged in the adapter's pieces (tested on their own in test_mecab.py), as
    MeCab cannot take every text whole (a NUL ends its input).
    """
    out = []
    for piece in tagger_pieces(text):
        for word in tokenizer._tagger()(piece.text):
            feature = word.feature
            surface = str(word.surface)
            lemma = _clean_lemma(str(feature.lemma or ""), surface)
            tags = (str(feature.pos1), str(feature.pos2), str(feature.pos3))
            pos4 = str(feature.pos4) if tags[2] == "人名" else ""
            out.append(Morpheme(surface, *tags, lemma, bool(word.is_unk), pos4))
    return out


@FAST
@given(fold_text)
def test_fold_matches_the_per_character_reference(text: str) -> None:
    folded = fold(text)
    expected_text, expected_origin, expected_ends = _reference_fold(text)
    assert folded.text == expected_text
    for start in range(len(expected_text)):
        for end in (start, start + 1, len(expected_text)):
            o_end = expected_ends[end - 1] if end > start else expected_origin[start]
            assert folded.span(start, end) == (expected_origin[start], o_end)


def test_fold_maps_expanded_characters_back() -> None:
    folded = fold("㈱ｶｰ")
    assert folded.text == "(株)カー"
    assert folded.span(0, 3) == (0, 1)
    assert folded.span(3, 5) == (1, 3)
    assert fold("1ーー").text == "1--"
    voiced = fold("ﾄｳｻﾞ ﾊﾟｽﾎﾟｰﾄ")
    assert voiced.text == "トウザ パスポート"  # the ｰ after ﾎﾟ stays a long vowel
    assert voiced.span(2, 3) == (2, 4)  # ザ is ｻﾞ, both characters
    assert voiced.span(4, 9) == (5, 12)


@FAST
@given(japanese_text)
def test_terms_match_the_token_by_token_reference(text: str) -> None:
    assert _TOKENIZER.terms(text) == _reference_lemmas(_TOKENIZER, text)
    assert _TOKENIZER.lemmas(text) == _reference_lemmas(_TOKENIZER, text)


def test_terms_of_surface_dependent_nodes() -> None:
    # Proper nouns keep their surface, symbols count when alphanumeric, unknown words fall
    # back to their surface: the memo keyed by features alone must not mix them up.
    for text in ("桜川市と東京都", "ABC と XYZ", "ｶﾀｶﾅとﾃｽﾄ", "アルファベット", "Ｇｏｏｇｌｅ"):
        assert _TOKENIZER.terms(text) == _reference_lemmas(_TOKENIZER, text)
    assert "桜川" in _TOKENIZER.terms("桜川市")
    assert _clean_lemma("ネット-net", "ネット") == "ネット"


@FAST
@given(st.one_of(japanese_text, fold_text))
def test_morphemes_match_the_node_by_node_reference(text: str) -> None:
    expected = _reference_morphemes(_TOKENIZER, text)
    assert _TOKENIZER.morphemes(text) == expected
    assert _TOKENIZER.morphemes(text) == expected  # again, from the memo
