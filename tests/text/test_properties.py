"""Property-based tests (hypothesis) of normalization, MeCab tokenization and masking."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.text.masking import FULL, PUBLISHED, Masker, mask_personal
from kb.text.masking.names import person_name_spans
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize

# Bounded so the whole module stays within a few seconds on 2 cores.
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_TOKENIZER = MeCabTokenizer()
_MASKER = Masker(_TOKENIZER, keep_phones=("099-555-1101",), keep_words=("市民課",))

# Pieces that the rules care about, so random text reaches them often: digits in every width
# and script, separators, labels, honorifics, era names, address words.
_PIECES = [
    *"0123456789",
    *"０１２３４５６７８９",
    *"〇一二三四五六七八九十",
    *"-－ー‐―−()（） ・.,/:：@＠+",
    "様",
    "さん",
    "氏",
    "山田",
    "花子",
    "グエン",
    "マイナンバー",
    "個人番号",
    "記号",
    "番号",
    "基礎年金番号",
    "口座番号",
    "電話",
    "携帯",
    "TEL",
    "〒",
    "丁目",
    "番地",
    "番",
    "号",
    "号室",
    "中央町",
    "桜川市",
    "昭和",
    "平成",
    "令和",
    "年",
    "月",
    "日",
    "生まれ",
    "生年月日",
    "住所は",
    "example.com",
    "lg.jp",
    "市民課",
    "[氏名]",
    "[電話番号]",
    "。",
    "、",
    "\n",
    "\t",
    "\u200b",
    "鈴木太郎",
    "サンハイツ",
    "205号",
]
japanese_text = st.one_of(
    st.lists(st.sampled_from(_PIECES), max_size=40).map("".join),
    st.text(max_size=80),
    st.lists(
        st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)),
        max_size=30,
    ).map("".join),
)


@FAST
@given(japanese_text)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    kept = normalize(text, keep_newlines=True)
    assert normalize(kept, keep_newlines=True) == kept


@FAST
@given(japanese_text)
def test_tokenizer_never_crashes_and_offsets_point_into_the_text(text: str) -> None:
    text = normalize(text)
    for token in _TOKENIZER.analyze(text):
        assert 0 <= token.start <= len(text)
        assert text[token.start : token.start + len(token.surface)] == token.surface
    for lemma in _TOKENIZER.lemmas(text):
        assert lemma.strip()


@FAST
@given(japanese_text)
def test_name_spans_are_sorted_and_inside_the_text(text: str) -> None:
    spans = person_name_spans(_TOKENIZER, text)
    last = 0
    for start, end in spans:
        assert last <= start < end <= len(text)
        last = end


@FAST
@given(japanese_text)
def test_masking_is_idempotent(text: str) -> None:
    once = _MASKER.mask(text)
    assert _MASKER.mask(once) == once
    published = _MASKER.mask(text, PUBLISHED)
    assert _MASKER.mask(published, PUBLISHED) == published


@FAST
@given(japanese_text)
def test_masking_keeps_every_tab_and_line_break(text: str) -> None:
    # A table's columns and a record's lines keep their shape: no placeholder spans a break.
    for profile in (FULL, PUBLISHED):
        masked = _MASKER.mask(text, profile)
        for mark in "\t\n\r":
            assert masked.count(mark) == text.count(mark), (profile, mark)


@FAST
@given(japanese_text)
def test_mask_personal_is_idempotent(text: str) -> None:
    once = mask_personal(text, _TOKENIZER)
    assert mask_personal(once, _TOKENIZER) == once


@FAST
@given(japanese_text)
def test_no_10_to_12_digit_run_survives(text: str) -> None:
    masked = normalize(_MASKER.mask(text))
    for run in re.findall(r"[0-9]+", masked):
        assert not 10 <= len(run) <= 12, (text, masked)


@FAST
@given(
    st.from_regex(r"0[1-9]0-?[0-9]{4}-?[0-9]{4}", fullmatch=True),
    st.sampled_from(["", "携帯 ", "連絡先:", "自宅は"]),
    st.sampled_from(["", "です。", "に電話", "まで"]),
)
def test_every_phone_number_is_masked(number: str, before: str, after: str) -> None:
    wide = number.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    for variant in (number, wide):
        masked = _MASKER.mask(before + variant + after)
        assert "[電話番号]" in masked
        assert not re.search(r"[0-9０-９]{4}", masked)
