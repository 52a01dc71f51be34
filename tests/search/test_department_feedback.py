"""「正しい担当課は…」 feedback: a kNN vote that moves rephrasings of the query, nothing else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.search.feedback import DepartmentFeedback, reference_titles
from kb.search.searcher import Searcher
from kb.search.service import SearchService
from kb.store import FeedbackRecord, FeedbackStore

QUERY = "夫の物忘れがひどく一人で介護するのが不安"
REFERENCE = [
    "住民票の写しはどこで取れますか",
    "転入の手続きを教えてください",
    "粗大ごみの出し方を知りたい",
    "定期購入の健康食品を解約したい",
    "道路に穴があいている",
    "犬の登録をしたい",
    "保育園に入りたい",
    "国民健康保険の保険料",
    "児童手当の申請",
    "空き家の管理について",
    "選挙の投票所はどこ",
    "水道料金の支払い",
]


def calibrated(embedder: FakeEmbedder, percentile: float = 90.0) -> DepartmentFeedback:
    fb = DepartmentFeedback(k=3, percentile=percentile)
    fb.calibrate(embedder.encode_queries(REFERENCE))
    return fb


def test_uncalibrated_feedback_never_votes(fake_embedder: FakeEmbedder) -> None:
    fb = DepartmentFeedback()
    fb.add(fake_embedder, [(1, QUERY, "介護保険課")])
    assert fb.floor is None
    assert not fb.calibrated
    assert fb.votes(fake_embedder.encode_queries([QUERY])[0]) == []
    assert fb.weight(1.0) == 0.0


def test_the_floor_is_a_percentile_of_the_reference_and_weights_follow_its_tail() -> None:
    vectors = np.random.default_rng(7).normal(size=(40, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    fb = DepartmentFeedback(percentile=90.0)
    fb.calibrate(vectors)
    pairs = np.sort((vectors @ vectors.T)[np.triu_indices(40, k=1)])
    assert fb.floor == pytest.approx(float(np.percentile(pairs, 90.0)))
    assert fb.weight(fb.floor) == 0.0  # at the floor: no evidence
    assert fb.weight(float(pairs[-1]) + 1e-3) == 1.0  # beyond every unrelated pair
    # In between: the share of the reference's upper tail that lies below it.
    middle = float(pairs[int(len(pairs) * 0.95)])
    share = np.searchsorted(pairs, middle, side="right") / len(pairs)
    assert fb.weight(middle) == pytest.approx((share - 0.9) / 0.1)
    assert 0.3 < fb.weight(middle) < 0.7
    # Too little reference to calibrate on: nothing may vote.
    alone = DepartmentFeedback()
    alone.calibrate(vectors[:1])
    assert alone.floor == 1.0
    assert alone.weight(0.999) == 0.0
    with pytest.raises(ValueError, match="percentile"):
        DepartmentFeedback(percentile=100)


def test_votes_come_from_rephrasings_only(fake_embedder: FakeEmbedder) -> None:
    fb = calibrated(fake_embedder)
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
    votes = fb.votes(fake_embedder.encode_queries([QUERY])[0])
    assert [v.department for v in votes] == ["介護保険課"]
    assert votes[0].neighbours == 2
    assert 1.0 < votes[0].weight <= 2.0
    for unrelated in ["住民票の写し コンビニ", "道路に穴", "犬の登録", "転入届", "保育園"]:
        assert fb.votes(fake_embedder.encode_queries([unrelated])[0]) == [], unrelated


def test_one_counsellor_is_one_vote(fake_embedder: FakeEmbedder) -> None:
    # An outside attacker sent five identical corrections from one staff key and put the
    # election office first for every counsellor's dementia query.
    qvec = fake_embedder.encode_queries([QUERY])[0]
    one = calibrated(fake_embedder)
    one.add(
        fake_embedder,
        [(i, QUERY + "。" * (i % 2), "選挙管理委員会事務局") for i in range(1, 6)],
        who=dict.fromkeys(range(1, 6), "desk-7"),
    )
    [vote] = one.votes(qvec)
    assert vote.neighbours == 1
    assert vote.weight <= 1.0
    # Nor do its copies crowd other counsellors out of the k nearest (k = 3 here).
    one.add(fake_embedder, [(9, QUERY + "です", "介護保険課")], who={9: "desk-2"})
    one.add(fake_embedder, [(10, QUERY + "です。", "介護保険課")], who={10: "desk-3"})
    votes = {v.department: v.neighbours for v in one.votes(qvec)}
    assert votes == {"選挙管理委員会事務局": 1, "介護保険課": 2}
    # Five counsellors who say the same are five votes; feedback from before the key was kept
    # (no actor) counts record by record.
    many = calibrated(fake_embedder)
    many.add(
        fake_embedder,
        [(i, QUERY, "介護保険課") for i in range(1, 4)],
        who={1: "desk-1", 2: "desk-2"},
    )
    assert many.votes(qvec)[0].neighbours == 3


def test_reference_titles_are_a_stable_sample_of_faq_and_case_titles(searcher: Searcher) -> None:
    titles = reference_titles(searcher.store, searcher._doc_of, searcher._kind_positions)
    again = reference_titles(searcher.store, searcher._doc_of, searcher._kind_positions)
    assert titles == again
    assert "粗大ごみの出し方を知りたい。" in titles  # an FAQ question
    assert any(t.startswith("70代女性") for t in titles)  # a case summary
    assert "認知症の相談を受けたら" not in titles  # manuals are not questions
    assert (
        len(reference_titles(searcher.store, searcher._doc_of, searcher._kind_positions, limit=3))
        == 3
    )


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


def test_feedback_without_a_department_is_read_once(
    index_root: Path, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    # The widget's anonymous 「役に立った」 records hold no department: a flood of them must
    # not be read again on every request (it was, until the next staff correction).
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    service = SearchService(index_root, fake_embedder, feedback_store=store)
    service.searcher()
    store.add(FeedbackRecord("staff", QUERY, right_department="市民課"))
    assert service.sync_feedback() == 1
    for _ in range(50):
        store.add(FeedbackRecord("public", QUERY, helped_id="faq:F3", helpful=True))
    reads: list[tuple[int, int | None]] = []
    labels = store.department_labels

    def counted(after_id: int = 0, up_to_id: int | None = None) -> list[tuple[int, str, str]]:
        reads.append((after_id, up_to_id))
        return labels(after_id, up_to_id)

    store.department_labels = counted  # type: ignore[method-assign]
    assert service.sync_feedback() == 0
    assert service.sync_feedback() == 0
    assert service.sync_feedback() == 0
    assert reads == [(1, 51)]  # the public records were read once, then passed
    store.add(FeedbackRecord("staff", QUERY + "。", right_department="市民課"))
    assert service.sync_feedback() == 1
    assert reads[-1] == (51, 52)
    plan = store._db.execute(
        "explain query plan select id from feedback where id > 0 and right_department != ''"
    ).fetchall()
    assert "feedback_right_department" in str(plan)
    store.close()


def test_the_store_keeps_who_corrected_and_reads_a_file_from_before(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "feedback.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "create table feedback (id integer primary key, created_at text, source text, "
        "query text, shown text, helped_id text, right_department text, helpful integer)"
    )
    old.execute(
        "insert into feedback values (1, '2026-01-01', 'staff', 'q', '[]', '', '市民課', null)"
    )
    old.commit()
    old.close()
    store = FeedbackStore(path)
    store.add(FeedbackRecord("staff", "q2", right_department="福祉課", actor="desk-1"))
    assert store.department_labels() == [(1, "q", "市民課", ""), (2, "q2", "福祉課", "desk-1")]
    assert [r.actor for r in store.recent()] == ["desk-1", ""]
    store.close()
