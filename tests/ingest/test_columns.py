"""A file's headers: every problem in one report, the mapping file, known bookkeeping columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.errors import InputError, SchemaError
from kb.ingest.columns import NOT_STORED, detect_kind, load_mapping, map_columns, resolve
from kb.ingest.jsonl import parse_jsonl
from kb.ingest.tabular import parse_csv
from kb.messages import language


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_column_problem_is_reported_in_one_pass() -> None:
    headers = ["整理No", "相談日", "カテゴリ名", "相談内容", "担当課", "担当部署", "メモ"]
    with language("ja"), pytest.raises(SchemaError) as info:
        map_columns(headers, "case", "cases.csv")
    error = info.value
    assert (error.source, error.line, error.field) == ("cases.csv", 1, "整理No")
    lines = error.message.splitlines()
    assert lines[0].startswith("列の見出しに 6 件の問題があり")
    assert lines[1:7] == [
        "・不明な列「整理No」（1 列目）",
        "・不明な列「カテゴリ名」（3 列目）。もしかして「カテゴリ」?",
        "・列「担当課」と「担当部署」がどちらも departments を表しています",
        "・不明な列「メモ」（7 列目）",
        "・必須の列 id（ID、番号、相談番号、case_id、受付番号、整理番号、No、No.）がありません",
        "・必須の列 resolution（対応、対応内容、対応結果、解決）がありません",
    ]
    # ...and the names that are accepted, each field with its aliases.
    assert "case で使える列名: id（ID、番号" in error.message
    assert "date（日付、相談日、受付日" in error.message
    assert "--columns" in error.message


def test_a_column_holding_the_ids_name_is_never_hinted_as_the_id() -> None:
    # Taking the hint would store each phone number as its record's id, which is never masked.
    headers = ["相談日", "相談内容", "対応", "電話番号", "郵便番号", "受付番合"]
    with language("ja"), pytest.raises(SchemaError) as info:
        map_columns(headers, "case", "cases.csv")
    lines = info.value.message.splitlines()
    assert "・不明な列「電話番号」（4 列目）" in lines
    assert "・不明な列「郵便番号」（5 列目）" in lines
    assert not any("もしかして「番号」" in line for line in lines)
    assert "・不明な列「受付番合」（6 列目）。もしかして「受付番号」?" in lines  # a typo still is


def test_a_column_about_a_person_is_never_hinted() -> None:
    # An outside clerk was told 「担当者」 might be 「担当課」: taking it routes by staff names.
    # Another was told 「生年月日」 might be 「相談年月日」: every birth date as the case's date.
    headers = ["番号", "相談内容", "対応", "担当者", "相談者区分", "受付日時", "生年月日"]
    with language("ja"), pytest.raises(SchemaError) as info:
        map_columns(headers, "case", "cases.csv")
    lines = info.value.message.splitlines()
    assert "・不明な列「担当者」（4 列目）" in lines
    assert "・不明な列「相談者区分」（5 列目）" in lines
    assert "・不明な列「受付日時」（6 列目）。もしかして「受付日」?" in lines
    assert "・不明な列「生年月日」（7 列目）" in lines


def test_a_hint_never_names_a_field_another_column_gives() -> None:
    # A second city's directory: 部名 was hinted as 部署名 beside 課名 (two name columns).
    headers = ["課名", "業務内容", "部門名"]
    with language("ja"), pytest.raises(SchemaError) as info:
        map_columns(headers, "department", "担当課一覧.csv")
    assert "・不明な列「部門名」（3 列目）" in info.value.message.splitlines()
    with language("ja"), pytest.raises(SchemaError) as info:
        map_columns(["業務内容", "部門名"], "department", "担当課一覧.csv")
    assert "・不明な列「部門名」（2 列目）。もしかして「部署名」?" in info.value.message


def test_a_directorys_and_a_cms_exports_bookkeeping_columns_are_read_past() -> None:
    # Each refused a whole file of a second city's export: 部名 and ＦＡＸ in a directory,
    # 閲覧数 in a web CMS's FAQ.
    columns = map_columns(
        ["部名", "課名", "業務内容", "ＦＡＸ", "メールアドレス"], "department", "d.csv"
    )
    assert columns.fields == (None, "name", "duties", None, None)
    assert [h for h, _ in columns.not_stored] == ["部名", "ＦＡＸ", "メールアドレス"]
    faq = map_columns(["番号", "質問", "回答", "閲覧数", "公開日"], "faq", "faq.csv")
    assert faq.fields == ("id", "question", "answer", None, None)


def test_the_column_report_in_english() -> None:
    with language("en"), pytest.raises(SchemaError) as info:
        map_columns(["id", "date", "summary", "resolution", "foo", "bar"], "case", "c.csv")
    assert "2 problem(s) with the column headers" in info.value.message
    assert "- unknown column 'foo' (column 5)" in info.value.message
    assert "- unknown column 'bar' (column 6)" in info.value.message


def test_the_report_comes_before_any_row_is_read() -> None:
    # Row 2 has a bad date: with bad columns, only the columns are reported (the file stops).
    text = "受付番号,相談日,相談内容,対応内容,謎A,謎B\nC1,R6.13.1,s,r,x,y\n"
    with language("ja"), pytest.raises(SchemaError) as info:
        parse_csv(text, source="c.csv")
    assert "謎A" in info.value.message
    assert "謎B" in info.value.message
    assert "R6.13.1" not in info.value.message


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("受付番号", "id"),
        ("整理番号", "id"),
        ("相談日", "date"),
        ("相談年月日", "date"),
        ("相談経路", "channel"),
        ("相談方法", "channel"),
        ("相談内容", "summary"),
        ("対応内容", "resolution"),
        ("担当課", "departments"),
        ("担当部署", "departments"),
        ("カテゴリー", "category"),
        ("カテゴリ", "category"),
        ("対応状況", "status"),
        ("更新日", None),  # no field: read past with a notice
        ("登録者", None),
    ],
)
def test_built_in_japanese_headers_of_city_exports(header: str, field: str | None) -> None:
    assert resolve("case", header) == (field or NOT_STORED)
    if field is None:
        columns = map_columns(["id", "date", "summary", "resolution", header], "case", "c.csv")
        assert columns.fields[-1] is None
        assert columns.not_stored == ((header, False),)


CMS_EXPORT = (
    "FAQ一覧（書き出し）\n"
    "記事ID,カテゴリ大,カテゴリ中,質問,回答,担当課,電話番号,更新日,公開状態\n"
    "10101,くらし・手続き,戸籍・住民票,住民票の写しがほしい,<p>市民課で交付します。</p>,"
    "市民課,0287-22-2101,R6.4.1,公開中\n"
    "10102,くらし・手続き,,転入届を出したい,市民課へ。,市民課,0287-22-2101,2024/04/01,非公開\n"
)


def test_a_web_cms_faq_export_goes_in_without_a_mapping_file() -> None:
    # Seen in an outside tester's city export: it took three runs and a mapping file.
    result = parse_csv(CMS_EXPORT, source="faq_export.csv")
    assert result.errors == ()
    first, second = result.documents
    assert first.doc_id == "faq:10101"
    assert first.category == "くらし・手続き > 戸籍・住民票"  # the tree's levels, in order
    assert second.category == "くらし・手続き"  # an empty level is left out
    assert (first.published, second.published) == (True, False)
    assert first.body == "市民課で交付します。"
    notices = [w for w in result.warnings if w.field == "電話番号"]
    assert len(notices) == 1  # the department's phone: read past with a notice


def test_a_mapping_file_maps_headers_channels_and_a_sheet(tmp_path: Path) -> None:
    path = _mapping(
        tmp_path,
        '# city export\nsheet = "相談記録"\n\n[case]\n受付No = "id"\n'
        '"受付 日" = "相談日"\n職員名 = "-"\n\n[channel]\n訪問 = "窓口"\nＦＡＸ = "電話"\n',
    )
    mapping = load_mapping(path)
    assert mapping.sheet == "相談記録"
    assert mapping.target("case", "受付ｎｏ") == "id"  # compared like headers: NFKC, case
    assert mapping.target("case", "受付 日") == "date"  # an alias as the target is fine
    assert mapping.target("case", "職員名") == NOT_STORED
    assert mapping.target("faq", "受付No") is None  # per kind
    assert mapping.channels == {"訪問": "窓口", "fax": "電話"}
    headers = ["受付No", "受付 日", "相談内容", "対応内容", "職員名", "相談経路"]
    assert detect_kind(headers, "c.csv", mapping=mapping) == "case"
    text = ",".join(headers) + "\nC1,R6.6.1,s,r,山田,訪問\nC2,R6.6.2,s,r,山田,fax\n"
    result = parse_csv(text, source="c.csv", mapping=mapping)
    assert [(d.doc_id, d.date, d.channel) for d in result.documents] == [
        ("case:C1", "2024-06-01", "窓口"),
        ("case:C2", "2024-06-02", "電話"),
    ]
    assert all("山田" not in str(d) for d in result.documents)
    assert [(w.line, w.field) for w in result.warnings] == [
        (1, "職員名"),
        (2, "channel"),
        (3, "channel"),
    ]


def test_a_mapping_applies_to_jsonl_keys_too(tmp_path: Path) -> None:
    mapping = load_mapping(_mapping(tmp_path, '[case]\n受付No = "id"\n'))
    text = '{"受付No": "C1", "相談日": "R6.6.1", "相談内容": "s", "対応内容": "r"}\n' * 2
    result = parse_jsonl(text.replace("C1", "C2", 1), source="c.jsonl", mapping=mapping)
    assert [d.doc_id for d in result.documents] == ["case:C2", "case:C1"]


def test_a_first_column_of_personal_data_keeps_its_header(tmp_path: Path) -> None:
    # 相談者 mapped first into the summary: stored as 【相談者】…, so that staff see what it is
    # and the masking reads the name by its label (a rare surname has no other sign).
    mapping = load_mapping(_mapping(tmp_path, '[case]\n相談者 = "summary"\n相談内容 = "summary"\n'))
    headers = "相談番号,相談日,相談者,相談内容,対応内容\n"
    rows = "C1,R6.6.1,纐纈 源五郎,介護の相談,包括に連絡\nC2,R6.6.2,,借金の相談,法テラス\n"
    result = parse_csv(headers + rows, source="c.csv", mapping=mapping)
    assert result.errors == ()
    assert [d.title for d in result.documents] == [
        "【相談者】纐纈 源五郎\n【相談内容】介護の相談",
        "【相談内容】借金の相談",
    ]


def test_note_columns_the_mapping_names_for_one_text_field_are_joined(tmp_path: Path) -> None:
    # A case system exports 対応経過, 備考 and メモ: all three are the resolution, each later
    # one under its header; the masking then runs on the whole text as on any resolution.
    mapping = load_mapping(
        _mapping(tmp_path, '[case]\n対応経過 = "resolution"\n備考 = "resolution"\nメモ = "対応"\n')
    )
    headers = "相談番号,相談日,相談内容,対応経過,備考,メモ\n"
    rows = "C1,R6.6.1,介護の相談,包括に連絡,長男の嫁が主介護者,\nC2,R6.6.2,借金,,法テラス,来週\n"
    result = parse_csv(headers + rows, source="c.csv", mapping=mapping)
    assert result.errors == ()
    assert [d.body for d in result.documents] == [
        "包括に連絡\n【備考】長男の嫁が主介護者",
        "【備考】法テラス\n【メモ】来週",
    ]
    line = '{"相談番号": "J1", "相談日": "R6.6.1", "相談内容": "s", "対応経過": "a", "備考": "b"}\n'
    assert [d.body for d in parse_jsonl(line, source="c.jsonl", mapping=mapping).documents] == [
        "a\n【備考】b"
    ]
    # Without the mapping naming both, two columns for one field stay an error, and so do two
    # for a field that is not free text.
    with language("ja"), pytest.raises(SchemaError, match="どちらも resolution"):
        map_columns(["相談番号", "相談日", "相談内容", "対応", "対応内容"], "case", "c.csv")
    dated = load_mapping(_mapping(tmp_path, '[case]\n受付日 = "date"\n相談日 = "date"\n'))
    with language("ja"), pytest.raises(SchemaError, match="どちらも date"):
        map_columns(["番号", "受付日", "相談日", "相談内容", "対応"], "case", "c", mapping=dated)


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        ('[case]\n受付番号 = "id"\n相談日 = "day"\n', 3, "[case] 相談日", "「day」は case の項目"),
        ('[cases]\n受付番号 = "id"\n', 1, "cases", "[faq] [case] [department] [channel]"),
        ("[case]\n受付番号 = 1\n", 2, "[case] 受付番号", "文字列"),
        ('[channel]\n訪問 = "自宅"\n', 2, "[channel] 訪問", "「自宅」は相談経路ではありません"),
        ("sheet = 3\n", 1, "sheet", "シート名"),
        ("case = 1\n", 1, "case", "表にしてください"),
    ],
)
def test_mistakes_in_the_mapping_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, field: str, fragment: str
) -> None:
    path = _mapping(tmp_path, text)
    with language("ja"), pytest.raises(InputError) as info:
        load_mapping(path)
    assert (info.value.source, info.value.line, info.value.field) == (str(path), line, field)
    assert fragment in info.value.message


def test_a_mapping_that_is_not_toml_or_not_there(tmp_path: Path) -> None:
    path = _mapping(tmp_path, '[case]\n受付番号 = "id"\n対応経過 = resolution\n')
    with language("ja"), pytest.raises(InputError, match="対応表のこの行を読めません") as info:
        load_mapping(path)
    # The line is where kb's messages put it; tomllib's English "(at line …)" is not repeated.
    assert info.value.line == 3
    assert "at line" not in info.value.message
    with language("en"), pytest.raises(InputError, match="cannot read the column mapping"):
        load_mapping(tmp_path / "missing.toml")


def test_a_mapping_nested_thousands_deep_is_refused_not_a_traceback(tmp_path: Path) -> None:
    path = _mapping(tmp_path, "a = " + "[" * 5000 + "]" * 5000 + "\n")
    with language("ja"), pytest.raises(InputError, match="対応表のこの行を読めません"):
        load_mapping(path)


def test_a_title_line_above_the_header_is_skipped() -> None:
    text = "相談記録一覧（令和6年度）,,,\n\nid,date,summary,resolution\nC1,R6.6.1,s,r\n"
    result = parse_csv(text, source="c.csv")
    assert [d.source for d in result.documents] == ["c.csv:4"]


def test_a_header_with_a_dot_or_a_space_needs_no_quotes(tmp_path: Path) -> None:
    # "No." unquoted is a dotted key in TOML; staff write headers as the file has them.
    path = _mapping(tmp_path, '[faq]\nNo. = "id"\n問い合わせ 先 = "department"\nNo_2 = "-"\n')
    mapping = load_mapping(path)
    assert mapping.columns["faq"] == {"no.": "id", "問い合わせ 先": "department", "no_2": "-"}


def test_a_vendor_systems_codes_are_stored_as_the_mapping_translates_them(tmp_path: Path) -> None:
    # A case system exports codes (状態 1/9, 分類 01/07) with a legend; the mapping file gives
    # the words, as it gives channel spellings. A code it does not name is stored as written.
    mapping = load_mapping(
        _mapping(
            tmp_path,
            '[case]\nSTATUS_CD = "status"\nCATEGORY_CD = "category"\n'
            '[status]\n1 = "受付"\n9 = "完了"\n[category]\n"01" = "生活困窮"\n',
        )
    )
    headers = "相談番号,相談日,相談内容,対応内容,STATUS_CD,CATEGORY_CD\n"
    rows = "C1,R6.4.1,s,r,9,01\nC2,R6.4.2,s,r,1,07\n"
    result = parse_csv(headers + rows, source="c.csv", mapping=mapping)
    assert result.errors == ()
    assert [(d.status, d.category) for d in result.documents] == [
        ("完了", "生活困窮"),
        ("受付", "07"),
    ]
