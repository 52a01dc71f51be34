from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.cli import build_parser, main
from kb.search.service import SearchService
from kb.settings import Settings
from tests.api.conftest import create_key

REPO = Path(__file__).resolve().parent.parent

FAQ_CSV = """id,question,answer,department,category,published
F1,住民票の写しはどこで取れますか。,市民課の窓口またはコンビニで取れます。,市民課,届出,true
F2,粗大ごみの出し方を知りたい。,電話で申し込み、処理券を貼って出してください。,ごみ減量推進課,ごみ,true
F3,職員向け：内部手順,内部の手順です。,市民課,届出,false
"""
DEPTS_CSV = """name,duties,phone,location,hours
市民課,住民票・戸籍・転入転出,099-555-1101,本庁舎1階,平日 8:30～17:15
ごみ減量推進課,ごみの分別・粗大ごみ,099-555-1113,東館1階,平日 8:30～17:15
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "faq.csv").write_text(FAQ_CSV, encoding="utf-8")
    (src / "departments.csv").write_text(DEPTS_CSV, encoding="cp932")
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "--model", "fake", "ingest", str(src)]) == 0
    return data


def test_ingest_builds_index_and_reingest_is_idempotent(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KB_LANG", "en")  # the English report (Japanese: tests/ingest)
    capsys.readouterr()
    assert (
        main(["--data-dir", str(data_dir), "--model", "fake", "ingest", str(tmp_path / "src")]) == 0
    )
    out = capsys.readouterr().out
    assert "0 added, 0 updated, 5 unchanged" in out
    assert main(["--data-dir", str(data_dir), "--model", "fake", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["store"]["faq"] == 3
    assert status["store"]["departments"] == 2
    assert status["index"]["model"] == "fake-hash-64"


def test_search_json_matches_the_api(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    args = [
        "--data-dir",
        str(data_dir),
        "--model",
        "fake",
        "search",
        "粗大ごみ",
        "--json",
        "-k",
        "2",
    ]
    assert main(args) == 0
    cli = json.loads(capsys.readouterr().out)
    settings = Settings(data_dir=data_dir, model="fake")
    app = create_app(
        settings,
        service_factory=lambda: SearchService.from_settings(settings),
        load_in_background=False,
    )
    with TestClient(app) as client:
        client.headers["Authorization"] = "Bearer " + create_key(settings, "staff")
        api = client.get("/api/v1/search", params={"q": "粗大ごみ", "k": 2}).json()
    cli.pop("took_ms")
    api.pop("took_ms")
    assert cli == api
    assert cli["faqs"][0]["id"] == "F2"
    assert cli["departments"][0]["name"] == "ごみ減量推進課"
    assert cli["departments"][0]["phone"] == "099-555-1113"


def test_search_says_when_it_found_no_answer(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(data_dir), "--model", "fake", "search"]
    capsys.readouterr()
    assert main([*base, "zzzzzz", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answered"] is False
    assert data["confidence"] == {"faq": "none", "case": "none", "manual": "none",
                                  "department": "none"}  # fmt: skip
    assert data["contact"]["name"] == Settings().contact_name
    assert "filtered" not in data
    assert main([*base, "zzzzzz"]) == 0
    out = capsys.readouterr().out
    assert "該当する情報が見つかりませんでした" in out
    assert main([*base, "粗大ごみ", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["answered"] is True


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--date-from", "2025-99-99"], "date_from: 「2025-99-99」は日付として使えません"),
        (["--date-to", "2025/04/01"], "date_to: 「2025/04/01」は日付として使えません"),
        (["--date-from", "2025-04-02", "--date-to", "2025-04-01"], "より後です"),
        (["-k", "100000000"], "件数は 1〜50 件です"),
        (["-k", "0"], "件数は 1〜50 件です"),
    ],
)
def test_search_refuses_what_the_api_refuses_with_the_same_words(
    data_dir: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    # An outside tester: dates were passed on unchecked (nothing found, no word why) and -k
    # had no bound.
    capsys.readouterr()
    code = main(["--data-dir", str(data_dir), "--model", "fake", "search", "粗大ごみ", *extra])
    out = capsys.readouterr()
    assert code == 2
    assert said in out.err
    assert out.out == ""


def test_bad_input_file_is_reported_and_good_rows_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_LANG", "en")  # the English report (Japanese: tests/ingest)
    src = tmp_path / "faq.csv"
    src.write_text(FAQ_CSV + "F4,,答えだけ,市民課,届出,true\n", encoding="utf-8")
    code = main(["--data-dir", str(tmp_path / "d"), "--model", "fake", "ingest", str(src)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{src}:5" in out
    assert "question" in out
    assert "3 documents" in out


def test_missing_index_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data-dir", str(tmp_path), "--model", "fake", "search", "住民票"])
    assert code == 2
    assert "kb ingest" in capsys.readouterr().err


def test_readme_mentions_every_cli_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"`kb {name}" in readme, f"README does not document `kb {name}`"


@pytest.mark.parametrize(
    ("error", "said", "named"),
    [
        # An outside probe filled the disk during `kb ingest`: a raw traceback.
        (sqlite3.OperationalError("database or disk is full"), "the disk is full", "data"),
        (OSError(28, "No space left on device", "/backup/kb-1/x"), "the disk is full", "/backup"),
        (
            RuntimeError("Error in void faiss::write_index: No space left on device"),
            "the disk is full",
            "data",
        ),
        # Another ran kb on a data folder mounted read-only: a traceback for every command.
        (
            sqlite3.OperationalError("attempt to write a readonly database"),
            "cannot be written or opened",
            "data",
        ),
        (
            OSError(30, "Read-only file system", "/mnt/ro/data/write.lock"),
            "cannot be written or opened",
            "/mnt/ro/data/write.lock",
        ),
        (
            PermissionError(1, "Operation not permitted", "/srv/kb/data/write.lock"),
            "cannot be written or opened",
            "write.lock",
        ),
        (
            sqlite3.OperationalError("unable to open database file"),
            "cannot be written or opened",
            "data",
        ),
        # An outside tester's truncated store: a traceback for every command.
        (sqlite3.DatabaseError("database disk image is malformed"), "is damaged", "data"),
        (sqlite3.DatabaseError("file is not a database"), "is damaged", "data"),
    ],
)
def test_a_full_disk_or_a_folder_kb_cannot_write_is_a_clear_error_not_a_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    said: str,
    named: str,
) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("kb.index.update.ingest_and_build", failing)
    monkeypatch.setenv("KB_LANG", "en")
    src = tmp_path / "faq.csv"
    src.write_text(FAQ_CSV, encoding="utf-8")
    code = main(["--data-dir", str(tmp_path / "data"), "--model", "fake", "ingest", str(src)])
    err = capsys.readouterr().err
    assert code == 2
    assert said in err
    assert named in err  # the file the OS named, else the data folder
    assert "Traceback" not in err


def test_other_errors_are_not_taken_for_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("kb.index.update.ingest_and_build", broken)
    src = tmp_path / "faq.csv"
    src.write_text(FAQ_CSV, encoding="utf-8")
    with pytest.raises(RuntimeError, match="a bug"):
        main(["--data-dir", str(tmp_path / "d"), "--model", "fake", "ingest", str(src)])


def test_what_kb_writes_is_for_its_user_only(tmp_path: Path) -> None:
    (tmp_path / "faq.csv").write_text(FAQ_CSV, encoding="utf-8")
    data = tmp_path / "data"
    before = os.umask(0o022)  # a shell's usual umask
    try:
        args = ["--data-dir", str(data), "--model", "fake", "ingest", str(tmp_path / "faq.csv")]
        assert main(args) == 0
    finally:
        os.umask(before)
    made = [data, *data.rglob("*")]
    assert any(p.name == "kb.sqlite" for p in made)
    assert any(p.is_dir() and p.parent.name == "indexes" for p in made)
    for path in made:
        if not path.is_symlink():
            assert path.stat().st_mode & 0o077 == 0, path


@pytest.mark.parametrize("where", [".", "indexes"])
def test_a_file_where_the_data_folder_or_one_of_its_folders_belongs_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    # An outside probe gave --data-dir a file: a FileExistsError traceback.
    data = tmp_path / "data"
    if where == ".":
        data.write_text("not a folder", encoding="utf-8")
    else:
        data.mkdir()
        (data / where).write_text("not a folder", encoding="utf-8")
    src = tmp_path / "faq.csv"
    src.write_text(FAQ_CSV, encoding="utf-8")
    code = main(["--data-dir", str(data), "--model", "fake", "ingest", str(src)])
    err = capsys.readouterr().err
    assert code == 2
    assert "フォルダーが必要な場所にファイルがあります" in err
    assert str(data if where == "." else data / where) in err
    assert "Traceback" not in err
    assert (data if where == "." else data / where).read_text(encoding="utf-8") == "not a folder"


def test_control_characters_of_an_input_are_shown_escaped(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An outside tester: an id with ESC and BEL was echoed raw and drove the terminal.
    capsys.readouterr()
    for given in ("faq:X\x1b[31m\x07", "bad\x1b[2J"):
        code = main(["--data-dir", str(data_dir), "--model", "fake", "delete", given])
        err = capsys.readouterr().err
        assert code == 2
        assert "\x1b" not in err
        assert "\x07" not in err
        assert "\\x1b" in err
