"""Hand-off sheets: from a record or a search, masked when stored, contact on paper only."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.desk import handoff as handoff_module
from kb.desk.handoff import (
    CitizenContact,
    HandoffDraft,
    sheet_docx,
    sheet_for,
    sheet_html,
    write_handoff,
)
from kb.desk.records import Desk, RecordDraft
from kb.embed.embedder import FakeEmbedder
from kb.errors import DeskError
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.text.mecab import MeCabTokenizer


@pytest.fixture
def searcher(
    index_root: Path, fake_embedder: FakeEmbedder, tokenizer: MeCabTokenizer
) -> Iterator[Searcher]:
    s = Searcher.open(index_root, fake_embedder, tokenizer)
    yield s
    s.close()


@pytest.fixture
def desk(tmp_path: Path, tokenizer: MeCabTokenizer) -> Iterator[Desk]:
    d = Desk(Settings(data_dir=tmp_path / "data"), tokenizer)
    yield d
    d.close_stores()


def test_from_a_record_takes_its_texts_and_finds_cases_and_manuals(
    desk: Desk, searcher: Searcher
) -> None:
    ctx = desk.context(searcher)
    record = desk.create(
        RecordDraft(
            citizen_words="夫の物忘れがひどく、一人で介護するのが不安",
            notes="田中さん（090-1111-2222）の妻から",
            actions="要介護認定の申請を案内",
        ),
        ctx,
        actor="a",
    )
    h = write_handoff(
        desk,
        HandoffDraft(to_department="高齢者支援課", urgency="至急", bring="保険証"),
        ctx,
        searcher,
        actor="a",
        record_id=record.id,
    )
    assert h.record_id == record.id
    assert h.summary == record.citizen_words
    assert h.heard == record.notes
    assert "090-1111-2222" not in h.heard
    assert h.done == "要介護認定の申請を案内"
    assert h.case_ids
    assert h.case_ids[0] == "case:C1"
    assert all(i.startswith("manual:") for i in h.manual_ids)
    assert desk.records().handoffs([record.id]) == [h]


def test_from_a_search_and_its_refusals(desk: Desk, searcher: Searcher) -> None:
    ctx = desk.context(searcher)

    def write(**fields: str) -> object:
        return write_handoff(desk, HandoffDraft(**fields), ctx, searcher, actor="a")

    with pytest.raises(DeskError, match="引継先"):
        write(summary="相談")
    with pytest.raises(DeskError, match="担当課一覧"):
        write(to_department="総務課", summary="相談")
    with pytest.raises(DeskError, match="緊急度"):
        write(to_department="市民課", urgency="あとで", summary="相談")
    with pytest.raises(DeskError, match="概要"):
        write(to_department="市民課")
    with pytest.raises(DeskError) as missing:
        write_handoff(desk, HandoffDraft(), ctx, searcher, actor="a", record_id="R000404")
    assert missing.value.reason == "not_found"
    h = write(to_outside="社会福祉協議会 0120-000-111", summary="住民票の写しがほしい")
    assert h.record_id == ""
    assert h.to_outside.startswith("社会福祉協議会")


def test_sheet_html_is_escaped_a4_and_shows_contact_only_when_given(
    desk: Desk, searcher: Searcher
) -> None:
    ctx = desk.context(searcher)
    h = write_handoff(
        desk,
        HandoffDraft(
            to_department="市民課", summary="<img src=x onerror=alert(1)>住民票", urgency="緊急"
        ),
        ctx,
        searcher,
        actor="a",
    )
    plain = sheet_html(sheet_for(desk, h, searcher, CitizenContact(), sender="総合相談窓口"))
    assert "<img" not in plain
    assert "&lt;img src=x" in plain
    assert "size: A4" in plain
    assert "@media print" in plain
    assert "<script" not in plain
    assert "099-555-1101" in plain
    assert "本庁舎1階" in plain
    assert "記載していません" in plain
    assert "総合相談窓口" in plain
    assert "class=urgent>緊急" in plain
    assert "（日本時間）" in plain  # stored in UTC, printed as the city reads it
    contact = CitizenContact("佐藤 花子", "080-0000-1111")
    printed = sheet_html(sheet_for(desk, h, searcher, contact))
    assert "佐藤 花子" in printed
    assert "080-0000-1111" in printed
    with pytest.raises(DeskError, match="100 文字"):
        sheet_for(desk, h, searcher, CitizenContact("あ" * 101))


def test_sheet_docx_has_the_same_content(desk: Desk, searcher: Searcher) -> None:
    import docx

    ctx = desk.context(searcher)
    h = write_handoff(
        desk,
        HandoffDraft(to_department="市民課", summary="転入の\x00手続き"),
        ctx,
        searcher,
        actor="a",
    )
    data = sheet_docx(sheet_for(desk, h, searcher, CitizenContact("佐藤 花子\x00", "\x1b")))
    document = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert f"引継ぎ票 {h.id}" in text
    assert "転入の手続き" in text
    assert "佐藤 花子" in cells
    assert "市民課" in cells
    assert document.core_properties.subject == "市民課"


def test_a_record_erased_while_its_sheet_is_written_leaves_no_sheet(
    desk: Desk, searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sheet was stored after the erasure between the record's read and the write, with the
    record's text, where no later erasure could find it (an outside tester's race)."""
    ctx = desk.context(searcher)
    record = desk.create(
        RecordDraft(citizen_words="騒音の苦情", actions="環境保全課を案内"), ctx, actor="a"
    )
    found = handoff_module.similar

    def erased_meanwhile(*args: object, **kwargs: object) -> object:
        desk.records().remove_records([record.id])  # an administrator's erasure, meanwhile
        return found(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(handoff_module, "similar", erased_meanwhile)
    with pytest.raises(DeskError) as raised:
        write_handoff(
            desk,
            HandoffDraft(to_outside="社会福祉協議会"),
            ctx,
            searcher,
            actor="a",
            record_id=record.id,
        )
    assert raised.value.reason == "not_found"
    assert desk.records().handoffs([record.id]) == []
    assert desk.records().handoff("H000001") is None
