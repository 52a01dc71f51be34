"""A real city export goes in with one mapping file in one run: as .xlsx and as CP932 CSV.

The export has the city's own headers (受付番号, 相談日 in 和暦, 相談経路 with 来庁 and values kb
does not know, 担当者 that must not be stored, カテゴリー, 更新日), a title line above the
header, and in the workbook dates as real cells, as text and as an Excel day count.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from kb.cli import main

HEADERS = [
    "受付番号",
    "相談日",
    "相談経路",
    "相談内容",
    "対応内容",
    "担当課",
    "カテゴリー",
    "担当者",
    "更新日",
    "進捗",
]
ERA_DATES = [
    "R6.6.1",
    "令和6年6月2日",
    "R6/6/3",
    "令和元年5月1日",
    "H31.4.30",
    "平成31年4月1日",
    "２０２４年６月７日",
    "2024/6/8",
    "令和６年６月９日（日）",
    "R06.06.10",
]
CHANNELS = ["来庁", "電話", "メール", "来庁", "訪問", "電話", "来庁", "FAX", "LINE", "窓口"]
DEPARTMENTS = ["市民課", "福祉課", "税務課", "子育て支援課", "環境課"]
TOPICS = ["転入届", "介護保険", "住民税", "児童手当", "粗大ごみ", "国民健康保険"]
MAPPING = """\
# 総合相談システムの書き出しの見出し → kb の項目
[case]
受付番号 = "id"
相談日 = "date"
相談経路 = "channel"
担当者 = "-"      # 職員の氏名は取り込まない
進捗 = "status"
"""
UNKNOWN_CHANNEL_WARNINGS = 2  # one per value, naming its three rows


def _rows() -> list[list[str]]:
    rows = []
    for i in range(30):
        topic = TOPICS[i % len(TOPICS)]
        rows.append(
            [
                f"2024-{i + 1:04d}",
                ERA_DATES[i % len(ERA_DATES)],
                CHANNELS[i % len(CHANNELS)],
                f"{topic}について相談したい（{i + 1}件目）",
                f"{DEPARTMENTS[i % len(DEPARTMENTS)]}の窓口を案内し、{topic}の手続きを説明した。",
                DEPARTMENTS[i % len(DEPARTMENTS)],
                topic,
                "佐藤花子",
                "R6.7.1",
                "完了",
            ]
        )
    return rows


def _write_csv(path: Path) -> Path:
    lines = ["相談記録一覧（令和6年度 書き出し）", ",".join(HEADERS)]
    lines += [",".join(row) for row in _rows()]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return path


def _write_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "相談記録"
    sheet.append(["相談記録一覧（令和6年度 書き出し）"])
    sheet.append([])
    sheet.append(HEADERS)
    for i, row in enumerate(_rows()):
        cells: list[object] = list(row)
        if i % 3 == 0:  # a real date cell
            cells[1] = dt.datetime(2024, 5, 1) + dt.timedelta(days=i)
        elif i % 3 == 1 and i > 20:  # a date cell that lost its format: Excel's day count
            cells[1] = 45444 + i
        sheet.append(cells)
    book.create_sheet("集計").append(["経路", "件数"])
    book.save(path)
    return path


def _stored(data: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(data / "kb.sqlite") as conn:
        return list(
            conn.execute(
                "select doc_id, date, channel, status from documents where kind = 'case' "
                "order by doc_id"
            )
        )


@pytest.mark.parametrize("make", [_write_csv, _write_xlsx], ids=["cp932-csv", "xlsx"])
def test_a_city_export_goes_in_with_one_mapping_file_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object
) -> None:
    suffix = ".csv" if make is _write_csv else ".xlsx"
    export = make(tmp_path / f"相談記録{suffix}")  # type: ignore[operator]
    mapping = tmp_path / "columns.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    data = tmp_path / "data"
    args = ["--data-dir", str(data), "--model", "fake", "ingest", "--no-build"]
    code = main([*args, "--columns", str(mapping), str(export)])
    out = capsys.readouterr().out
    assert code == 0, out
    stored = _stored(data)
    assert len(stored) == 30
    by_id = {doc_id: (date, channel, status) for doc_id, date, channel, status in stored}
    assert by_id["case:2024-0001"][1] == "窓口"  # 来庁, read as 窓口
    assert by_id["case:2024-0005"][1] == "訪問"  # unknown, kept as written
    assert by_id["case:2024-0008"][1] == "FAX"
    assert {status for _, _, status in by_id.values()} == {"完了"}
    assert all(date.startswith(("2019-", "2024-")) for date, _, _ in by_id.values())
    if suffix == ".csv":
        assert by_id["case:2024-0001"][0] == "2024-06-01"  # R6.6.1
        assert by_id["case:2024-0004"][0] == "2019-05-01"  # 令和元年5月1日
        assert by_id["case:2024-0005"][0] == "2019-04-30"  # H31.4.30
    else:
        assert by_id["case:2024-0001"][0] == "2024-05-01"  # a date cell
        assert by_id["case:2024-0023"][0] == "2024-06-23"  # day count 45444 + 22
        assert by_id["case:2024-0005"][0] == "2019-04-30"  # text H31.4.30
    # The counts tell the truth, in Japanese; every warning is listed with its line.
    warnings = UNKNOWN_CHANNEL_WARNINGS + 3  # + 来庁→窓口, 更新日 not stored, 担当者 not stored
    if suffix == ".xlsx":
        warnings += 1  # the 集計 sheet was not read
        assert "シート「相談記録」だけを読みました。ほかのシート（集計）の行は" in out
    assert f"保存 30 件（新規 30・更新 0）、変更なし 0 件、警告 {warnings} 件、エラー 0 件" in out
    assert out.count("  警告: ") == warnings
    assert "相談経路「来庁」を「窓口」として取り込みました（9 行）" in out
    assert "列「担当者」は対応表" in out
    assert "列「更新日」は保存先の項目がないため取り込みません" in out
    first_visit = (2 if suffix == ".csv" else 3) + 5  # the header's line (CSV) or row, + 5
    assert f"相談記録{suffix}:{first_visit}: channel: 列「相談経路」: 相談経路「訪問」は" in out
    assert "保存済み" not in out
    assert "保存された行はありません" not in out
    # The staff member's name is nowhere in the store.
    assert "佐藤花子".encode() not in (data / "kb.sqlite").read_bytes()

    # A second run changes nothing, and says so.
    assert main([*args, "--columns", str(mapping), str(export)]) == 0
    again = capsys.readouterr().out
    assert f"保存 0 件（新規 0・更新 0）、変更なし 30 件、警告 {warnings} 件、エラー 0 件" in again


def test_the_same_export_in_english_with_kb_lang_en(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_LANG", "en")
    mapping = tmp_path / "columns.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    export = _write_csv(tmp_path / "cases.csv")
    data = tmp_path / "data"
    args = ["--data-dir", str(data), "--model", "fake", "ingest", "--no-build"]
    assert main([*args, "--columns", str(mapping), str(export)]) == 0
    out = capsys.readouterr().out
    assert "stored 30, unchanged 0, warnings 5, errors 0" in out
    assert "(the same warning on 3 rows: lines 10, 20, 30)" in out
    assert "channel '来庁' was read as '窓口' (9 row(s))" in out
    assert "  warning: " in out


def test_without_the_mapping_every_column_problem_is_reported_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = _write_csv(tmp_path / "cases.csv")
    data = tmp_path / "data"
    code = main(["--data-dir", str(data), "--model", "fake", "ingest", "--no-build", str(export)])
    out = capsys.readouterr().out
    assert code == 1
    # 担当者 and 進捗 are the city's own; both are named at once, with the accepted names.
    assert "不明な列「担当者」（8 列目）" in out
    assert "不明な列「進捗」（10 列目）" in out
    assert "列の見出しに 2 件の問題があり" in out
    assert "status（状態、ステータス、対応状況）" in out
    assert "--columns" in out
    # Nothing was stored, and the report does not pretend otherwise.
    assert "保存 0 件" in out
    assert "保存された行はありません" in out
    assert "保存済み" not in out


def test_a_mistake_in_the_mapping_file_names_the_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "columns.toml"
    mapping.write_text('[case]\n受付番号 = "id"\n相談日 = "day"\n', encoding="utf-8")
    export = _write_csv(tmp_path / "cases.csv")
    args = ["--data-dir", str(tmp_path / "data"), "--model", "fake", "ingest", "--no-build"]
    assert main([*args, "--columns", str(mapping), str(export)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kb: エラー: ")
    assert f"{mapping}:3: [case] 相談日: 「day」は case の項目ではありません" in err
    assert "date" in err  # the fields it could have been


def test_a_record_replacing_one_from_another_file_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A hand-kept workbook numbers from 1 each year: R6's No 1 replaces R5's No 1. Ingesting the
    # same file again is an update and says nothing.
    r5 = tmp_path / "相談記録_R5.csv"
    r6 = tmp_path / "相談記録_R6.csv"
    r5.write_text("No,相談日,相談内容,対応\n1,R5.4.1,前年の相談,案内\n2,R5.4.2,相談,案内\n")
    r6.write_text("No,相談日,相談内容,対応\n1,R6.4.1,今年の相談,案内\n")
    args = ["--data-dir", str(tmp_path / "data"), "--model", "fake", "ingest", "--no-build"]
    assert main([*args, str(r5)]) == 0
    assert main([*args, str(r5)]) == 0
    assert "置き換えました" not in capsys.readouterr().out
    assert main([*args, str(r6)]) == 0
    out = capsys.readouterr().out
    assert "相談記録_R6.csv:2: id: 1 件（id 1 など）" in out
    assert "相談記録_R5.csv" in out
