"""Per-field length limits of CSV/JSONL rows, and JSONL lines that hold lone surrogates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.ingest.jsonl import parse_jsonl
from kb.ingest.limits import DEFAULT_LIMITS, InputLimits
from kb.ingest.readers import read_path
from kb.ingest.tabular import parse_csv
from kb.settings import Settings
from kb.types import RowError

SMALL = InputLimits(max_record_title_chars=20, max_record_body_chars=50)


def _faq_csv(*rows: tuple[str, str, str]) -> str:
    lines = ["id,question,answer,department"]
    lines += [f"{i},{q},{a},市民課" for i, q, a in rows]
    return "\n".join(lines) + "\n"


def _only(errors: tuple[RowError, ...]) -> RowError:
    assert len(errors) == 1, errors
    return errors[0]


def test_defaults_are_far_above_real_entries() -> None:
    assert DEFAULT_LIMITS.max_record_title_chars == 2_000
    assert DEFAULT_LIMITS.max_record_body_chars == 20_000
    settings = Settings()
    assert settings.max_record_title_chars == DEFAULT_LIMITS.max_record_title_chars
    assert settings.max_record_body_chars == DEFAULT_LIMITS.max_record_body_chars


def test_an_over_long_question_is_a_row_error_and_the_other_rows_are_stored() -> None:
    text = _faq_csv(("F1", "転入届", "市民課へ"), ("F2", "あ" * 21, "回答"), ("F3", "転出", "同上"))
    result = parse_csv(text, source="faq.csv", limits=SMALL)
    assert [d.doc_id for d in result.documents] == ["faq:F1", "faq:F3"]
    error = _only(result.errors)
    assert (error.source, error.line, error.field) == ("faq.csv", 3, "question")
    assert "21 文字" in error.message
    assert "上限 20 文字" in error.message
    assert "max_record_title_chars" in error.message


def test_the_limit_itself_is_allowed() -> None:
    text = _faq_csv(("F1", "あ" * 20, "い" * 50))
    result = parse_csv(text, source="faq.csv", limits=SMALL)
    assert result.errors == ()
    assert len(result.documents) == 1


def test_an_over_long_answer_uses_the_body_limit() -> None:
    text = _faq_csv(("F1", "質問", "い" * 51), ("F2", "質問二", "い" * 50))
    result = parse_csv(text, source="faq.csv", limits=SMALL)
    error = _only(result.errors)
    assert (error.line, error.field) == (2, "answer")
    assert "51 文字" in error.message
    assert "max_record_body_chars" in error.message
    assert [d.doc_id for d in result.documents] == ["faq:F2"]


def test_case_and_department_fields() -> None:
    cases = (
        "id,date,summary,resolution,category\n"
        f"C1,2024-04-01,{'相' * 21},対応,\n"
        f"C2,2024-04-01,相談,{'対' * 51},\n"
        f"C3,2024-04-01,相談,対応,{'分' * 21}\n"
        "C4,2024-04-01,相談,対応,分類\n"
    )
    result = parse_csv(cases, source="cases.csv", limits=SMALL)
    assert [(e.line, e.field) for e in result.errors] == [
        (2, "summary"),
        (3, "resolution"),
        (4, "category"),
    ]
    assert [d.doc_id for d in result.documents] == ["case:C4"]
    depts = f"name,duties,aliases\n{'課' * 21},業務,\n市民課,{'務' * 51},\n税務課,税,{'別' * 21}\n"
    result = parse_csv(depts, source="departments.csv", limits=SMALL)
    assert [(e.line, e.field) for e in result.errors] == [
        (2, "name"),
        (3, "duties"),
        (4, "aliases"),
    ]


def test_jsonl_values_and_lists_are_limited_too() -> None:
    lines = [
        {"id": "F1", "question": "q" * 21, "answer": "a"},
        {"id": "F2", "question": "q", "answer": "a", "department": ["課" * 15, "課" * 15]},
        {"id": "F3", "question": "q", "answer": "a" * 50},
    ]
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    result = parse_jsonl(text, source="faq.jsonl", limits=SMALL)
    assert [(e.line, e.field) for e in result.errors] == [(1, "question"), (2, "department")]
    assert [d.doc_id for d in result.documents] == ["faq:F3"]


def test_a_huge_value_is_refused_without_being_kept(tmp_path: Path) -> None:
    # 250,000 ASCII letters crashed MeCab and with it the whole ingest (exit 139).
    path = tmp_path / "faq.jsonl"
    lines = [
        {"id": "F1", "question": "転入届", "answer": "市民課へ"},
        {"id": "F2", "question": "x" * 250_000, "answer": "回答"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    result = read_path(path, limits=InputLimits.from_settings(Settings()))
    assert [d.doc_id for d in result.documents] == ["faq:F1"]
    error = _only(result.errors)
    assert (error.line, error.field) == (2, "question")
    assert "250,000 文字" in error.message
    assert "上限 2,000 文字" in error.message


def test_read_path_applies_the_configured_limits(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(_faq_csv(("F1", "転入届の出し方", "市民課へ")), encoding="utf-8")
    assert read_path(path).errors == ()
    limits = InputLimits.from_settings(Settings(max_record_title_chars=5))
    assert _only(read_path(path, limits=limits).errors).field == "question"


@pytest.mark.parametrize(
    "line",
    [
        r'{"id": "F2", "question": "転入\ud800届", "answer": "回答"}',
        r'{"id": "F2", "question": "転入届", "answer": "\udfff"}',
        r'{"id": "F2", "question": "q", "answer": "a", "department": ["\ud83d"]}',
        r'{"id": "F2", "\ud800": "q", "answer": "a"}',
    ],
)
def test_a_jsonl_line_with_a_lone_surrogate_is_a_row_error(line: str) -> None:
    good = '{"id": "F1", "question": "転入届", "answer": "市民課へ"}'
    result = parse_jsonl(f"{good}\n{line}\n", source="faq.jsonl")
    assert [d.doc_id for d in result.documents] == ["faq:F1"]
    error = _only(result.errors)
    assert error.line == 2
    assert "サロゲート" in error.message
    str(error).encode()  # the report can be printed and stored


def test_a_surrogate_pair_escape_is_an_ordinary_character() -> None:
    line = r'{"id": "F1", "question": "犬\ud83d\ude00", "answer": "回答"}'
    result = parse_jsonl(line, source="faq.jsonl")
    assert result.errors == ()
    assert result.documents[0].title == "犬\U0001f600"
