"""Hostile input files (hypothesis): readers either parse or raise InputError, nothing else."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.errors import InputError
from kb.ingest.jsonl import parse_jsonl
from kb.ingest.markdown import parse_markdown, parse_plain_text
from kb.ingest.readers import read_path
from kb.ingest.tabular import parse_csv
from kb.types import ParseResult

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADERS = [
    "id,question,answer,department,category,published",
    "id,date,channel,category,summary,resolution,department,status",
    "name,duties,phone,location,hours",
    "相談番号,相談日,相談経路,相談分類,相談内容,対応内容,担当課,状態",
]
cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
csv_text = st.one_of(
    st.text(max_size=300),
    st.tuples(
        st.sampled_from(HEADERS),
        st.lists(st.lists(cell, max_size=9).map(",".join), max_size=6),
    ).map(lambda t: "\n".join([t[0], *t[1]])),
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | cell,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(cell, inner, max_size=3),
    max_leaves=8,
)
jsonl_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.dictionaries(
            st.sampled_from(
                ["id", "question", "answer", "summary", "resolution", "date", "departments", "x"]
            ),
            json_value,
            max_size=6,
        ).map(lambda d: json.dumps(d, ensure_ascii=False)),
        max_size=5,
    ).map("\n".join),
)


def _parse(fn: Callable[..., ParseResult], *args: Any, **kwargs: Any) -> ParseResult | InputError:
    """The parse result, or the InputError raised; any other exception fails the test."""
    try:
        return fn(*args, **kwargs)
    except InputError as exc:
        return exc


@FAST
@given(csv_text)
def test_csv_parses_or_raises_input_error(text: str) -> None:
    result = _parse(parse_csv, text, source="x.csv")
    if isinstance(result, InputError):
        assert str(result).startswith("x.csv")
        return
    for error in result.errors:
        assert error.source == "x.csv"
        assert error.line >= 1


@FAST
@given(jsonl_text)
def test_jsonl_parses_or_raises_input_error(text: str) -> None:
    result = _parse(parse_jsonl, text, source="x.jsonl")
    if isinstance(result, InputError):
        assert str(result).startswith("x.jsonl")
        return
    for error in result.errors:
        assert error.line >= 1


@FAST
@given(st.text(max_size=400))
def test_markdown_and_text_never_crash(text: str) -> None:
    for parse in (parse_markdown, parse_plain_text):
        _parse(parse, text, source="m.md", stem="m")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=400), st.sampled_from([".docx", ".pdf"]))
def test_binary_garbage_is_an_input_error(data: bytes, suffix: str) -> None:
    prefix = b"PK\x03\x04" if suffix == ".docx" else b"%PDF-1.4\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"garbage{suffix}"
        path.write_bytes(prefix + data)
        result = _parse(read_path, path)
        if isinstance(result, InputError):
            assert "garbage" in str(result)
