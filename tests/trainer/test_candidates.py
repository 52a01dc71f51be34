"""FAQ candidates: drafted from a topic, unpublished until approved, then searchable at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import TrainerError
from kb.index.builder import build_index
from kb.index.folder import current_index
from kb.messages import language
from kb.search.searcher import Searcher
from kb.store import EmbeddingCache, FaqCandidateStore, Store
from kb.text.mecab import MeCabTokenizer
from kb.trainer.candidates import approve_candidate, draft_candidate, edit_candidate
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.topics import compute_topics
from kb.types import Filters
from tests.conftest import fill_store

PUBLIC = Filters(kinds=("faq",), published_only=True)


def test_draft_from_the_typical_case_with_personal_data_masked(
    corpus: TrainerCorpus, tokenizer: MeCabTokenizer
) -> None:
    topics = compute_topics(corpus, tokenizer, department="ごみ減量推進課")
    topic = topics.topics[0]
    # A phone number in a case resolution must not reach a public answer.
    first = corpus.case(topic.representative[0])
    assert first is not None
    cases = tuple(
        dataclasses.replace(c, body="090-1234-5678に折り返し連絡した。" + c.body)
        if c.doc_id == first.doc_id
        else c
        for c in corpus.cases
    )
    corpus = dataclasses.replace(corpus, cases=cases)
    store = FaqCandidateStore(None)
    c = draft_candidate(corpus, topic, store, tokenizer)
    assert c.id == "FC0001"
    assert c.status == "draft"
    assert c.topic_id == "ごみ減量推進課-01"
    assert "粗大ごみ" in c.question
    assert c.question.endswith(("。", "？", "か"))
    assert "090-1234-5678" not in c.answer
    assert "[電話番号]" in c.answer
    # The department's own (public) number stays.
    assert c.answer.endswith(
        "詳しくはごみ減量推進課（電話 099-555-1113、東館1階）へお問い合わせください。"
    )
    assert c.department == "ごみ減量推進課"
    assert set(c.source_cases) == set(topic.representative)
    assert store.get("FC0001") == c
    assert draft_candidate(corpus, topic, store, tokenizer).id == "FC0002"


def test_edit_keeps_what_is_left_empty(corpus: TrainerCorpus, tokenizer: MeCabTokenizer) -> None:
    store = FaqCandidateStore(None)
    topic = compute_topics(corpus, tokenizer, k=3).topics[0]
    c = draft_candidate(corpus, topic, store, tokenizer)
    edited = edit_candidate(store, c.id, question="マイナンバーカードをなくしたら？")
    assert edited.question == "マイナンバーカードをなくしたら？"
    assert edited.answer == c.answer
    with language("en"), pytest.raises(TrainerError, match="no FAQ candidate 'FC9999'"):
        edit_candidate(store, "FC9999", answer="x")
    with pytest.raises(TrainerError, match="FAQ候補 'FC9999' はありません（あるもの: FC0001）"):
        edit_candidate(store, "FC9999", answer="x")


def test_approving_publishes_with_only_the_new_entry_embedded(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    embedder = FakeEmbedder(64)
    store = Store(tmp_path / "kb.sqlite")
    fill_store(store, tokenizer)
    root = tmp_path / "indexes"
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    build_index(store, embedder, root, cache=cache)
    first = current_index(root)
    candidates = FaqCandidateStore(tmp_path / "trainer.sqlite")
    from kb.store import FaqCandidate

    candidates.save(
        FaqCandidate(
            id="FC0001",
            topic_id="all-01",
            question="犬の鑑札をなくしました。再交付できますか。",
            answer="環境衛生課で再交付できます。手数料は1,600円です。",
            department="市民課",
        )
    )
    before = Searcher(first, embedder, tokenizer)
    hits = before.search("犬の鑑札をなくした", k=5, filters=PUBLIC)
    assert "FC0001" not in [f.id for f in hits.faqs]
    before.close()

    approval = approve_candidate(
        candidates,
        "FC0001",
        store=store,
        embedder=embedder,
        index_root=root,
        cache=cache,
        tokenizer=tokenizer,
    )
    assert approval.candidate.status == "approved"
    assert approval.candidate.approved_at
    assert candidates.get("FC0001").status == "approved"  # type: ignore[union-attr]
    assert approval.build.embedded == 1  # the new entry only; the rest came from the cache
    assert approval.build.cached == approval.build.chunks - 1
    assert current_index(root) != first
    doc = store.get_documents(["faq:FC0001"])["faq:FC0001"]
    assert doc.published
    assert doc.source == "trainer:all-01"

    after = Searcher(current_index(root), embedder, tokenizer)
    result = after.search("犬の鑑札をなくした", k=5, filters=PUBLIC)
    assert result.faqs[0].id == "FC0001"
    assert result.faqs[0].department == "市民課"
    after.close()

    with language("en"), pytest.raises(TrainerError, match="already approved"):
        approve_candidate(
            candidates, "FC0001", store=store, embedder=embedder, index_root=root, cache=cache
        )
    with pytest.raises(TrainerError, match="FC0001 は承認済みのため変更できません"):
        approve_candidate(
            candidates, "FC0001", store=store, embedder=embedder, index_root=root, cache=cache
        )
    store.close()
    cache.close()


def test_question_is_what_was_asked_not_who_asked() -> None:
    from kb.trainer.candidates import _question_from

    sentences = [
        "電話にて、60代男性。",
        "台風で床上浸水した家の畳や家具を捨てたい。",
        "量が多い。",
        "相談者は70代女性。",
    ]
    assert (
        _question_from(sentences, ("台風", "浸水")) == "台風で床上浸水した家の畳や家具を捨てたい。"
    )
    quoted = ["相談者は30代父親。", "「退園させたほうがいいのか」。"]
    assert _question_from(quoted, ("保育",)) == "退園させたほうがいいのか。"
    assert _question_from(["30代女性が転入届を出したい。"], ()) == "転入届を出したい。"
