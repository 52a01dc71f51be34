"""「正しい担当課は…」 feedback: a kNN vote that moves similar queries to the right department."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.embed.embedder import FakeEmbedder
from kb.search.feedback import DEFAULT_FLOOR, DepartmentFeedback
from kb.search.service import SearchService
from kb.store import FeedbackRecord, FeedbackStore

QUERY = "夫の物忘れがひどく一人で介護するのが不安"


def test_votes_come_from_similar_feedback_only(fake_embedder: FakeEmbedder) -> None:
    fb = DepartmentFeedback(k=3)
    added = fb.add(
        fake_embedder,
        [
            (1, QUERY, "介護保険課"),
            (2, QUERY + "です", "介護保険課"),
            (3, "粗大ごみの出し方", "ごみ減量推進課"),
            (4, "", "市民課"),  # empty query: ignored
        ],
    )
    assert added == 3
    assert fb.add(fake_embedder, [(1, QUERY, "介護保険課")]) == 0  # seen ids are skipped
    assert len(fb) == 3
    assert fb.floor == DEFAULT_FLOOR  # too few pairs to learn one
    votes = fb.votes(fake_embedder.encode_queries([QUERY])[0])
    assert [v.department for v in votes] == ["介護保険課"]
    assert votes[0].neighbours == 2
    assert 1.0 < votes[0].weight <= 2.0
    unrelated = fake_embedder.encode_queries(["住民票の写し コンビニ"])[0]
    assert all(v.department != "介護保険課" or v.weight < 0.5 for v in fb.votes(unrelated))


def test_floor_is_learned_from_different_department_pairs(fake_embedder: FakeEmbedder) -> None:
    fb = DepartmentFeedback(percentile=50)
    words = [
        "住民票",
        "転入",
        "税金",
        "介護",
        "ごみ",
        "保育",
        "年金",
        "犬",
        "道路",
        "水道",
        "選挙",
        "空き家",
    ]
    items = [
        (i, f"{words[i]}と{words[(i + 5) % 12]}の手続き", "市民課" if i % 2 else "税務課")
        for i in range(12)
    ]
    fb.add(fake_embedder, items)
    vectors = fake_embedder.encode_queries([q for _, q, _ in items])
    sims = vectors @ vectors.T
    labels = np.array([d for _, _, d in items])
    upper = np.triu(np.ones_like(sims, dtype=bool), k=1)
    different = sims[(labels[:, None] != labels[None, :]) & upper]
    assert fb.floor == min(0.99, float(np.percentile(different, 50)))
    assert 0 < fb.floor < 0.99


def test_service_picks_up_stored_feedback_live(
    index_root: Path, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    service = SearchService(index_root, fake_embedder, feedback_store=store)
    before = service.searcher().search(QUERY, k=5)
    first = before.departments[0].name
    # Staff say the runner-up was right: a plausible correction the vote must make.
    target = before.departments[1].name
    assert target != first
    store.add(FeedbackRecord("staff", QUERY, right_department=target))
    store.add(FeedbackRecord("staff", QUERY + "。", right_department=target))
    store.add(FeedbackRecord("staff", QUERY, helped_id="faq:F3"))  # not a department label
    after = service.searcher().search(QUERY, k=5)
    assert after.departments[0].name == target
    assert any(e.startswith("feedback:") for e in after.departments[0].evidence)
    assert len(service.department_feedback) == 2
    assert service.sync_feedback() == 0  # nothing new
    store.close()
