"""Procedures (手続き): the demo set, the ingest rules of the other kinds, storage."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from kb.errors import SchemaError
from kb.ingest.limits import InputLimits
from kb.ingest.pipeline import ingest
from kb.ingest.procedure_terms import LIFE_EVENTS, parse_deadline
from kb.ingest.procedures import is_procedures_file, read_procedures
from kb.ingest.readers import read_path
from kb.messages import language
from kb.store import Store
from kb.types import Procedure

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "corpus" / "procedures.csv"
HEADER = "id,手続き名,担当課,ライフイベント,条件,期限,必要書類,手数料,窓口,やさしい日本語\n"


def directory() -> set[str]:
    text = (REPO / "corpus" / "departments.csv").read_bytes().decode("cp932")
    return {line.split(",", 1)[0] for line in text.splitlines()[1:] if line.strip()}


def test_demo_set_is_large_realistic_and_clean() -> None:
    result = read_procedures(DEMO)
    assert result.errors == ()
    procedures = {p.id: p for p in result.procedures}
    assert len(procedures) >= 60
    events = Counter(e for p in procedures.values() for e in p.life_events)
    assert len(events) >= 10
    assert set(events) <= set(LIFE_EVENTS)
    by_name = {p.name: p for p in procedures.values()}
    assert by_name["転入届"].deadline_days == 14
    assert by_name["死亡届・火葬許可申請"].deadline_days == 7
    assert by_name["国民健康保険の資格喪失・葬祭費の申請"].deadline_days == 14
    # Departments are the city's own, except the outside bodies named as such.
    outside = {p.department for p in procedures.values()} - directory()
    assert outside == {"桜川警察署", "桜川年金事務所"}
    assert sum(1 for p in procedures.values() if p.easy) >= 20


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("14日以内", 14),
        ("死亡を知った日から7日以内", 7),
        ("３か月以内", 90),
        ("2年以内", 730),
        ("使用開始の3日前まで", 3),
        ("速やかに", 14),
        ("当日", 0),
        ("事前（工事の前に）", 0),
        ("なし（届け出た日に成立）", None),
        ("", None),
    ],
)
def test_deadlines(text: str, days: int | None) -> None:
    assert parse_deadline(text) == days


def test_an_unreadable_deadline_is_refused_with_the_accepted_forms() -> None:
    with pytest.raises(ValueError, match="14日以内"):
        parse_deadline("来週あたり")


def test_a_deadline_of_thousands_of_digits_is_refused_in_the_staffs_words() -> None:
    # Python's int() refuses 4,300 digits with its own English message.
    with pytest.raises(ValueError, match="14日以内"):
        parse_deadline("1" * 5000 + "日以内")
    assert parse_deadline("申請から90日以内") == 90


def test_row_errors_name_file_line_and_field_and_keep_good_rows(tmp_path: Path) -> None:
    path = tmp_path / "procs.csv"
    path.write_text(
        HEADER
        + "P1,転入届,市民課,転入,,14日以内,転出証明書|本人確認書類,無料,1階,\n"
        + "P2,何か,市民課,宝くじ当選,,14日以内,,,,\n"
        + "P3,何か,市民課,転入,空を飛べる,14日以内,,,,\n"
        + "P4,何か,市民課,転入,,来週あたり,,,,\n"
        + "P1,重複,市民課,転入,,,,,,\n"
        + ",名前だけ,市民課,転入,,,,,,\n",
        encoding="utf-8",
    )
    result = read_procedures(path)
    assert [p.id for p in result.procedures] == ["P1"]
    assert result.procedures[0].documents == ("転出証明書", "本人確認書類")
    problems = {(e.line, e.field) for e in result.errors}
    assert problems == {
        (3, "life_events"),
        (4, "conditions"),
        (5, "deadline"),
        (6, "id"),
        (7, "id"),
    }
    assert all(e.source == str(path) for e in result.errors)
    assert "宝くじ当選" in next(e.message for e in result.errors if e.line == 3)


def test_conditions_and_events_accept_their_other_spellings(tmp_path: Path) -> None:
    path = tmp_path / "procs.csv"
    path.write_text(HEADER + "P1,婚姻届,市民課,結婚,車あり|子供あり,なし,,,,\n", encoding="utf-8")
    (p,) = read_procedures(path).procedures
    assert p.life_events == ("婚姻",)
    assert p.conditions == ("自動車あり", "子どもあり")


def test_missing_and_unknown_columns_stop_the_file(tmp_path: Path) -> None:
    path = tmp_path / "procs.csv"
    path.write_text("id,手続き名,ライフイベント\nP1,転入届,転入\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="department"):
        read_procedures(path)
    path.write_text(HEADER.strip() + ",謎の列\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="謎の列"):
        read_procedures(path)


def test_field_limits_apply(tmp_path: Path) -> None:
    path = tmp_path / "procs.csv"
    path.write_text(HEADER + f"P1,{'長' * 50},市民課,転入,,,,,,\n", encoding="utf-8")
    result = read_procedures(path, limits=InputLimits(max_record_title_chars=20))
    assert result.procedures == ()
    assert result.errors[0].field == "name"
    assert "max_record_title_chars" in result.errors[0].message


def test_jsonl_and_xlsx(tmp_path: Path) -> None:
    jsonl = tmp_path / "procs.jsonl"
    rows = [
        {"id": "P1", "手続き名": "出生届", "担当課": "市民課", "ライフイベント": ["出生"],
         "期限": "14日以内", "必要書類": ["出生証明書", "母子健康手帳"]},
        {"id": "P2", "手続き名": "壊れ", "担当課": "市民課", "ライフイベント": {"x": 1}},
    ]  # fmt: skip
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    result = read_procedures(jsonl)
    assert [p.id for p in result.procedures] == ["P1"]
    assert result.procedures[0].documents == ("出生証明書", "母子健康手帳")
    assert (result.errors[0].line, result.errors[0].field) == (2, "life_events")

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "手続き名", "担当課", "ライフイベント", "期限"])
    sheet.append(["P1", "死亡届", "市民課", "死亡", "7日以内"])
    sheet.append([])
    sheet.append(["P2", "何か", "市民課", "宝くじ", "7日以内"])
    xlsx = tmp_path / "procs.xlsx"
    book.save(xlsx)
    assert is_procedures_file(xlsx)
    result = read_procedures(xlsx)
    assert [p.deadline_days for p in result.procedures] == [7]
    assert result.errors[0].line == 4  # the sheet's own row number


def test_ingest_detects_stores_and_reports_procedures(tmp_path: Path) -> None:
    assert is_procedures_file(DEMO)
    assert not is_procedures_file(REPO / "corpus" / "faq" / "faq-a.csv")
    assert read_path(DEMO).procedures
    store = Store(tmp_path / "kb.sqlite")
    try:
        report = ingest([DEMO], store)
        assert report.ok
        assert report.documents == 0
        assert report.procedures == report.procedures_changed >= 60
        stored = store.procedures()
        assert len(stored) == report.procedures
        assert isinstance(stored[0], Procedure)
        read = {p.id: p for p in read_procedures(DEMO).procedures}
        assert [p.id for p in stored] == sorted(read)
        assert stored[0] == read[stored[0].id]
        again = ingest([DEMO], store)
        assert again.procedures_changed == 0
        # The snapshot an index build serves carries them.
        store.snapshot(tmp_path / "snap.sqlite")
        snap = Store(tmp_path / "snap.sqlite", read_only=True)
        assert len(snap.procedures()) == len(stored)
        snap.close()
    finally:
        store.close()


def test_a_store_written_before_procedures_has_none(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    sqlite3.connect(path).execute("create table documents (doc_id text)").connection.close()
    old = Store(path, read_only=True)
    try:
        assert old.procedures() == []
    finally:
        old.close()


def test_row_errors_are_japanese_by_default_and_english_with_kb_lang_en(tmp_path: Path) -> None:
    path = tmp_path / "procs.csv"
    path.write_text(
        HEADER + "P1,転入届,市民課,転入,,,,,,\nP1,転出届,市民課,転出,,,,,,\nP2,届,市民課,,,,,,,\n",
        encoding="utf-8",
    )
    result = read_procedures(path)
    assert [(e.line, e.field) for e in result.errors] == [(3, "id"), (4, "life_events")]
    assert "id「P1」が重複しています（最初は 2 行目）" in result.errors[0].message
    assert result.errors[1].message == "必須の値が空です"
    with language("en"):
        english = read_procedures(path)
    assert "duplicate id 'P1' (first on line 2); row skipped" in english.errors[0].message
    assert english.errors[1].message == "required value is empty"
    path.write_text(HEADER.strip() + ",謎の列\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="手続き一覧に使えない列があります: 謎の列"):
        read_procedures(path)
    unknown = r"unknown column\(s\) for procedures: 謎の列"
    with language("en"), pytest.raises(SchemaError, match=unknown):
        read_procedures(path)


def test_a_number_too_long_for_python_is_a_row_error(tmp_path: Path) -> None:
    path = tmp_path / "procs.jsonl"
    good = {"id": "P2", "手続き名": "転入届", "担当課": "市民課", "ライフイベント": "転入"}
    path.write_text(
        '{"id": "P1", "手続き名": "転入届", "担当課": "市民課", "手数料": '
        + "1" * 5000
        + "}\n"
        + json.dumps(good, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    result = read_procedures(path)
    assert [p.id for p in result.procedures] == ["P2"]
    assert [(e.line, e.field) for e in result.errors] == [(1, "")]
