"""Department names of FAQ entries and cases matched to the directory at ingest."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pytest

from kb.cli import main
from kb.ingest.departments import directory_names, match_department, unmatched_stored
from kb.types import Department

DIRECTORY = [
    Department(name="市民課", duties="住民票"),
    Department(
        name="水道課", duties="水道", aliases=("上下水道お客さまセンター", "お客さまセンター")
    ),
    Department(name="健康づくり課", duties="健診"),
    Department(name="保健センター", duties="母子保健"),
    Department(name="福祉課", duties="福祉", aliases=("相談窓口",)),
    Department(name="子育て支援課", duties="子育て", aliases=("相談窓口",)),
    Department(name="選挙管理委員会事務局", duties="選挙"),
    Department(name="農業委員会", duties="農地"),
]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("市民課", "市民課"),
        ("市民課\u3000", "市民課"),
        ("お客さまセンター", "水道課"),
        ("上下水道　お客さまセンター", "水道課"),  # spacing differs from the alias
        ("ｵｷｬｸｻﾏｾﾝﾀｰ", None),  # NFKC makes full-width katakana, not ひらがな: not the alias
        ("健康づくり課（保健センター）", "健康づくり課"),  # the outer name first
        ("成人保健係（保健センター）", "保健センター"),
        ("上下水道局 お客さまセンター", "水道課"),
        ("市民部 市民課 住民記録係", "市民課"),
        # Glued after the division, as a city's CMS writes it (an outside clerk, 2026-12-07).
        ("福祉部福祉課", "福祉課"),
        ("市民部市民課", "市民課"),
        ("上下水道局お客さまセンター", None),  # a 局 runs its own sections
        ("消防本部福祉課", None),  # another body's
        ("県福祉部福祉課", None),
        ("東部福祉課", None),  # a district
        ("選挙管理委員会", "選挙管理委員会事務局"),  # the committee is its secretariat
        ("農業委員会事務局", "農業委員会"),
        ("保健部", None),
        ("市民課 福祉課", None),  # two departments: not one of them
        ("相談窓口", None),  # an alias two entries share matches neither
        ("観光課", None),
    ],
)
def test_a_name_is_matched_to_the_directory(written: str, expected: str | None) -> None:
    assert match_department(written, directory_names(DIRECTORY)) == expected


def test_a_directory_name_wins_over_another_entrys_alias() -> None:
    directory = [
        Department(name="福祉課", duties="", aliases=("市民課",)),
        Department(name="市民課", duties=""),
    ]
    assert match_department("市民課", directory_names(directory)) == "市民課"


DEPT_CSV = "name,duties,phone,aliases\n" + "\n".join(
    [
        "市民課,住民票の写し,0120-00-0001,",
        "水道課,水道の開栓,0120-00-0002,上下水道お客さまセンター|お客さまセンター",
        "保険年金課,国民健康保険,0120-00-0003,",
    ]
)
FAQ_CSV = "id,question,answer,department\n" + "\n".join(
    [
        "F1,住民票の写しがほしい,市民課で交付します。,市民部 市民課 住民記録係（内線2101）",
        "F2,水道を使い始めたい,お客さまセンターへ。,上下水道局 お客さまセンター",
        "F3,国保に入りたい,保険年金課へ。,健康福祉部 保険年金課 国保係",
        "F4,空き家の相談,空き家対策課へ。,都市整備部 空き家対策課",
        "F5,空き家を売りたい,空き家対策課へ。,都市整備部 空き家対策課",
    ]
)


def _departments(data: Path) -> dict[str, list[str]]:
    with sqlite3.connect(data / "kb.sqlite") as conn:
        rows = conn.execute(
            "select doc_id, departments from documents where kind = 'faq' order by doc_id"
        )
        return {doc_id: json.loads(names) for doc_id, names in rows}


def _ingest(tmp_path: Path, *names: str, texts: Mapping[str, str] | None = None) -> Path:
    """``kb ingest --no-build`` of the named files, one run; the data. The files hold
    ``texts`` (by name; DEPT_CSV and FAQ_CSV by default)."""
    texts = texts or {"departments.csv": DEPT_CSV, "faq.csv": FAQ_CSV}
    for name in names:
        (tmp_path / name).write_text(texts[name], encoding="utf-8")
    data = tmp_path / "data"
    args = ["--data-dir", str(data), "--model", "fake", "ingest", "--no-build"]
    assert main([*args, *(str(tmp_path / name) for name in names)]) == 0
    return data


def test_an_export_s_department_cells_are_stored_as_the_directory_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _ingest(tmp_path, "departments.csv", "faq.csv")
    out = capsys.readouterr().out
    stored = _departments(data)
    assert stored["faq:F1"] == ["市民課"]
    assert stored["faq:F2"] == ["水道課"]
    assert stored["faq:F3"] == ["保険年金課"]
    # A department the directory lacks is stored as read, and said once for the file.
    assert stored["faq:F4"] == ["空き家対策課"]
    assert out.count("「都市整備部 空き家対策課」は部署一覧にありません（2 行）") == 1
    assert "faq.csv:5" in out  # its first row
    assert "「上下水道局 お客さまセンター」を「水道課」として取り込みました" in out


def test_many_spellings_of_one_department_are_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A case system writes the extension of whoever entered the row: an outside tester got
    # 87 warnings, one per spelling, burying the ones that mattered.
    faq = "id,question,answer,department\n" + "\n".join(
        f"F{i},質問{i},回答{i}。,市民課（内線{2100 + i % 5}）" for i in range(1, 9)
    )
    data = _ingest(
        tmp_path, "departments.csv", "faq.csv", texts={"departments.csv": DEPT_CSV, "faq.csv": faq}
    )
    out = capsys.readouterr().out
    assert all(names == ["市民課"] for names in _departments(data).values())
    lines = [line for line in out.splitlines() if "として取り込みました" in line]
    assert len(lines) == 1
    assert "faq.csv:2" in lines[0]
    assert (
        "担当課の 5 通りの書き方（「市民課（内線2101）」、「市民課（内線2102）」、"
        "「市民課（内線2103）」…）を「市民課」として取り込みました（8 行）"
    ) in lines[0]


def test_the_person_written_after_a_department_is_neither_stored_nor_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A case export's 引継ぎ先 cell: the department and whoever took the hand-off.
    faq = "id,question,answer,department\n" + "\n".join(
        [
            "F1,質問1,回答1。,健康推進課 栗原（内線2285）",  # not in the directory
            "F2,質問2,回答2。,市民課 田中",  # in it: the directory's name
            "F3,質問3,回答3。,空き家対策課 窓口",  # where, not who
            "F4,質問4,回答4。,市民課 住民記録係 鈴木",
            "F5,質問5,回答5。,中央児童相談所（担当 日向）",  # in brackets
            "F6,質問6,回答6。,社会福祉協議会 米川",  # after a body, not a department
        ]
    )
    data = _ingest(
        tmp_path, "departments.csv", "faq.csv", texts={"departments.csv": DEPT_CSV, "faq.csv": faq}
    )
    out = capsys.readouterr().out
    stored = _departments(data)
    assert stored["faq:F1"] == ["健康推進課"]
    assert stored["faq:F2"] == ["市民課"]
    assert stored["faq:F3"] == ["空き家対策課 窓口"]
    assert stored["faq:F4"] == ["市民課"]
    assert stored["faq:F5"] == ["中央児童相談所"]
    assert stored["faq:F6"] == ["社会福祉協議会"]
    for name in ("栗原", "田中", "鈴木", "日向", "米川"):
        assert name not in out  # [氏名] where the cell is quoted as written
        assert name not in json.dumps(stored, ensure_ascii=False)
    assert "「市民課 [氏名]」" in out
    # Said once for the file: only where the directory did not already give the department.
    assert "名前とみなしました）は取り込んでいません（2 件）" in out


def test_nothing_is_matched_or_reported_without_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _ingest(tmp_path, "faq.csv")
    out = capsys.readouterr().out
    assert "部署一覧にありません" not in out
    assert _departments(data)["faq:F2"] == ["お客さまセンター"]
    # A section or a division is cut to the department, and said once for the file.
    assert _departments(data)["faq:F1"] == ["市民課"]
    assert "「市民部 市民課 住民記録係」を「市民課」として取り込みました" in out


def test_a_directory_ingested_after_the_faq_names_what_it_leaves_unmatched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An outside clerk loaded the FAQ first, the directory next: the widget then showed no
    # phone for the entries whose section had been cut, and the second run said nothing.
    data = _ingest(tmp_path, "faq.csv")
    capsys.readouterr()
    (tmp_path / "departments.csv").write_text(DEPT_CSV, encoding="utf-8")
    args = ["--data-dir", str(data), "--model", "fake", "ingest", "--no-build"]
    assert main([*args, str(tmp_path / "departments.csv")]) == 0
    out = capsys.readouterr().out
    # F2 was stored as お客さまセンター (an alias, not a name) and F4, F5 as 空き家対策課.
    assert "保存済みの文書 3 件の担当課が、この部署一覧にありません" in out
    assert "空き家対策課 2" in out
    assert "お客さまセンター 1" in out
    # Ingesting the FAQ again matches it; only the department the directory lacks is left.
    assert main([*args, str(tmp_path / "faq.csv")]) == 0
    assert _departments(data)["faq:F2"] == ["水道課"]
    assert main([*args, str(tmp_path / "departments.csv")]) == 0
    again = capsys.readouterr().out
    assert "保存済みの文書 2 件の担当課" in again
    assert "お客さまセンター" not in again.split("保存済みの文書")[1]


def test_a_towns_directory_of_sections_gives_each_section_its_contact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A town lists each 係 of a 課 on a row of its own; an FAQ names the 係 (with its 内線).
    directory = "課名,係名,業務内容,電話番号\n" + "\n".join(
        [
            "住民福祉課,住民係,住民票、戸籍,0299-55-1121",
            "住民福祉課,保険年金係,国民健康保険,0299-55-1125",
            "総務課,税務係,町県民税,0299-55-1211",
            "産業振興課,消費生活相談窓口,消費者トラブル,0299-55-1300",
        ]
    )
    faq = "No.,質問,回答,問い合わせ先\n" + "\n".join(
        [
            "1,住民票,住民係へ。,住民福祉課 住民係（内線121）TEL 0299-55-1121",
            "2,国保,保険年金係へ。,住民福祉課 保険年金係（内線125）",
            "3,住民税,税務係へ。,税務係",
            "4,町県民税,総務課へ。,総務課",  # the department of one listed section: that one
            "5,戸籍,住民福祉課へ。,住民福祉課",  # of two sections: which one cannot be told
            # A section read from the 係名 column, whatever it is called (窓口, センター).
            "6,ふるさと納税,産業振興課へ。,産業振興課",
        ]
    )
    texts = {"departments.csv": directory, "faq.csv": faq}
    data = _ingest(tmp_path, "departments.csv", "faq.csv", texts=texts)
    out = capsys.readouterr().out
    assert "重複" not in out
    assert "部署一覧にありません" not in out
    stored = _departments(data)
    assert stored["faq:1"] == ["住民福祉課 住民係"]
    assert stored["faq:2"] == ["住民福祉課 保険年金係"]  # its own phone, not 住民係's
    assert stored["faq:3"] == ["総務課 税務係"]  # the section's name alone is an alias
    assert stored["faq:4"] == ["総務課 税務係"]
    assert stored["faq:5"] == ["住民福祉課"]
    assert stored["faq:6"] == ["産業振興課 消費生活相談窓口"]
    assert "住民福祉課 住民係、住民福祉課 保険年金係" in out  # the warning names the sections


def test_the_stored_directory_is_matched_by_a_later_run(tmp_path: Path) -> None:
    _ingest(tmp_path, "departments.csv")
    data = _ingest(tmp_path, "faq.csv")  # the same data folder, a later run
    assert _departments(data)["faq:F2"] == ["水道課"]


def test_unmatched_stored_leaves_out_what_a_new_ingest_would_not_change() -> None:
    directory = [
        Department(name="市民課 住民記録係", duties="", aliases=("住民記録係",)),
        Department(name="市民課 戸籍係", duties="", aliases=("戸籍係",)),
        Department(name="水道課", duties="", aliases=("お客さまセンター",)),
    ]
    stored = [
        ("faq:F1", ("市民課",)),  # which section cannot be told: said at its ingest
        ("faq:F2", ("お客さまセンター",)),  # stored before the directory: ingest it again
        ("case:desk-R000001", ("空き家対策課",)),  # closed at the desk: no file to ingest
        ("faq:F3", ("空き家対策課", "水道課")),
        ("faq:F4", ("空き家対策課",)),  # ingested in this run
    ]
    found, docs = unmatched_stored(stored, directory, {"faq:F4"})
    assert dict(found) == {"お客さまセンター": 1, "空き家対策課": 1}
    assert docs == 2
