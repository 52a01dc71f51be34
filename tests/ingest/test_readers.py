from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import docx
import pytest

from kb.errors import InputError, SchemaError
from kb.ingest.readers import is_ignored, iter_paths, read_path
from kb.messages import language

from ._builders import deny_listing, make_pdf

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")


def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_read_path_dispatches_on_extension(tmp_path: Path) -> None:
    csv_path = touch(tmp_path / "faq.CSV", "id,question,answer\nF1,q,a\n")
    jsonl_path = touch(
        tmp_path / "cases.jsonl", '{"id":"C1","date":"2024-04-01","summary":"s","resolution":"r"}\n'
    )
    md_path = touch(tmp_path / "m.markdown", "# T\n本文\n")
    txt_path = touch(tmp_path / "t.txt", "題\n本文\n")
    docx_path = tmp_path / "d.docx"
    document = docx.Document()
    document.add_paragraph("本文")
    document.save(str(docx_path))
    pdf_path = make_pdf(tmp_path / "p.pdf", [["Title", "Body text."]])

    assert read_path(csv_path).documents[0].doc_id == "faq:F1"
    assert read_path(jsonl_path).documents[0].doc_id == "case:C1"
    assert read_path(md_path).documents[0].doc_id == "manual:m#1"
    assert read_path(txt_path).documents[0].doc_title == "題"
    assert read_path(docx_path).documents[0].body == "本文"
    assert read_path(pdf_path).documents[0].body == "Body text."


def test_read_path_with_kind(tmp_path: Path) -> None:
    path = touch(tmp_path / "d.csv", "id,question,answer,担当課\nF1,q,a,市民課\n")
    assert read_path(path, "faq").documents[0].departments == ("市民課",)
    with pytest.raises(SchemaError):
        read_path(path, "department")
    with pytest.raises(InputError, match="cannot hold manuals"):
        read_path(path, "manual")
    with pytest.raises(InputError, match="is a manual"):
        read_path(touch(tmp_path / "m.md", "# a\nb\n"), "faq")
    assert read_path(tmp_path / "m.md", "manual").documents


@pytest.mark.parametrize("name", ["slides.pptx", "manual.doc", "notes", "data.json"])
def test_unsupported_file_type(tmp_path: Path, name: str, english: None) -> None:
    path = touch(tmp_path / name)
    with pytest.raises(InputError, match="unsupported file type") as info:
        read_path(path)
    assert info.value.source == str(path)
    assert ".xlsx" in info.value.message  # the supported types are listed


@pytest.mark.parametrize("name", ["cases.xls", "cases.xlsm", "cases.ods"])
def test_old_spreadsheets_are_refused_with_what_to_do(tmp_path: Path, name: str) -> None:
    path = touch(tmp_path / name)
    with language("ja"), pytest.raises(InputError) as info:
        read_path(path)
    assert info.value.source == str(path)
    assert "Excel ブック (*.xlsx)" in info.value.message
    assert "CSV" in info.value.message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_path(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_path(tmp_path / "dir.csv")


def test_iter_paths_expands_folders_sorted_and_skips_noise(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for rel in [
        "faq/b.csv",
        "faq/a.csv",
        "manuals/z.md",
        "manuals/sub/a.pdf",
        "cases/2024.jsonl",
        "README.md",
        "faq/readme.txt",
        "_draft.md",
        "faq/_old.csv",
        ".hidden.md",
        ".git/config.md",
        "_archive/x.csv",
        "faq/a.xlsx",  # the original of its CSV export a.csv: read once, as the CSV
        "faq/c.xlsx",
        "faq/old.xls",
        "manuals/~$lock.docx",
        "manuals/~$c.xlsx",
        "manuals/image.png",
    ]:
        touch(root / rel)
    found = [p.relative_to(root).as_posix() for p in iter_paths([root])]
    assert found == [
        "cases/2024.jsonl",
        "faq/a.csv",
        "faq/b.csv",
        "faq/c.xlsx",
        "manuals/sub/a.pdf",
        "manuals/z.md",
    ]


def test_iter_paths_follows_linked_folders_once_and_names_unlisted_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "corpus"
    touch(root / "faq" / "a.csv")
    shared = touch(tmp_path / "shared" / "manual.md").parent
    (root / "共有").symlink_to(shared)  # a shared folder linked in: read
    (root / "faq" / "loop").symlink_to(root)  # a link back up: each real folder once
    touch(root / "private" / "b.csv")
    deny_listing(monkeypatch, "private")
    found = [p.relative_to(root).as_posix() for p in iter_paths([root])]
    assert found == ["faq/a.csv", "private", "共有/manual.md"]
    # The folder it could not list is read as an error naming it, not skipped in silence.
    with pytest.raises(InputError, match="cannot list the folder: Permission denied"):
        read_path(root / "private")


def test_iter_paths_keeps_explicit_files_and_dedupes(tmp_path: Path) -> None:
    a = touch(tmp_path / "a.csv")
    odd = touch(tmp_path / "_odd.xlsx")
    missing = tmp_path / "missing.csv"
    found = list(iter_paths([a, tmp_path, odd, missing, a]))
    # Explicit files pass even when a folder would skip them; read_path reports the problems.
    assert found == [a, odd, missing]


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        ("README.md", True),
        ("readme.txt", True),
        (".DS_Store", True),
        ("_draft.md", True),
        ("~$manual.docx", True),
        ("readme_faq.csv", False),
        ("faq.csv", False),
    ],
)
def test_is_ignored(name: str, ignored: bool) -> None:
    assert is_ignored(name) is ignored


def test_importing_the_readers_does_not_load_format_libraries() -> None:
    code = (
        "import sys, kb.ingest.readers;"
        "heavy = ('docx', 'pypdf', 'charset_normalizer', 'lxml');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    assert out.strip() == "[]"


def test_a_carriage_return_escaped_in_jsonl_is_a_line_feed(tmp_path: Path) -> None:
    path = touch(
        tmp_path / "faq.jsonl",
        '{"id": "1", "question": "住民票", "answer": "市民課です。\\r\\n窓口は1階です。\\r"}\n',
    )
    result = read_path(path, kind="faq")
    assert result.errors == ()
    assert [doc.body for doc in result.documents] == ["市民課です。\n窓口は1階です。"]
