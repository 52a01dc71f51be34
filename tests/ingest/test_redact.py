"""Personal data is masked at ingest, before anything is stored, hashed or indexed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kb.ingest.pipeline import ingest
from kb.ingest.redact import masker_for, redact_document
from kb.store import RawTextStore, Store
from kb.text.masking import Masker
from kb.text.mecab import MeCabTokenizer
from kb.types import Department, Document

DEPTS_CSV = """name,duties,phone,location,hours
市民課,住民票・戸籍・転入転出,099-555-1101,本庁舎1階,平日 8:30～17:15
高齢者支援課,介護保険・高齢者の相談,099-555-1108,本庁舎2階,平日 8:30～17:15
"""
CASES_CSV = "\n".join(
    [
        "id,date,channel,category,summary,resolution,department,status",
        "C1,2024-04-02,窓口,届出,"
        "山田花子さん（昭和30年5月3日生まれ、携帯090-1234-5678）から転入の相談。,"
        "市民課(099-555-1101)で転入届を受け付けた。マイナンバー 1234 5678 9012 を確認。,"
        "市民課,完了",
        "C2,2024-04-03,電話,介護,母が認知症で一人暮らし。住所は桜川市中央町3丁目4番5号。,"
        "高齢者支援課 099-555-1108 の保健師が訪問。連絡は taro@example.com へ。,"
        "高齢者支援課,完了",
        "",
    ]
)
FAQ_CSV = """id,question,answer,department,category,published
F1,住民票はどこで取れますか。,市民課（099-555-1101）の窓口で取れます。,市民課,届出,true
"""

RAW_SECRETS = ("山田", "花子", "090-1234-5678", "1234 5678 9012", "中央町3丁目", "taro@example.com")


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "departments.csv").write_text(DEPTS_CSV, encoding="utf-8")
    (folder / "cases.csv").write_text(CASES_CSV, encoding="utf-8")
    (folder / "faq.csv").write_text(FAQ_CSV, encoding="utf-8")
    return folder


def _all_bytes(*paths: Path) -> bytes:
    """Every byte SQLite wrote for these databases (main file, WAL, journal)."""
    out = b""
    for path in paths:
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
            if candidate.exists():
                out += candidate.read_bytes()
    return out


def test_cases_are_masked_before_storing(
    src: Path, tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    store = Store(tmp_path / "kb.sqlite")
    report = ingest([src], store, tokenizer=tokenizer)
    assert report.ok
    assert report.masked == 2
    c1 = store.get_documents(["case:C1"])["case:C1"]
    assert c1.title == "[氏名]さん（[生年月日]生まれ、携帯[電話番号]）から転入の相談。"
    # The directory's phone number is public and stays; My Number does not.
    assert c1.body == "市民課(099-555-1101)で転入届を受け付けた。マイナンバー [個人番号] を確認。"
    c2 = store.get_documents(["case:C2"])["case:C2"]
    assert "桜川市[住所]" in c2.title
    assert "高齢者支援課 099-555-1108" in c2.body
    assert "[メール]" in c2.body
    faq = store.get_documents(["faq:F1"])["faq:F1"]
    assert faq.body == "市民課（099-555-1101）の窓口で取れます。"
    chunks = [row for row in store.iter_chunks() if row.doc_id == "case:C1"]
    assert chunks
    assert all("山田" not in row.content for row in chunks)
    assert all("山田" not in row.title_tokens + row.text_tokens for row in chunks)
    store.close()
    dump = _all_bytes(tmp_path / "kb.sqlite")
    for secret in RAW_SECRETS:
        assert secret.encode() not in dump, secret
    assert not (tmp_path / "raw.sqlite").exists()


def test_keep_raw_text_keeps_it_apart(src: Path, tmp_path: Path, tokenizer: MeCabTokenizer) -> None:
    store = Store(tmp_path / "kb.sqlite")
    raw = RawTextStore(tmp_path / "raw.sqlite")
    ingest([src], store, tokenizer=tokenizer, raw_store=raw)
    assert raw.count() == 3  # two cases and one FAQ entry; the directory is public anyway
    raw_c1 = raw.get("case:C1")
    assert raw_c1 is not None
    assert "山田花子さん" in raw_c1[0]
    assert (tmp_path / "raw.sqlite").stat().st_mode & 0o077 == 0
    raw.close()
    store.close()
    dump = _all_bytes(tmp_path / "kb.sqlite")
    for secret in RAW_SECRETS:
        assert secret.encode() not in dump, secret


def test_reingest_with_other_masking_rewrites_the_stored_text(
    src: Path, tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    store = Store(tmp_path / "kb.sqlite")
    first = ingest([src], store, tokenizer=tokenizer)
    assert first.stats.added == 5
    same = ingest([src], store, tokenizer=tokenizer)
    assert (same.stats.added, same.stats.updated) == (0, 0)
    # A masker that (wrongly) keeps 山田 changes case C1 only: re-ingest updates exactly it.
    depts = store.departments()
    other = masker_for(depts, tokenizer, keep_words=["山田花子"])
    changed = ingest([src], store, tokenizer=tokenizer, masker=other)
    assert changed.stats.updated == 1
    assert "山田花子さん" in store.get_documents(["case:C1"])["case:C1"].title
    back = ingest([src], store, tokenizer=tokenizer)
    assert back.stats.updated == 1
    assert "[氏名]さん" in store.get_documents(["case:C1"])["case:C1"].title
    with sqlite3.connect(tmp_path / "kb.sqlite") as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    store.close()


def test_directory_is_never_masked(tokenizer: MeCabTokenizer) -> None:
    masker = Masker(tokenizer)
    doc = Document(
        doc_id="department:市民課",
        kind="department",
        title="市民課",
        body="担当: 山田係長 099-555-1101",
    )
    assert redact_document(doc, masker) is doc


def test_department_names_are_not_names(tokenizer: MeCabTokenizer) -> None:
    dept = Department(name="中島記念館", duties="", aliases=("中島館",))
    masker = masker_for([dept], tokenizer)
    doc = Document(doc_id="case:X", kind="case", title="中島記念館で相談", body="")
    assert redact_document(doc, masker).title == "中島記念館で相談"


def test_numbers_the_directory_writes_anywhere_are_public(tokenizer: MeCabTokenizer) -> None:
    # The city's main number, written only in a department's hours: an outside probe saw it
    # masked in 41 of 43 case records.
    dept = Department(
        name="市民課",
        duties="住民票",
        phone="099-555-1101",
        hours="平日 8:30-17:15（代表電話 099-555-1000）",
    )
    masker = masker_for([dept], tokenizer)
    case = "代表電話（099-555-1000）に架電、本人携帯 090-1234-5678"
    assert masker.mask(case) == "代表電話（099-555-1000）に架電、本人携帯 [電話番号]"


def test_cli_keep_raw_text_setting(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.cli import main

    data = tmp_path / "data"
    monkeypatch.setenv("KB_KEEP_RAW_TEXT", "false")
    assert main(["--data-dir", str(data), "--model", "fake", "ingest", "--no-build", str(src)]) == 0
    assert not (data / "raw.sqlite").exists()
    monkeypatch.setenv("KB_KEEP_RAW_TEXT", "true")
    assert main(["--data-dir", str(data), "--model", "fake", "ingest", "--no-build", str(src)]) == 0
    raw = RawTextStore(data / "raw.sqlite")
    assert raw.count() == 3
    raw.close()
    for secret in RAW_SECRETS:
        assert secret.encode() not in _all_bytes(data / "kb.sqlite"), secret


def test_placeholders_are_not_search_terms(tokenizer: MeCabTokenizer) -> None:
    from kb.ingest.chunking import chunk_document

    doc = Document(
        doc_id="case:P",
        kind="case",
        title="[氏名]さんから[電話番号]に連絡",
        body="[住所]の[氏名]様。介護保険の申請。",
    )
    (chunk,) = chunk_document(doc, tokenizer)
    terms = set(chunk.title_tokens + chunk.text_tokens)
    assert "介護" in terms
    assert not terms & {"氏名", "電話", "番号", "電話番号", "住所"}
    assert "[電話番号]" in chunk.title  # still shown and embedded as written


def test_text_stored_before_masking_does_not_linger(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    rows = [
        f"C{i},2024-04-02,電話,介護,{i}回目。折り返しは090-7777-{i:04d}へ。,"
        f"高齢者支援課で受付。{'説明' * 40},高齢者支援課,完了"
        for i in range(60)
    ]
    (folder / "cases.csv").write_text(
        "id,date,channel,category,summary,resolution,department,status\n" + "\n".join(rows),
        encoding="utf-8",
    )
    path = tmp_path / "kb.sqlite"
    store = Store(path)
    ingest([folder], store, tokenizer=tokenizer, mask=False)  # as an older version stored it
    store.close()
    assert b"090-7777-" in _all_bytes(path)
    store = Store(path)
    report = ingest([folder], store, tokenizer=tokenizer)
    assert report.stats.updated == 60
    store.close()
    # Replaced rows are zeroed (secure_delete), not left in free pages of the file.
    assert b"090-7777-" not in _all_bytes(path)


def test_public_numbers_from_published_faq_are_kept_in_cases(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "faq.csv").write_text(
        "id,question,answer,department,category,published\n"
        "F1,夜間の連絡先は？,市役所代表電話（099-555-1000）へ。,市民課,連絡,true\n"
        "F2,職員向け,内線直通 099-555-4321 は公開しない。,市民課,連絡,false\n",
        encoding="utf-8",
    )
    (folder / "cases.csv").write_text(
        "id,date,channel,category,summary,resolution,department,status\n"
        "C1,2024-04-02,電話,連絡,夜間の相談。,"
        "代表電話 099-555-1000 を案内。099-555-4321 と 099-555-9876 にも連絡。,市民課,完了\n",
        encoding="utf-8",
    )
    store = Store(None)
    ingest([folder], store, tokenizer=tokenizer)
    body = store.get_documents(["case:C1"])["case:C1"].body
    assert body == "代表電話 099-555-1000 を案内。[電話番号] と [電話番号] にも連絡。"
    store.close()
