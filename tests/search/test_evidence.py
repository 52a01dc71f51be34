"""The no-answer evidence a searcher reads (kb.search.evidence)."""

from __future__ import annotations

from kb.search.searcher import Searcher


def test_the_scale_is_measured_once_per_title_weight(searcher: Searcher) -> None:
    reader = searcher.evidence
    first = reader.calibration(0.5)
    assert reader.calibration(0.5) is first
    other = reader.calibration(0.0)
    assert other != first
    assert reader.calibration(0.5) == first


def test_the_shared_words_are_read_only_with_a_lexical_side(searcher: Searcher) -> None:
    query = "粗大ごみを出したい"
    hits = searcher.retrieve(query, k=3)["faq"]
    analysis, _ = searcher.rewrite(searcher.analyze(query))
    texts = [h.doc_id for h in hits]  # no word of the query in them
    qvec = searcher.embedder.encode_queries([analysis.text])[0]

    def read(lexical_side: bool, shown: list[str] | None) -> bool | None:
        ev = searcher.evidence.evidence(
            hits, "faq", analysis, qvec, title_weight=0.5, lexical_side=lexical_side, texts=shown
        )
        return ev.lexical

    assert read(True, texts) is False
    assert read(True, [query]) is True
    assert read(False, [query]) is None
    assert read(True, None) is None
