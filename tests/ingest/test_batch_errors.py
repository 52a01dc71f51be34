"""A batch with broken files: good ones are stored, errors name file and line, store is safe."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kb.cli import main
from kb.ingest.pipeline import ingest
from kb.store import Store
from kb.text.mecab import MeCabTokenizer

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")

GOOD_FAQ = """id,question,answer,department,category,published
F1,住民票はどこで取れますか。,市民課の窓口で取れます。,市民課,届出,true
F2,粗大ごみの出し方,電話で申し込んでください。,ごみ減量推進課,ごみ,true
"""
GOOD_CASES = (
    '{"id": "C1", "date": "2024-04-02", "channel": "窓口", "summary": "転入の相談", '
    '"resolution": "市民課で受付", "departments": ["市民課"], "status": "完了"}\n'
)
GOOD_MANUAL = "# 転入の手続き\n\n転入届は14日以内に市民課へ。\n"


def _broken_batch(folder: Path) -> None:
    folder.mkdir()
    (folder / "a-faq.csv").write_text(GOOD_FAQ, encoding="utf-8")
    (folder / "b-cases.jsonl").write_text(GOOD_CASES, encoding="utf-8")
    (folder / "c-manual.md").write_text(GOOD_MANUAL, encoding="utf-8")
    # CSV whose header fits no kind.
    (folder / "x-broken.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    # JSONL with a truncated line in the middle: the good lines around it are kept.
    (folder / "x-broken.jsonl").write_text(
        GOOD_CASES.replace("C1", "C2")
        + '{"id": "C3", "date": "2024-04-0\n'
        + GOOD_CASES.replace("C1", "C4"),
        encoding="utf-8",
    )
    # A DOCX and a PDF that are not what they claim to be.
    (folder / "x-broken.docx").write_bytes(b"PK\x03\x04 this is not really a zip file")
    (folder / "x-broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EO")


def _snapshot(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        return list(conn.execute("select doc_id, content_hash from documents order by doc_id"))


def test_broken_files_do_not_stop_the_batch(tmp_path: Path, tokenizer: MeCabTokenizer) -> None:
    store_path = tmp_path / "kb.sqlite"
    store = Store(store_path)
    existing = tmp_path / "existing.md"
    existing.write_text("# 既存の手順\n\n変わらない本文。\n", encoding="utf-8")
    ingest([existing], store, tokenizer=tokenizer)
    before = _snapshot(store_path)

    src = tmp_path / "batch"
    _broken_batch(src)
    report = ingest([src], store, tokenizer=tokenizer)

    stored = set(store.document_ids())
    assert {"faq:F1", "faq:F2", "case:C1", "case:C2", "case:C4"} <= stored
    assert "case:C3" not in stored
    assert any(doc_id.startswith("manual:c-manual") for doc_id in stored)
    # Everything stored before is still there, byte for byte.
    after = dict(_snapshot(store_path))
    for doc_id, digest in before:
        assert after[doc_id] == digest

    messages = [str(e) for e in report.errors]
    failed = {Path(f).name for f in report.failed_files}
    assert failed == {"x-broken.csv", "x-broken.docx", "x-broken.pdf"}
    for name in ("x-broken.csv", "x-broken.docx", "x-broken.pdf"):
        assert any(name in m for m in messages), (name, messages)
    assert any("x-broken.jsonl:2" in m for m in messages), messages
    assert not report.ok
    store.close()


def test_cli_reports_every_broken_file_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "batch"
    _broken_batch(src)
    data = tmp_path / "data"
    code = main(["--data-dir", str(data), "--model", "fake", "ingest", str(src)])
    out = capsys.readouterr().out
    assert code == 1
    for name in ("x-broken.csv", "x-broken.jsonl:2", "x-broken.docx", "x-broken.pdf"):
        assert name in out
    # The counts and the closing line tell the truth (Japanese by default).
    assert "4 件のファイルを取り込みました" in out  # 7 given, 3 refused whole
    assert "3 件のファイルは読めなかったため取り込んでいません" in out
    assert "保存 6 件（新規 6・更新 0）" in out
    # Three files refused whole and one bad row, not "4 rows with a problem".
    assert "読めなかったファイル 3 件と、問題があった行 1 件は取り込んでいません" in out
    assert "件は保存済みです" in out
    assert "the good rows were stored" not in out
    assert "を作成しました: チャンク" in out  # the good files were indexed, said in Japanese


def test_file_over_the_row_limit_is_refused_whole(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    rows = "\n".join(f"F{i},質問{i}ですか。,回答{i}です。,市民課,届出,true" for i in range(1, 8))
    (src / "big.csv").write_text(
        "id,question,answer,department,category,published\n" + rows + "\n", encoding="utf-8"
    )
    (src / "small.csv").write_text(GOOD_FAQ.replace("F1", "S1").replace("F2", "S2"))
    store = Store(None)
    report = ingest([src], store, tokenizer=tokenizer, max_rows=5)
    assert set(store.document_ids()) == {"faq:S1", "faq:S2"}
    assert [Path(f).name for f in report.failed_files] == ["big.csv"]
    (err,) = report.errors
    # The header is line 1, so the sixth record (the first over the limit) is on line 7.
    assert err.line == 7
    assert "big.csv:7" in str(err)
    assert "more than 5 records" in str(err)
    store.close()


def test_an_id_in_two_files_of_one_run_is_a_warning_naming_both(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    first, second = tmp_path / "city-a.csv", tmp_path / "city-b.csv"
    first.write_text(GOOD_FAQ, encoding="utf-8")
    second.write_text(GOOD_FAQ.replace("市民課の窓口", "本庁舎の窓口"), encoding="utf-8")
    store = Store(tmp_path / "kb.sqlite")
    try:
        report = ingest([first, second], store, tokenizer=tokenizer)
        # The later file's rows are stored; the warning says so and names the earlier row.
        assert report.errors == ()
        notes = [str(w) for w in report.warnings if w.field == "id"]
        assert len(notes) == 2
        assert "id faq:F1 is also in city-a.csv:2; this row was stored" in notes[0]
        assert notes[0].startswith(f"{second}:2")
        stored = store.get_documents(["faq:F1"])["faq:F1"]
        assert "本庁舎の窓口" in stored.body
    finally:
        store.close()
