"""How texts are cut for MeCab: bounded pieces, at good boundaries, offsets kept."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.text.mecab_input import MAX_TAGGER_CHARS, Piece, tagger_pieces

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_cover(text: str, pieces: list[Piece], limit: int) -> None:
    """The pieces are consecutive, cover ``text``, fit ``limit`` and differ only where allowed."""
    at = 0
    for piece in pieces:
        assert piece.start == at
        assert 0 < len(piece.text) <= limit
        original = text[at : at + len(piece.text)]
        assert piece.altered == (original != piece.text)
        for was, now in zip(original, piece.text, strict=True):
            if was != now:
                assert (was, now) == ("\x00", " ") or (
                    "\ud800" <= was <= "\udfff" and now == "\ufffd"
                )
        assert "\x00" not in piece.text
        at += len(piece.text)
    assert at == len(text)


def test_an_ordinary_text_is_one_unaltered_piece() -> None:
    text = "転入届はどこで出せますか。市民課の窓口です。"
    assert tagger_pieces(text) == [Piece(0, text, False)]
    assert tagger_pieces("") == []
    exact = "あ" * MAX_TAGGER_CHARS
    assert tagger_pieces(exact) == [Piece(0, exact, False)]


def test_long_text_is_cut_after_sentence_ends() -> None:
    sentence = "転入届は市民課の窓口で受け付けます。"  # 18 characters
    text = sentence * 200
    pieces = tagger_pieces(text, limit=100)
    _check_cover(text, pieces, 100)
    assert len(pieces) > 1
    assert all(p.text.endswith("。") for p in pieces)


def test_without_sentence_ends_spaces_then_commas_then_script_changes() -> None:
    spaced = "word " * 100
    assert all(p.text.endswith(" ") for p in tagger_pieces(spaced, limit=64)[:-1])
    commas = "転入、" * 100
    assert all(p.text.endswith("、") for p in tagger_pieces(commas, limit=64)[:-1])
    # No punctuation at all: the cut falls between kanji and hiragana, never inside a run.
    mixed = "手続きをおこなう" * 50
    for piece in tagger_pieces(mixed, limit=64)[:-1]:
        assert piece.text.endswith(("続", "う")), piece.text[-3:]


def test_a_run_of_one_character_is_cut_hard() -> None:
    text = "x" * 10_000
    pieces = tagger_pieces(text)
    _check_cover(text, pieces, MAX_TAGGER_CHARS)
    assert len(pieces) == 10


def test_a_hard_cut_keeps_combining_marks_and_joiners_with_their_character() -> None:
    text = "e\u0301" * 1000  # e + combining acute
    pieces = tagger_pieces(text, limit=101)
    _check_cover(text, pieces, 101)
    for piece in pieces:
        assert unicodedata.category(piece.text[0]) != "Mn"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 200  # ZWJ sequences
    for piece in tagger_pieces(family, limit=50):
        assert piece.text[0] != "\u200d"
        assert not piece.text.startswith(("\U0001f469", "\U0001f467")), piece.start


def test_nul_and_lone_surrogates_are_replaced_one_for_one() -> None:
    text = "山田\x00さん\ud800です\udfff"
    [piece] = tagger_pieces(text)
    assert piece == Piece(0, "山田 さん\ufffdです\ufffd", True)
    long = ("a\x00" * 700) + ("b\ud83d" * 700)
    _check_cover(long, tagger_pieces(long), MAX_TAGGER_CHARS)


def test_a_text_without_any_boundary_still_progresses() -> None:
    # Only combining marks: no good cut anywhere, yet every piece holds characters.
    text = "\u0301" * 50
    pieces = tagger_pieces(text, limit=3)
    _check_cover(text, pieces, 3)


hostile = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            [
                "x" * 97,
                "1" * 53,
                "あ" * 41,
                "ア",
                "漢字",
                "。",
                " ",
                "、",
                "\x00",
                "\ud800",
                "\u0301",
                "\u200d",
                "\u200f",
                "\u202e",
                "\U0001f600",
                "\ufe0f",
                "\n",
                "e\u0301",
            ]
        ),
        max_size=60,
    ).map("".join),
)


@FAST
@given(hostile, st.integers(min_value=1, max_value=120))
def test_pieces_always_cover_the_text_within_the_limit(text: str, limit: int) -> None:
    _check_cover(text, tagger_pieces(text, limit=limit), limit)


@pytest.mark.parametrize("size", [MAX_TAGGER_CHARS + 1, 3 * MAX_TAGGER_CHARS + 7])
def test_just_over_the_limit(size: int) -> None:
    text = "あ" * size
    pieces = tagger_pieces(text)
    _check_cover(text, pieces, MAX_TAGGER_CHARS)
    assert len(pieces) == -(-size // MAX_TAGGER_CHARS)
