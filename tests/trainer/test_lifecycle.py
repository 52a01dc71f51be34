"""The FAQ lifecycle: revise, a second approver, reject, withdraw, 公開期限 at query time."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import FaqRefused, TrainerError
from kb.index.folder import current_index
from kb.messages import language
from kb.search import expiry
from kb.search.searcher import Searcher
from kb.search.suggest import Suggester, suggester_for
from kb.store import FaqCandidate, FaqCandidateStore, Store, document_hash
from kb.text.mecab import MeCabTokenizer
from kb.trainer.lifecycle import FaqEdit, approvals_after, faq_document
from kb.trainer.service import Trainer
from kb.types import Document, Filters
from tests.conftest import fill_store

PUBLIC = Filters(kinds=("faq",), published_only=True)
EMBEDDER = FakeEmbedder(64)


def searcher_of(t: Trainer) -> Searcher:
    return Searcher(current_index(t.settings.index_root), EMBEDDER, t.tokenizer)


def public_ids(s: Searcher, query: str) -> list[str]:
    return [f.id for f in s.search(query, k=5, filters=PUBLIC).faqs]


def with_approvers(t: Trainer, n: int) -> Trainer:
    t.settings = t.settings.model_copy(update={"faq_approvers": n})
    return t


# --- fields -------------------------------------------------------------------------------


def test_an_edit_is_checked_and_normalised() -> None:
    edit = FaqEdit(
        question=" 粗大ごみは？ ", url="https://www.city.example.jp/gomi", expires="令和12年3月31日"
    ).checked()
    assert edit.question == "粗大ごみは？"
    assert edit.expires == "2030-03-31"  # far ahead: no window of case dates
    assert FaqEdit(updated="2025/4/1").checked().updated == "2025-04-01"
    assert FaqEdit(expires="").checked().expires == ""  # cleared
    with pytest.raises(FaqRefused, match="http:// か https://") as bad_url:
        FaqEdit(url="javascript:alert(1)").checked()
    assert bad_url.value.reason == "invalid"
    with pytest.raises(FaqRefused, match="公開期限の日付が読めません：来年の春"):
        FaqEdit(expires="来年の春").checked()
    with pytest.raises(FaqRefused, match="回答を空にはできません"):
        FaqEdit(answer="  ").checked()
    # NUL, a zero-width space and an ideographic space: nothing a citizen would see.
    with pytest.raises(FaqRefused, match="回答を空にはできません"):
        FaqEdit(answer="\x00\u200b\u3000").checked()
    # Control characters go; line breaks and tabs stay.
    assert FaqEdit(answer="市民課\x00へ\n\t電話").checked().answer == "市民課へ\n\t電話"


def test_second_approver_rules() -> None:
    c = FaqCandidate("FC0001", "all-01", "質問", "回答", "市民課", edited_by="tanaka")
    # One approver (the default): whoever drafted may publish, as before.
    assert approvals_after(c, "tanaka", 1) == ("tanaka",)
    # Two: the drafter may give 承認1, not the approval that publishes.
    assert approvals_after(c, "tanaka", 2) == ("tanaka",)
    first = dataclasses.replace(c, approvals=("suzuki",))
    with pytest.raises(FaqRefused, match="作成または最後に編集したため") as drafter:
        approvals_after(first, "tanaka", 2)
    assert drafter.value.reason == "forbidden"
    with pytest.raises(FaqRefused, match="すでに承認しています（承認1）") as twice:
        approvals_after(first, "suzuki", 2)
    assert twice.value.reason == "conflict"
    assert approvals_after(first, "sato", 2) == ("suzuki", "sato")
    with pytest.raises(FaqRefused, match="承認した人が分かりません"):
        approvals_after(c, "", 2)


def test_a_draft_holding_a_masked_span_is_never_approved() -> None:
    # Drafted from a case: the masking caught the date of birth, not the rare name before it,
    # which approval would have sent to the public widget.
    answer = "遠藤蒼空氏(エンドウ ソラ)、[生年月日]生まれ。相談は福祉課へ。"
    c = FaqCandidate("FC0002", "all-02", "相談先は？", answer, "福祉課")
    with pytest.raises(FaqRefused, match=r"回答に伏せ字（\[生年月日\]）があります") as held:
        approvals_after(c, "tanaka", 1)
    assert held.value.reason == "invalid"
    both = dataclasses.replace(c, question="[氏名]さんの相談先は？")
    with pytest.raises(FaqRefused, match=r"質問・回答に伏せ字（\[氏名\]・\[生年月日\]）"):
        approvals_after(both, "tanaka", 1)
    rewritten = dataclasses.replace(c, answer="ご家族の介護の相談は福祉課へ。")
    assert approvals_after(rewritten, "tanaka", 1) == ("tanaka",)


# --- approval, revision, rejection ---------------------------------------------------------


def test_two_approvers_publish_only_at_the_second(trainer: Trainer) -> None:
    t = with_approvers(trainer, 2)
    candidates = t.candidates()
    candidates.save(
        FaqCandidate(
            "FC0001", "all-01", "犬の鑑札をなくしました。再交付できますか。",
            "環境衛生課で再交付できます。", "市民課", edited_by="tanaka",
        )
    )  # fmt: skip
    serving = current_index(t.settings.index_root)
    # 承認1 by the drafter is allowed; it publishes nothing.
    first = t.approve("FC0001", EMBEDDER, by="tanaka")
    assert not first.published
    assert first.candidate.approvals == ("tanaka",)
    assert t.candidates().get("FC0001").approvals == ("tanaka",)  # type: ignore[union-attr]
    assert current_index(t.settings.index_root) == serving  # nothing built
    with pytest.raises(FaqRefused, match="tanaka さんは FAQ候補 FC0001 をすでに承認"):
        t.approve("FC0001", EMBEDDER, by="tanaka")
    second = t.approve("FC0001", EMBEDDER, by="suzuki")
    assert second.published
    assert second.candidate.status == "approved"
    assert second.candidate.approvals == ("tanaka", "suzuki")
    s = searcher_of(t)
    assert public_ids(s, "犬の鑑札をなくした")[0] == "FC0001"
    s.close()


def test_an_edit_that_adds_personal_data_is_never_published(trainer: Trainer) -> None:
    # The draft came from masked cases; the trainer's edit did not pass the masking.
    t = trainer
    t.candidates().save(FaqCandidate("FC0001", "all-01", "質問です。", "回答です。", "福祉課"))
    answer = "楠瀬 咲良様（090-1313-2424、S30.5.3生）の例のように、福祉課で相談できます。"
    t.edit("FC0001", edit=FaqEdit(answer=answer), by="tanaka")
    serving = current_index(t.settings.index_root)
    with pytest.raises(FaqRefused, match="回答に個人情報と思われる箇所") as held:
        t.approve("FC0001", EMBEDDER, by="suzuki")
    assert held.value.reason == "invalid"
    assert "[氏名]" in str(held.value)
    assert "[電話番号]" in str(held.value)
    assert "[生年月日]" in str(held.value)
    assert "楠瀬" not in str(held.value)  # the message never quotes it
    assert current_index(t.settings.index_root) == serving  # nothing built
    assert t.candidates().get("FC0001").status == "draft"  # type: ignore[union-attr]
    # Nor does a first approval of two count.
    with pytest.raises(FaqRefused, match="個人情報"):
        with_approvers(t, 2).approve("FC0001", EMBEDDER, by="suzuki")
    assert t.candidates().get("FC0001").approvals == ()  # type: ignore[union-attr]
    # Nor a name written into the department: not a department of the directory, refused as
    # it is written, without the name.
    with pytest.raises(FaqRefused, match="担当課一覧にありません") as unknown:
        t.edit(
            "FC0001",
            edit=FaqEdit(answer="市民課で相談できます。", department="市民課 楠瀬咲良様"),
            by="tanaka",
        )
    assert unknown.value.reason == "invalid"
    assert "楠瀬" not in str(unknown.value)
    # The department's own contact (the directory's phone) is no personal data.
    store = Store(t.settings.store_path, read_only=True)
    phone = next(d.phone for d in store.departments() if d.name == "市民課")
    store.close()
    edit = FaqEdit(answer=f"市民課（{phone}）で相談できます。", department="市民課")
    t.edit("FC0001", edit=edit, by="tanaka")
    assert with_approvers(t, 1).approve("FC0001", EMBEDDER, by="suzuki").published


def test_an_edited_department_is_one_of_the_directory_written_as_it_names_it(
    trainer: Trainer,
) -> None:
    # An outside tester: any text was accepted as the department and published with the entry.
    t = trainer
    t.candidates().save(FaqCandidate("FC0001", "all-01", "質問です。", "回答です。", "市民課"))
    with pytest.raises(FaqRefused, match="担当課「住民票係」は担当課一覧にありません"):
        t.edit("FC0001", edit=FaqEdit(department="市民課、住民票係"), by="tanaka")
    assert t.candidates().get("FC0001").department == "市民課"  # type: ignore[union-attr]
    # An alias is written as the directory's name; several are kept in order, once each.
    edited = t.edit("FC0001", edit=FaqEdit(department="戸籍住民課｜介護保険課|市民課"), by="tanaka")
    assert edited.department == "市民課、介護保険課"


@pytest.mark.parametrize(
    "edit",
    [
        # An outside attacker's bypasses of the first check (the FAQ file rules alone).
        FaqEdit(answer="担当の楠瀬咲良が対応します。"),  # a name without an honorific
        FaqEdit(answer="問い合わせは sakura.kusunose@gmail.com へ。"),
        FaqEdit(answer="LINE ID: sakura_k0503 で受け付けます。"),
        FaqEdit(answer="<b>楠瀬</b><b>咲良</b>様に連絡してください。"),  # tags split the name
        FaqEdit(answer="<a href='mailto:sakura.k@gmail.com'>問い合わせ</a>"),
        FaqEdit(url="https://example.com/?name=楠瀬咲良&tel=09012345678"),
        FaqEdit(question="粗大ごみの連絡先は携帯 090-1234", answer="-5678 です。"),  # split
    ],
)
def test_an_edit_is_checked_with_the_rules_of_records(trainer: Trainer, edit: FaqEdit) -> None:
    t = trainer
    t.candidates().save(FaqCandidate("FC0001", "all-01", "質問です。", "回答です。", "福祉課"))
    t.edit("FC0001", edit=edit, by="tanaka")
    with pytest.raises(FaqRefused, match="個人情報と思われる箇所") as held:
        t.approve("FC0001", EMBEDDER, by="suzuki")
    assert "楠瀬" not in str(held.value)
    assert "sakura" not in str(held.value)


def test_what_a_public_answer_needs_is_approved(trainer: Trainer) -> None:
    # A facility's address and an office's landline are what an FAQ answer is for.
    answer = "本庁舎（桜川市中央町1-2-3）の福祉課、電話 0120-000-111 で受け付けます。"
    trainer.candidates().save(FaqCandidate("FC0001", "all-01", "相談先は？", answer, "福祉課"))
    assert trainer.approve("FC0001", EMBEDDER, by="suzuki").published


def test_the_drafter_cannot_publish_and_an_edit_voids_approvals(trainer: Trainer) -> None:
    t = with_approvers(trainer, 2)
    t.candidates().save(FaqCandidate("FC0001", "all-01", "質問です。", "回答です。", "市民課"))
    t.approve("FC0001", EMBEDDER, by="suzuki")
    edited = t.edit("FC0001", edit=FaqEdit(answer="直した回答です。"), by="tanaka")
    assert edited.approvals == ()  # suzuki approved other text
    assert edited.edited_by == "tanaka"
    t.approve("FC0001", EMBEDDER, by="suzuki")
    with pytest.raises(FaqRefused) as refused:
        t.approve("FC0001", EMBEDDER, by="tanaka")
    assert refused.value.reason == "forbidden"
    assert t.candidates().get("FC0001").status == "draft"  # type: ignore[union-attr]


def test_revising_a_stored_entry_keeps_its_id_and_source(trainer: Trainer) -> None:
    store = Store(trainer.settings.store_path)
    original = store.get_documents(["faq:F6"])["faq:F6"]
    store.upsert([(dataclasses.replace(original, source="faq.csv:7"), [])])
    store.close()
    c = trainer.revise("F6", by="tanaka")
    assert c.target == "F6"
    assert c.faq_id == "F6"
    assert c.question == "粗大ごみの出し方を知りたい。"
    assert trainer.revise("faq:F6", by="sato").id == c.id  # the open draft, not a second one
    trainer.edit(
        c.id,
        edit=FaqEdit(
            answer="粗大ごみは電話かインターネットで申し込んでください。", owner="ごみ減量推進課",
            expires="2099-03-31", url="https://www.city.example.jp/sodai",
        ),
        by="tanaka",
    )  # fmt: skip
    approval = trainer.approve(c.id, EMBEDDER, by="tanaka")
    assert approval.published
    assert approval.build is not None
    assert approval.build.embedded == 1
    store = Store(trainer.settings.store_path, read_only=True)
    doc = store.get_documents(["faq:F6"])["faq:F6"]
    store.close()
    assert doc.body.startswith("粗大ごみは電話か")
    assert doc.owner == "ごみ減量推進課"
    assert doc.expires == "2099-03-31"
    assert doc.updated == expiry.today()  # 更新日 left empty: the day it was published
    assert doc.source == "faq.csv:7"  # still the file's entry, not the trainer's
    with pytest.raises(TrainerError, match="FAQ F404 はありません"):
        trainer.revise("F404")


def test_reject_needs_a_reason_and_is_final(trainer: Trainer) -> None:
    trainer.candidates().save(
        FaqCandidate("FC0001", "all-01", "質問です。", "回答です。", "市民課")
    )
    with pytest.raises(FaqRefused, match="却下の理由を入力してください"):
        trainer.reject("FC0001", "  ", by="sato")
    c = trainer.reject("FC0001", "担当課の確認が取れないため", by="sato")
    assert (c.status, c.rejected_by, c.reason) == ("rejected", "sato", "担当課の確認が取れないため")
    assert c.rejected_at
    # The reason is kept and shown on the trainer page: a citizen named in it is masked.
    trainer.candidates().save(FaqCandidate("FC0002", "all-01", "質問。", "回答。", "市民課"))
    named = trainer.reject("FC0002", "山田太郎様（090-1234-5678）の件と重複", by="sato")
    assert named.reason == "[氏名]様（[電話番号]）の件と重複"
    with language("en"), pytest.raises(FaqRefused, match="already rejected") as again:
        trainer.approve("FC0001", EMBEDDER, by="suzuki")
    assert again.value.reason == "conflict"
    with pytest.raises(FaqRefused, match="FAQ候補 FC0001 は却下済みのため変更できません"):
        trainer.approve("FC0001", EMBEDDER, by="suzuki")


# --- withdraw and 公開期限 ------------------------------------------------------------------


def test_withdraw_and_republish(trainer: Trainer) -> None:
    before = searcher_of(trainer)
    assert "F6" in public_ids(before, "粗大ごみの出し方")
    before.close()
    change = trainer.set_published("F6", False, EMBEDDER)
    assert not change.document.published
    assert change.build.embedded == 0  # the same text: every vector from the cache
    s = searcher_of(trainer)
    assert "F6" not in public_ids(s, "粗大ごみの出し方")
    assert "F6" not in [x.id for x in suggester_for(s).suggest("粗大ごみ")]
    assert not suggester_for(s).is_public("F6")
    # Staff still find it.
    assert "F6" in [f.id for f in s.search("粗大ごみの出し方", k=5).faqs]
    s.close()
    with pytest.raises(FaqRefused, match="すでに公開停止中です"):
        trainer.set_published("F6", False, EMBEDDER)
    trainer.set_published("F6", True, EMBEDDER)
    s = searcher_of(trainer)
    assert "F6" in public_ids(s, "粗大ごみの出し方")
    s.close()


def test_an_expired_entry_leaves_public_search_on_the_day(
    trainer: Trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = trainer.revise("F6")
    trainer.edit(c.id, edit=FaqEdit(expires="2030-06-01"))
    trainer.approve(c.id, EMBEDDER)
    s = searcher_of(trainer)  # one searcher, as a service running for weeks
    monkeypatch.setattr(expiry, "today", lambda: "2030-06-01")  # the last public day
    assert "F6" in public_ids(s, "粗大ごみの出し方")
    assert "F6" in [x.id for x in suggester_for(s).suggest("粗大ごみ")]
    assert suggester_for(s).is_public("F6")
    monkeypatch.setattr(expiry, "today", lambda: "2030-06-02")
    assert "F6" not in public_ids(s, "粗大ごみの出し方")
    assert "F6" not in [x.id for x in suggester_for(s).suggest("粗大ごみ")]
    assert not suggester_for(s).is_public("F6")
    staff = next(f for f in s.search("粗大ごみの出し方", k=5).faqs if f.id == "F6")
    assert staff.expired
    assert staff.expires == "2030-06-01"
    s.close()


def test_suggester_drops_expired_entries(
    tokenizer: MeCabTokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = Suggester(
        [("A", "粗大ごみの出し方", "ごみ減量推進課"), ("B", "粗大ごみの料金", "ごみ減量推進課")],
        tokenizer,
        expires={"A": "2030-01-31"},
    )
    monkeypatch.setattr(expiry, "today", lambda: "2030-01-31")
    assert {x.id for x in s.suggest("粗大ごみ")} == {"A", "B"}
    monkeypatch.setattr(expiry, "today", lambda: "2030-02-01")
    assert {x.id for x in s.suggest("粗大ごみ")} == {"B"}


def test_japan_time_decides_the_day() -> None:
    assert expiry.JST.utcoffset(None).total_seconds() == 9 * 3600  # type: ignore[union-attr]
    assert expiry.is_expired("2030-01-01", "2030-01-02")
    assert not expiry.is_expired("2030-01-01", "2030-01-01")
    assert not expiry.is_expired("", "2030-01-02")


# --- stored data from before these fields ------------------------------------------------


def test_hashes_of_documents_without_the_new_fields_do_not_change() -> None:
    doc = Document("faq:F1", "faq", "質問", "回答", ("市民課",), published=True)
    old = json.dumps(
        ["faq", "質問", "回答", ["市民課"], "", "", True, "", "", "", "", []], ensure_ascii=False
    )
    assert document_hash(doc) == hashlib.sha256(old.encode()).hexdigest()[:32]
    assert document_hash(dataclasses.replace(doc, expires="2030-01-01")) != document_hash(doc)


def test_old_store_and_snapshot_without_the_columns(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    path = tmp_path / "kb.sqlite"
    store = Store(path)
    fill_store(store, tokenizer)
    store.close()
    with closing(sqlite3.connect(path)) as db:
        for column in ("owner", "updated", "expires"):
            db.execute(f"alter table documents drop column {column}")
        db.commit()
    old = Store(path, read_only=True)  # an index snapshot made before the columns existed
    assert set(old.chunk_metadata()["expires"]) == {""}
    assert old.get_documents(["faq:F1"])["faq:F1"].expires == ""
    old.close()
    store = Store(path)  # the live store gets the columns on its next write
    doc = dataclasses.replace(
        store.get_documents(["faq:F1"])["faq:F1"], expires="2030-01-01", owner="市民課"
    )
    from kb.ingest.chunking import chunk_document

    assert store.upsert([(doc, chunk_document(doc, tokenizer))]).updated == 1
    assert store.get_documents(["faq:F1"])["faq:F1"].expires == "2030-01-01"
    store.close()


def test_old_candidate_file_gets_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "trainer.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "create table faq_candidates (id text primary key, topic_id text, question text, "
            "answer text, department text, category text, source_cases text, status text, "
            "created_at text, approved_at text)"
        )
        db.execute(
            "insert into faq_candidates values ('FC0001', 'all-01', 'Q', 'A', '市民課', '', "
            "'[]', 'approved', '2025-01-01', '2025-01-02')"
        )
        db.commit()
    store = FaqCandidateStore(path)
    c = store.get("FC0001")
    assert c is not None
    assert (c.status, c.target, c.approvals, c.faq_id) == ("approved", "", (), "FC0001")
    store.save(dataclasses.replace(c, reason="x", approvals=("a", "b")))
    assert store.get("FC0001").approvals == ("a", "b")  # type: ignore[union-attr]
    store.close()


def test_faq_document_of_a_new_entry() -> None:
    c = FaqCandidate("FC0002", "all-02", "Q", "A", "市民課、国際交流課", owner="市民課")
    doc = faq_document(c)
    assert doc.doc_id == "faq:FC0002"
    assert doc.departments == ("市民課", "国際交流課")
    assert doc.published
    assert doc.source == "trainer:all-02"
    assert doc.owner == "市民課"
