"""Matched-term highlighting from MeCab tokens (not substrings).

A span is highlighted when its token is a content word whose lemma is one of the query's
lexical terms (the same lemmas BM25 matched), so 「引っ越した」 in a text lights up for the query
「引っ越し」 while the 「市」 inside 「市民課」 does not for the query 「市」.
"""

from __future__ import annotations

from collections.abc import Sequence

from kb.text.mecab import MeCabTokenizer


def _utf16_offsets(text: str) -> list[int]:
    # Browsers index strings in UTF-16 code units: rare kanji outside the BMP (𠮟, 𩸽) count 2.
    out = [0]
    for ch in text:
        out.append(out[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return out


def highlight_spans(
    tokenizer: MeCabTokenizer, terms: Sequence[str], texts: Sequence[str]
) -> list[list[tuple[int, int]]]:
    """``[start, end)`` spans (UTF-16 offsets, for JavaScript) of matched terms per text.

    Args:
        tokenizer: The MeCab tokenizer the index was built with.
        terms: The query's lexical terms (lemmas, e.g. from ``Searcher.analyze``).
        texts: The texts as displayed.
    """
    wanted = set(terms)
    out: list[list[tuple[int, int]]] = []
    for text in texts:
        spans: list[tuple[int, int]] = []
        if wanted and text:
            offsets = _utf16_offsets(text)
            for token in tokenizer.analyze(text):
                if token.content and token.lemma in wanted and token.surface.strip():
                    start, end = token.start, token.start + len(token.surface)
                    if spans and spans[-1][1] == offsets[start]:
                        spans[-1] = (spans[-1][0], offsets[end])
                    else:
                        spans.append((offsets[start], offsets[end]))
        out.append(spans)
    return out
