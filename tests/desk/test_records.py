"""Consultation records: masked like ingest, validated, closed into a searchable case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.desk.records import Desk, DeskContext, RecordDraft, case_document, context_for
from kb.embed.embedder import FakeEmbedder
from kb.errors import BusyError, DeskError
from kb.index.builder import build_index
from kb.index.lock import writer_lock
from kb.ingest.redact import Redactor, masker_for, public_phones
from kb.messages import language
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.store import EmbeddingCache, Store
from kb.text.masking import FULL
from kb.text.mecab import MeCabTokenizer
from kb.types import Document
from tests.conftest import fill_store
from tests.sample import DEPARTMENTS, DOCUMENTS

WORDS = "山田花子さん（090-1234-5678、中央町3丁目4番5号）から。市民課の099-555-1101に電話した"


@pytest.fixture
def settings(tmp_path: Path, tokenizer: MeCabTokenizer, fake_embedder: FakeEmbedder) -> Settings:
    """A data folder with the sample corpus stored and indexed (closing writes to it)."""
    settings = Settings(data_dir=tmp_path, model="fake", mask_keep_words=["中島"])
    store = Store(settings.store_path)
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    try:
        fill_store(store, tokenizer)
        build_index(store, fake_embedder, settings.index_root, cache=cache)
    finally:
        cache.close()
        store.close()
    return settings


@pytest.fixture
def desk(settings: Settings, tokenizer: MeCabTokenizer) -> Iterator[Desk]:
    d = Desk(settings, tokenizer)
    yield d
    d.close_stores()


@pytest.fixture
def ctx(desk: Desk, settings: Settings, fake_embedder: FakeEmbedder) -> Iterator[DeskContext]:
    searcher = Searcher.open(settings.index_root, fake_embedder, desk.tokenizer)
    yield desk.context(searcher)
    searcher.close()


def test_texts_are_masked_exactly_as_ingest_masks_a_case(
    desk: Desk, ctx: DeskContext, tokenizer: MeCabTokenizer
) -> None:
    record = desk.create(
        RecordDraft(citizen_words=WORDS, notes=WORDS, actions=WORDS, queries=[WORDS, " "]),
        ctx,
        actor="counsellor",
    )
    ingest = Redactor(masker_for(DEPARTMENTS, tokenizer, (), public_phones(DOCUMENTS)))
    expected = ingest.text(WORDS, FULL)
    assert record.citizen_words == record.notes == record.actions == expected
    assert record.queries == (expected,)  # blank searches dropped
    assert "[電話番号]" in expected
    assert "[氏名]" in expected
    assert "[住所]" in expected
    assert "099-555-1101" in expected  # the directory's number is public
    assert "090-1234-5678" not in expected
    assert "山田" not in expected
    stored = desk.records().get(record.id)
    assert stored == record
    assert record.created_by == "counsellor"
    assert record.status == "対応中"


def test_city_place_names_are_kept_like_ingest_keeps_them(desk: Desk, ctx: DeskContext) -> None:
    record = desk.create(RecordDraft(citizen_words="中島さんの家の前の道"), ctx, actor="a")
    assert record.citizen_words.startswith("中島")


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (RecordDraft(channel="FAX"), "相談経路"),
        (RecordDraft(departments=["総務課"]), "担当課一覧にありません"),
        (RecordDraft(date="2024/02/30"), "相談日"),
        (RecordDraft(notes="あ" * 100_001), "メモが長すぎます"),
        (RecordDraft(queries=["あ" * 2_001]), "検索履歴"),
    ],
)
def test_bad_fields_are_refused(
    desk: Desk, ctx: DeskContext, draft: RecordDraft, message: str
) -> None:
    with pytest.raises(DeskError, match=message) as raised:
        desk.create(draft, ctx, actor="a")
    assert raised.value.reason == "invalid"
    assert desk.records().find() == []


def test_fields_are_normalised(desk: Desk, ctx: DeskContext) -> None:
    record = desk.create(
        RecordDraft(
            channel="ｌｉｎｅ", date="令和7年4月1日", departments=["戸籍住民課", "市民課", " "]
        ),
        ctx,
        actor="a",
    )
    assert record.channel == "LINE"
    assert record.date == "2025-04-01"
    assert record.departments == ("市民課",)  # the alias is the directory's name, once


def test_edits_keep_what_is_not_given(desk: Desk, ctx: DeskContext) -> None:
    record = desk.create(RecordDraft(citizen_words="相談", channel="電話"), ctx, actor="a")
    edited = desk.update(record.id, RecordDraft(actions="案内した"), ctx)
    assert (edited.citizen_words, edited.channel, edited.actions) == ("相談", "電話", "案内した")
    with pytest.raises(DeskError) as raised:
        desk.update("R000099", RecordDraft(), ctx)
    assert raised.value.reason == "not_found"


def test_close_stores_the_case_and_the_new_index_finds_it(
    desk: Desk, ctx: DeskContext, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    record = desk.create(
        RecordDraft(citizen_words="庭のソーラーパネルの反射光がまぶしい", departments=["市民課"]),
        ctx,
        actor="a",
    )
    with pytest.raises(DeskError, match="対応内容") as raised:
        desk.close(record.id, RecordDraft(), ctx, fake_embedder)
    assert raised.value.reason == "invalid"
    closure = desk.close(
        record.id, RecordDraft(actions="設置者への相談方法を案内"), ctx, fake_embedder
    )
    assert closure.record.closed
    assert closure.record.closed_at
    assert closure.build.embedded == 1  # only the new case; the rest from the cache
    assert closure.build.cached > 0
    searcher = Searcher.open(settings.index_root, fake_embedder, desk.tokenizer)
    try:
        hits = searcher.search("ソーラーパネルの反射光", k=3).cases
        assert hits
        assert hits[0].id == f"desk-{record.id}"  # the case it became: case:desk-R000001
    finally:
        searcher.close()
    case = _stored(settings, record.case_id)
    assert case == case_document(closure.record)
    assert (case.kind, case.status, case.source) == ("case", "完了", f"desk:{record.id}")
    with pytest.raises(DeskError) as again:
        desk.close(record.id, RecordDraft(), ctx, fake_embedder)
    assert again.value.reason == "closed"


def test_close_waits_for_no_one_while_another_writer_holds_the_lock(
    desk: Desk, ctx: DeskContext, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    record = desk.create(RecordDraft(citizen_words="相談", actions="案内"), ctx, actor="a")
    with writer_lock(settings, "ingest"), pytest.raises(BusyError):
        desk.close(record.id, RecordDraft(), ctx, fake_embedder)
    assert not desk.get(record.id).closed  # nothing half done


def test_close_without_a_store_says_so(
    desk: Desk, ctx: DeskContext, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    record = desk.create(RecordDraft(citizen_words="相談", actions="案内"), ctx, actor="a")
    settings.store_path.rename(settings.data_dir / "moved.sqlite")
    with pytest.raises(DeskError) as raised:
        desk.close(record.id, RecordDraft(), ctx, fake_embedder)
    assert raised.value.reason == "unavailable"


def test_context_keeps_directory_aliases(tokenizer: MeCabTokenizer) -> None:
    ctx = context_for(DEPARTMENTS, [], tokenizer=tokenizer)
    assert ctx.department("戸籍住民課") == "市民課"
    assert ctx.department(" 市民課 ") == "市民課"
    with pytest.raises(DeskError, match="担当課一覧"):
        ctx.department("090-1234-5678課")
    with pytest.raises(DeskError) as raised:
        ctx.department("山田太郎 090-1234-5678")
    assert "090-1234-5678" not in str(raised.value)  # the error echoes what was typed, masked


def test_a_city_case_numbered_like_a_record_and_the_record_s_case_never_meet(
    desk: Desk,
    ctx: DeskContext,
    settings: Settings,
    fake_embedder: FakeEmbedder,
    tmp_path: Path,
    tokenizer: MeCabTokenizer,
) -> None:
    """A city's own R000001 and the desk's record R000001 are two cases, whatever the order."""
    from kb.ingest.pipeline import ingest

    cases = tmp_path / "city-cases.csv"
    cases.write_text(
        "id,date,summary,resolution,departments\n"
        "R000001,2024-06-01,市の事例番号の相談,市民課へ案内した,市民課\n"
        "desk-R000009,2024-06-02,窓口の番号を名乗る事例,市民課へ案内した,市民課\n",
        encoding="utf-8",
    )
    store = Store(settings.store_path)
    try:
        report = ingest([cases], store, tokenizer=tokenizer)
    finally:
        store.close()
    # The desk's namespace is refused (which line, which field, why); the city's number is kept.
    assert [(e.line, e.field) for e in report.errors] == [(3, "id")]
    assert "desk-" in report.errors[0].message
    record = desk.create(
        RecordDraft(citizen_words="窓口での相談", actions="案内した"), ctx, actor="a"
    )
    assert record.id == "R000001"
    desk.close(record.id, RecordDraft(), ctx, fake_embedder)
    store = Store(settings.store_path)
    try:
        docs = store.get_documents(["case:R000001", "case:desk-R000001", "case:desk-R000009"])
        # Read again after the close: the city's case is untouched by it.
        again = ingest([cases], store, tokenizer=tokenizer)
    finally:
        store.close()
    assert docs["case:R000001"].title == "市の事例番号の相談"
    assert docs["case:desk-R000001"].title == "窓口での相談"
    assert "case:desk-R000009" not in docs
    assert again.stats.unchanged == 1


def test_refusals_are_in_english_with_kb_lang_en(desk: Desk, ctx: DeskContext) -> None:
    with language("en"):
        with pytest.raises(DeskError, match="department '総務課' is not in the department"):
            desk.create(RecordDraft(departments=["総務課"]), ctx, actor="a")
        with pytest.raises(DeskError, match=r"the note text is too long \(100,001 characters"):
            desk.create(RecordDraft(notes="あ" * 100_001), ctx, actor="a")
        with pytest.raises(DeskError, match="the channel must be one of 窓口・電話"):
            desk.create(RecordDraft(channel="FAX"), ctx, actor="a")
        with pytest.raises(DeskError, match="there is no consultation record 'R000099'"):
            desk.get("R000099")
    with pytest.raises(DeskError, match="相談記録 'R000099' はありません"):
        desk.get("R000099")


def test_a_channel_is_read_as_an_ingest_reads_it(desk: Desk, ctx: DeskContext) -> None:
    # An outside tester's ingest read 来所 as 窓口; the console's API refused it.
    assert desk.create(RecordDraft(channel="来所"), ctx, actor="a").channel == "窓口"
    assert desk.create(RecordDraft(channel="ＴＥＬ"), ctx, actor="a").channel == "電話"


def _stored(settings: Settings, doc_id: str) -> Document:
    """The stored document ``doc_id``."""
    store = Store(settings.store_path)
    try:
        return store.get_documents([doc_id])[doc_id]
    finally:
        store.close()


def _racing_apply(
    desk: Desk, record_id: str, ctx: DeskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Make the first change applied save another member of staff's notes first: the edit
    that lands between a change's read of the record and its write."""
    apply = Desk._apply
    calls: list[RecordDraft] = []

    def racing(self: Desk, record: object, draft: RecordDraft, c: DeskContext) -> object:
        calls.append(draft)
        if len(calls) == 1:
            desk.update(record_id, RecordDraft(notes="聞き取りメモ"), ctx, actor="b")
        return apply(self, record, draft, c)  # type: ignore[arg-type]

    monkeypatch.setattr(Desk, "_apply", racing)


def test_an_edit_saved_meanwhile_is_kept_by_the_next(
    desk: Desk, ctx: DeskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = desk.create(RecordDraft(citizen_words="相談"), ctx, actor="a")
    _racing_apply(desk, record.id, ctx, monkeypatch)
    saved = desk.update(record.id, RecordDraft(actions="案内した"), ctx, actor="a")
    # Both: the whole row written back from the first read lost the notes (9 of 10 tries).
    assert (saved.notes, saved.actions, saved.updated_by) == ("聞き取りメモ", "案内した", "a")
    assert desk.get(record.id) == saved


def test_an_edit_saved_while_a_record_is_closed_is_in_the_record_and_its_case(
    desk: Desk,
    ctx: DeskContext,
    settings: Settings,
    fake_embedder: FakeEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = desk.create(RecordDraft(citizen_words="相談", actions="案内"), ctx, actor="a")
    _racing_apply(desk, record.id, ctx, monkeypatch)
    closure = desk.close(record.id, RecordDraft(category="届出"), ctx, fake_embedder, actor="a")
    assert (closure.record.notes, closure.record.category) == ("聞き取りメモ", "届出")
    assert closure.record.closed
    case = _stored(settings, record.case_id)
    assert case == case_document(closure.record)
