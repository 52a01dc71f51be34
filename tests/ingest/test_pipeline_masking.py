"""No free-text field escapes masking: category, status, departments, file names, row errors, ids.

The reproduction: a case file named after the citizen, whose category and status carry her name
and phone number, is ingested; neither the store, the index snapshot, the search results nor the
row errors may hold any trace of them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.index.builder import build_index
from kb.ingest.columns import load_mapping
from kb.ingest.pipeline import ingest
from kb.ingest.redact import (
    CHECKED_FIELDS,
    DIRECTORY_FIELDS,
    ENUM_FIELDS,
    SOURCE_FIELDS,
    TEXT_FIELDS,
    Redactor,
    masker_for,
)
from kb.messages import language
from kb.search.searcher import Searcher
from kb.store import EmbeddingCache, RawTextStore, Store
from kb.text.masking import Masker
from kb.text.mecab import MeCabTokenizer
from kb.types import Department, Document, RowError

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")

CASE_FILE = "相談記録_佐々木和子_090-5555-6666.csv"
MASKED_FILE = "相談記録_[氏名]_[電話番号].csv"
DEPTS_CSV = """name,duties,phone,location,hours
市民課,住民票・戸籍・転入転出,099-555-1101,本庁舎1階,平日 8:30～17:15
高齢者支援課,介護保険・高齢者の相談,099-555-1108,本庁舎2階,平日 8:30～17:15
"""
CASES_CSV = "\n".join(
    [
        "id,date,channel,category,summary,resolution,department,status",
        # line 2: the reproduction (category and status as counsellors wrote them)
        "C1,2024-04-02,電話,佐々木和子様の件,転入の手続きの相談。,市民課で転入届を受付。,"
        "市民課,完了（佐々木様 090-5555-6666 へ連絡済）",
        # line 3: a 受付番号 is an id, and a department the directory does not know
        "2024-0012,2024-04-03,窓口,介護,母の介護保険の相談。,高齢者支援課へ案内。,"
        "高齢者支援課|佐々木和子様,対応中",
        # line 4: a bad date that quotes her name and number back in the row error
        "C3,佐々木和子 090-5555-6666,窓口,介護,相談。,案内。,市民課,完了",
        # lines 5-7: ids that carry a phone number or a name are refused
        "090-5555-6666,2024-04-05,電話,介護,相談。,案内。,市民課,完了",
        "佐々木-001,2024-04-06,電話,介護,相談。,案内。,市民課,完了",
        "C-09055556666,2024-04-07,電話,介護,相談。,案内。,市民課,完了",
        # line 8: a 10-digit record number is not a phone number
        "2024040001,2024-04-08,窓口,届出,住民票の写しの請求。,市民課で交付。,市民課,完了",
        "",
    ]
)
SECRETS = ("佐々木", "和子", "090-5555-6666", "5555-6666", "09055556666")


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "departments.csv").write_text(DEPTS_CSV, encoding="utf-8")
    (folder / CASE_FILE).write_text(CASES_CSV, encoding="utf-8")
    return folder


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, (secret, text[:400])


def test_category_status_departments_and_file_name_are_masked_in_the_store(
    src: Path, tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    store = Store(tmp_path / "db" / "kb.sqlite")
    report = ingest([src], store, tokenizer=tokenizer)
    c1 = store.get_documents(["case:C1"])["case:C1"]
    assert c1.category == "[氏名]様の件"
    assert c1.status == "完了（[氏名]様 [電話番号] へ連絡済）"
    assert c1.channel == "電話"
    assert c1.source == f"{src}/{MASKED_FILE}:2"
    numbered = store.get_documents(["case:2024-0012"])["case:2024-0012"]
    # Directory names are kept as written; a name the directory does not know is masked.
    assert numbered.departments == ("高齢者支援課", "[氏名]様")
    assert numbered.category == "介護"
    assert "case:2024040001" in store.get_documents(["case:2024040001"])
    dept = next(d for d in store.departments() if d.name == "市民課")
    assert dept.source == f"{src}/departments.csv:2"  # nothing to mask: kept as written
    assert report.files == (f"{src}/departments.csv", f"{src}/{MASKED_FILE}")
    store.close()
    _assert_clean(_all_bytes(tmp_path / "db").decode("utf-8", "replace"))


def test_row_errors_name_the_masked_file_and_line_and_quote_no_personal_data(
    src: Path, tokenizer: MeCabTokenizer
) -> None:
    store = Store(None)
    report = ingest([src], store, tokenizer=tokenizer)
    by_line = {e.line: e for e in report.errors}
    assert sorted(by_line) == [4, 5, 6, 7]
    for error in report.errors:
        assert error.source == f"{src}/{MASKED_FILE}"
        _assert_clean(str(error))
    assert by_line[4].field == "date"
    assert "'[氏名] [電話番号]'" in by_line[4].message  # still says what is wrong with the cell
    for line in (5, 6, 7):
        assert by_line[line].field == "id"
        assert "個人情報" in by_line[line].message
    assert "ID（[電話番号]）" in by_line[5].message
    assert "ID（[氏名]-001）" in by_line[6].message
    refused = ["case:090-5555-6666", "case:佐々木-001", "case:C-09055556666", "case:C3"]
    assert store.get_documents(refused) == {}
    assert set(store.get_documents(["case:C1", "case:2024-0012", "case:2024040001"])) == {
        "case:C1",
        "case:2024-0012",
        "case:2024040001",
    }
    store.close()


def test_the_index_snapshot_and_search_results_hold_no_trace(
    src: Path, tmp_path: Path, tokenizer: MeCabTokenizer, fake_embedder: FakeEmbedder
) -> None:
    store = Store(tmp_path / "kb.sqlite")
    ingest([src], store, tokenizer=tokenizer)
    root = tmp_path / "indexes"
    build_index(store, fake_embedder, root, cache=EmbeddingCache(tmp_path / "emb.sqlite"))
    store.close()
    _assert_clean(_all_bytes(root).decode("utf-8", "replace"))
    searcher = Searcher.open(root, fake_embedder, tokenizer)
    try:
        for query in ("転入の手続き", "介護保険", "佐々木和子", "090-5555-6666"):
            result = searcher.search(query, k=10)
            shown_result = dataclasses.asdict(result)
            assert shown_result.pop("query") == query  # the echo of what was typed
            _assert_clean(json.dumps(shown_result, ensure_ascii=False))
            shown = searcher.store.get_documents([f"case:{c.id}" for c in result.cases])
            assert len(shown) == len(result.cases)
            rows = [dataclasses.asdict(d) for d in shown.values()]
            _assert_clean(json.dumps(rows, ensure_ascii=False))
        assert next(c.id for c in searcher.search("転入の手続き", k=3).cases) == "C1"
    finally:
        searcher.close()


def test_unreadable_files_are_named_by_their_masked_name(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    empty = tmp_path / "佐々木和子_090-5555-6666.csv"
    empty.write_text("", encoding="utf-8")
    report = ingest([empty], Store(None), tokenizer=tokenizer)
    assert report.failed_files == (f"{tmp_path}/[氏名]_[電話番号].csv",)
    (error,) = report.errors
    assert error.source == f"{tmp_path}/[氏名]_[電話番号].csv"
    assert error.message == "file is empty"


def test_admin_uploads_are_labelled_by_upload_id_and_masked_name(
    src: Path, tokenizer: MeCabTokenizer
) -> None:
    store = Store(None)
    report = ingest([src / CASE_FILE], store, tokenizer=tokenizer, upload_id="0123abcd")
    assert report.files == (f"upload:0123abcd/{MASKED_FILE}",)
    assert store.get_documents(["case:C1"])["case:C1"].source == (
        f"upload:0123abcd/{MASKED_FILE}:2"
    )
    assert {e.source for e in report.errors} == {f"upload:0123abcd/{MASKED_FILE}"}
    store.close()


def test_reingest_replaces_a_file_name_stored_before_masking(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    clean_cases = "id,date,summary,resolution\nC1,2024-04-02,転入の相談。,市民課で受付。\n"
    (folder / CASE_FILE).write_text(clean_cases, encoding="utf-8")
    db = tmp_path / "db"
    store = Store(db / "kb.sqlite")
    ingest([folder], store, tokenizer=tokenizer, mask=False)  # as an older version stored it
    store.close()
    assert CASE_FILE.encode() in _all_bytes(db)
    store = Store(db / "kb.sqlite")
    again = ingest([folder], store, tokenizer=tokenizer)
    # The text did not change, so nothing is re-embedded; only the label is replaced.
    assert (again.stats.unchanged, again.stats.updated) == (1, 0)
    assert store.get_documents(["case:C1"])["case:C1"].source == f"{folder}/{MASKED_FILE}:2"
    upload = ingest([folder / CASE_FILE], store, tokenizer=tokenizer, upload_id="feed01")
    assert upload.stats.unchanged == 1
    assert store.get_documents(["case:C1"])["case:C1"].source == f"upload:feed01/{MASKED_FILE}:2"
    store.close()
    assert CASE_FILE.encode() not in _all_bytes(db)


def test_raw_text_store_gets_the_masked_file_name_too(
    src: Path, tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    store = Store(None)
    raw = RawTextStore(tmp_path / "raw.sqlite")
    ingest([src], store, tokenizer=tokenizer, raw_store=raw)
    raw_c1 = raw.get("case:C1")
    assert raw_c1 is not None  # the unmasked text is kept there on purpose...
    raw.close()
    store.close()
    # ...but the file name is not part of that text.
    assert CASE_FILE.encode() not in (tmp_path / "raw.sqlite").read_bytes()


def test_manual_whose_file_name_carries_a_name_is_refused(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    folder = tmp_path / "manuals"
    folder.mkdir()
    (folder / "佐々木和子様の対応記録.md").write_text(
        "# 経緯\n本文。\n\n# 対応\n本文。\n", encoding="utf-8"
    )
    (folder / "guide.md").write_text(
        "---\ntitle: 佐々木和子様の対応手順\ndepartment: [市民課, 佐々木様]\n---\n"
        "## 受付\n窓口で受け付ける。\n",
        encoding="utf-8",
    )
    store = Store(None)
    report = ingest([folder], store, tokenizer=tokenizer)
    (error,) = report.errors  # one error for the file, not one per section
    assert error == RowError(f"{folder}/[氏名]様の対応記録.md", 0, "id", error.message), error
    assert "ファイル名" in error.message
    docs = store.get_documents(["manual:guide#1", "manual:佐々木和子様の対応記録#1"])
    assert list(docs) == ["manual:guide#1"]
    guide = docs["manual:guide#1"]
    assert guide.doc_title == "[氏名]様の対応手順"
    assert guide.departments == ("市民課", "[氏名]様")
    store.close()


# --- the Redactor --------------------------------------------------------------------------


def test_every_document_field_is_either_masked_checked_or_the_source() -> None:
    groups = TEXT_FIELDS + DIRECTORY_FIELDS + ENUM_FIELDS + CHECKED_FIELDS + SOURCE_FIELDS
    assert len(groups) == len(set(groups))
    assert sorted(groups) == sorted(f.name for f in dataclasses.fields(Document))


@pytest.mark.parametrize("kind", ["case", "faq", "manual"])
def test_personal_data_in_any_free_text_field_is_masked(
    kind: str, tokenizer: MeCabTokenizer
) -> None:
    secret = "佐々木和子様 090-5555-6666"
    doc = Document(
        doc_id=f"{kind}:X1",
        kind=kind,  # type: ignore[arg-type]
        title=secret,
        body=secret,
        category=secret,
        status=secret,
        doc_title=secret,
        heading_path=(secret, "手続き"),
        departments=("市民課", secret),
        channel=secret,  # not one of CASE_CHANNELS (the readers refuse it; a caller may not)
    )
    redactor = Redactor(masker_for([Department("市民課", "住民票")], tokenizer))
    clean = redactor.document(doc)
    for name in TEXT_FIELDS + DIRECTORY_FIELDS + ENUM_FIELDS:
        _assert_clean(json.dumps(getattr(clean, name), ensure_ascii=False))
    assert clean.departments[0] == "市民課"
    assert clean.heading_path[1] == "手続き"
    assert redactor.document(clean) is clean  # masking is idempotent


def test_department_records_and_clean_documents_are_returned_as_they_are(
    tokenizer: MeCabTokenizer,
) -> None:
    redactor = Redactor(Masker(tokenizer))
    dept = Document(doc_id="department:市民課", kind="department", title="市民課", body="山田係長")
    assert redactor.document(dept) is dept
    case = Document(
        doc_id="case:C9", kind="case", title="転入", body="受付", category="届出", channel="窓口"
    )
    assert redactor.document(case) is case


@pytest.mark.parametrize(
    ("local", "refused"),
    [
        ("C0001", False),
        ("2024-0012", False),
        ("2024040001", False),  # ten digits not starting with 0: a record number
        ("F-0071", False),
        ("09055556666", True),
        ("C-090-5555-6666", True),
        ("123456789012", True),  # twelve digits: a My Number
        ("佐々木和子", True),
        ("taro@example.com", True),
        # A bare name, a residence card number, a name in Latin letters: the masking needs
        # context to take them for personal data, and an id has none.
        ("鬼頭琥珀-01", True),
        ("鬼頭-琥珀", True),
        ("UH47821936EF", True),
        ("NGUYEN-VAN-DUNG", True),
        ("相談-2024-001", False),
        ("H30-12345", False),
        ("AB-1234", False),
        # A second attacker's variants: a digit after the name, separators, a phone inside.
        ("NGUYEN-VAN-DUNG-1", True),
        ("tanaka-taro-01", True),
        ("UH-4782-1936-EF", True),
        ("R6-001-09012345678", True),
        ("C2025-00020", False),
        ("R6-0003-01", False),
    ],
)
def test_ids_carrying_personal_data_are_refused(
    local: str, refused: bool, tokenizer: MeCabTokenizer
) -> None:
    redactor = Redactor(Masker(tokenizer))
    doc = Document(doc_id=f"case:{local}", kind="case", title="t", body="b")
    problem = redactor.id_problem(doc)
    assert (problem is not None) == refused, problem
    if problem:
        _assert_clean(problem)
        assert local not in problem
        assert "琥珀" not in problem


def test_a_manual_file_name_with_personal_data_is_refused_without_echoing_it(
    tokenizer: MeCabTokenizer,
) -> None:
    # The manual's own rules keep staff surnames, so the name is only masked with every rule,
    # as the file's label is (an outside probe saw 「佐藤一郎_[電話番号]」 in the refusal).
    redactor = Redactor(Masker(tokenizer))
    doc = Document(doc_id="manual:佐藤一郎_080-1111-2222.md#1", kind="manual", title="t", body="b")
    problem = redactor.id_problem(doc)
    assert problem is not None
    assert "佐藤" not in problem
    assert "080-1111-2222" not in problem
    assert "[氏名]_[電話番号]" in problem


@pytest.mark.parametrize(
    ("path", "label"),
    [
        (f"/home/op/{CASE_FILE}", f"/home/op/{MASKED_FILE}"),
        ("data/佐々木和子/cases.csv", "data/[氏名]/cases.csv"),
        ("cases.csv", "cases.csv"),
        ("/srv/kb/src/2024年度_相談記録.jsonl", "/srv/kb/src/2024年度_相談記録.jsonl"),
        ("/srv/090-5555-6666", "/srv/[電話番号]"),
        # A rare surname MeCab cuts into words (百 目 鬼), with a given name after it.
        ("相談記録_百目鬼清_090-2222-3333.csv", "相談記録_[氏名]_[電話番号].csv"),
        ("桜川市_FAQ_2024.xlsx", "桜川市_FAQ_2024.xlsx"),
    ],
)
def test_file_labels_mask_every_part_of_the_path(
    path: str, label: str, tokenizer: MeCabTokenizer
) -> None:
    assert Redactor(Masker(tokenizer)).file_label(path) == label


def test_upload_labels_drop_the_server_folder(tokenizer: MeCabTokenizer) -> None:
    redactor = Redactor(Masker(tokenizer))
    assert redactor.file_label(f"/var/kb/uploads/ab12/{CASE_FILE}", "ab12") == (
        f"upload:ab12/{MASKED_FILE}"
    )


def test_every_column_kept_as_text_is_masked_by_its_header(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    # A case export whose identifying columns the mapping keeps in the summary: each cell is
    # masked by what its header says, whatever its form (kb.text.masking.cells).
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "map.toml").write_text(
        '[case]\n受付番号 = "id"\n受付日 = "date"\n相談者カナ = "summary"\n生年月日 = "summary"\n'
        '電話番号 = "summary"\n相談内容 = "summary"\n勤務先 = "summary"\n'
        '生活保護ケース番号 = "resolution"\n対応内容 = "resolution"\n',
        encoding="utf-8",
    )
    (folder / "cases.csv").write_text(
        "受付番号,受付日,相談者カナ,生年月日,電話番号,相談内容,勤務先,生活保護ケース番号,対応内容\n"
        "K1,2024-05-01,ﾓﾘ ｹﾞﾝｺﾞﾛｳ,1961年3月28日,45-8778,家賃の滞納の相談,"
        "株式会社山田製作所,CW-363,生活支援課へ案内\n",
        encoding="utf-8",
    )
    store = Store(tmp_path / "db" / "kb.sqlite")
    ingest(
        [folder / "cases.csv"],
        store,
        tokenizer=tokenizer,
        mapping=load_mapping(folder / "map.toml"),
    )
    doc = store.get_documents(["case:K1"])["case:K1"]
    assert doc.title.split("\n") == [
        "【相談者カナ】[氏名]",
        "【生年月日】[生年月日]",
        "【電話番号】[電話番号]",
        "【相談内容】家賃の滞納の相談",
        "【勤務先】[勤務先・学校]",
    ]
    assert doc.body == "【生活保護ケース番号】[番号]\n【対応内容】生活支援課へ案内"
    store.close()
    stored = _all_bytes(tmp_path / "db").decode("utf-8", "replace")
    for secret in ("ｹﾞﾝｺﾞﾛｳ", "ゲンゴロウ", "1961年3月28日", "45-8778", "山田製作所", "CW-363"):
        assert secret not in stored


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_right_to_left_override_in_a_cell_turns_only_its_quoted_value(
    tmp_path: Path, tokenizer: MeCabTokenizer, lang: str
) -> None:
    """Masked as one text, an override in a quoted cell turned the rest of kb's message around
    (「）可も…」1.31.6R); a reversed e-mail address in it is still read as shown, and masked."""
    src = tmp_path / "cases.csv"
    src.write_text(
        "id,date,channel,summary,resolution\n"
        "C1,\u202eR6.13.1,窓口,転入の相談,市民課を案内\n"
        "C2,\u202emoc.liamg@okanah,窓口,転出の相談,市民課を案内\n",
        encoding="utf-8",
    )
    store = Store(None)
    with language(lang):
        report = ingest([src], store, tokenizer=tokenizer)
    store.close()
    by_line = {e.line: e.message for e in report.errors}
    first, second = by_line[2], by_line[3]
    opening, closing = ("「", "」") if lang == "ja" else ("'", "'")
    assert f"{opening}1.31.6R{closing}" in first
    assert first.endswith("（全角数字も可）" if lang == "ja" else "(full-width digits too)")
    assert "\u202e" not in first + second
    assert f"{opening}[メール]{closing}" in second
    assert "okanah" not in second
    assert "hanako" not in second
