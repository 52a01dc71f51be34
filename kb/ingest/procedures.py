"""Procedures (手続き): the fifth source kind, read from CSV, JSONL or xlsx rows.

A procedures file lists what a life event (転入, 死亡...) calls for: one row per procedure with
its department, the life events and conditions it belongs to, its deadline, the documents to
bring, the fee, the counter and (optionally) the wording in やさしい日本語. It is told from the
other tabular kinds by its ``life_events`` column (ライフイベント).

The rules are those of the other kinds: headers match the field names or their Japanese aliases
(NFKC, case-folded), a bad value is a row error naming the file, line and field and never loses
the good rows, a duplicate id is refused, every value is held to the field length limits.
Procedures are public information: nothing is masked.

The canonical life events and conditions live here, below both the reader that validates them
and :mod:`kb.desk.lifeevents` that recognises them in a query.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import InputError, SchemaError
from kb.ingest.limits import DEFAULT_LIMITS, MAX_JSON_DEPTH, InputLimits, json_too_deep
from kb.ingest.rows import TableRow, table_rows
from kb.ingest.schema import FieldSpec, check_length, header_key, parse_id, parse_url, split_multi
from kb.types import ParseResult, Procedure, RowError

LIFE_EVENTS: dict[str, tuple[str, ...]] = {
    "転入": ("市外からの引っ越し", "転入届"),
    "転出": ("市外への引っ越し", "転出届"),
    "転居": ("市内での引っ越し", "市内転居", "転居届"),
    "妊娠": ("妊娠・出産",),
    "出生": ("出産", "誕生", "出生届"),
    "入学": ("入園・入学", "就学"),
    "婚姻": ("結婚", "婚姻届"),
    "離婚": ("離婚届",),
    "就職": ("就職・転職",),
    "退職": ("離職", "失業"),
    "65歳到達": ("65歳",),
    "75歳到達": ("75歳",),
    "介護": ("介護が必要になったとき", "施設入所"),
    "死亡": ("おくやみ", "死亡届"),
}
"""The life events a procedure may belong to: canonical name → accepted other spellings."""

CONDITIONS: dict[str, tuple[str, ...]] = {
    "子どもあり": ("子供あり", "子あり", "子どもがいる"),
    "小中学生あり": ("小学生・中学生あり", "就学児あり"),
    "国保加入": ("国民健康保険加入", "国保"),
    "国民年金加入": ("国民年金", "国民年金第1号"),
    "65歳以上": ("65歳以上の方",),
    "75歳以上": ("75歳以上の方", "後期高齢者"),
    "要介護": ("要介護認定あり", "要支援・要介護"),
    "障害者手帳あり": ("障害あり",),
    "自動車あり": ("車あり", "自動車・バイクあり"),
    "犬あり": ("犬を飼っている",),
    "外国籍": ("外国人",),
    "持ち家": ("住宅所有",),
    "ひとり親": ("ひとり親家庭",),
    "世帯主": (),
}
"""The conditions a procedure may require: canonical name → accepted other spellings."""

SOON_DAYS = 14
"""The ordering weight of 「速やかに」: with the 14-day 届出 it usually goes with."""

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", ("ID", "番号", "手続き番号", "手続きID"), required=True),
    FieldSpec("name", ("手続き名", "手続き", "名称"), required=True),
    FieldSpec("department", ("担当課", "所管課", "窓口課"), required=True),
    FieldSpec(
        "life_events",
        ("life_event", "events", "ライフイベント", "出来事"),
        required=True,
        multi=True,
    ),
    FieldSpec("conditions", ("condition", "条件", "対象条件", "対象者"), multi=True),
    FieldSpec("deadline", ("期限", "届出期限", "手続き期限")),
    FieldSpec("documents", ("必要書類", "持ち物", "持参するもの"), multi=True),
    FieldSpec("fee", ("手数料", "費用")),
    FieldSpec("where", ("窓口", "場所", "受付場所")),
    FieldSpec("easy", ("easy_japanese", "やさしい日本語", "やさしい説明"), body=True),
    FieldSpec("note", ("説明", "備考", "内容"), body=True),
    FieldSpec("url", ("URL", "リンク")),
)
_BY_NAME = {spec.name: spec for spec in FIELDS}
_KEYS = {header_key(alias): spec.name for spec in FIELDS for alias in (spec.name, *spec.aliases)}


def _vocabulary(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {
        header_key(alias): name for name, aliases in table.items() for alias in (name, *aliases)
    }


_EVENT_KEYS = _vocabulary(LIFE_EVENTS)
_CONDITION_KEYS = _vocabulary(CONDITIONS)


def resolve_header(header: str) -> str | None:
    """The procedure field a column header stands for, or ``None`` if unknown."""
    return _KEYS.get(header_key(header))


def is_procedures_header(headers: Iterable[str]) -> bool:
    """Whether a file with these headers is a procedures file (it has a life-events column)."""
    return any(resolve_header(h) == "life_events" for h in headers)


def canonical_event(value: str) -> str | None:
    """The canonical life event ``value`` names (``"結婚"`` → ``"婚姻"``), or ``None``."""
    return _EVENT_KEYS.get(header_key(value))


def canonical_condition(value: str) -> str | None:
    """The canonical condition ``value`` names (``"車あり"`` → ``"自動車あり"``), or ``None``."""
    return _CONDITION_KEYS.get(header_key(value))


# --- deadlines ---------------------------------------------------------------------------------

_SPAN_RE = re.compile(r"(\d+)\s*(日|週間|か月|ヵ月|ヶ月|カ月|ケ月|箇月|年)(?:以内|間|後|まで|前)")
_UNIT_DAYS = {"日": 1, "週間": 7, "年": 365}
_NOW_WORDS = ("当日", "直ちに", "すぐ", "事前", "前まで", "前に")
_SOON_WORDS = ("速やかに", "すみやかに", "早めに", "なるべく早く")
_NONE_WORDS = ("なし", "期限なし", "特になし", "随時", "いつでも", "-", "ー", "―")


def parse_deadline(value: str) -> int | None:
    """The deadline in days, for ordering a checklist.

    Accepts a span (``14日以内``, ``死亡を知った日から7日以内``, ``3か月以内``, ``2週間``; the
    first span written counts), 当日/直ちに/事前 (0), 速やかに (:data:`SOON_DAYS`) and
    なし/随時/empty (``None``: no deadline).

    Raises:
        ValueError: None of those forms.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if not text or text.startswith(_NONE_WORDS):
        return None
    if m := _SPAN_RE.search(text):
        number, unit = int(m[1]), m[2]
        return number * _UNIT_DAYS.get(unit, 30)
    if any(word in text for word in _NOW_WORDS):
        return 0
    if any(word in text for word in _SOON_WORDS):
        return SOON_DAYS
    raise ValueError(
        f"期限「{value}」を読み取れません（例: 14日以内、3か月以内、速やかに、当日、なし）"
    )


# --- reading -----------------------------------------------------------------------------------


def read_procedures(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> ParseResult:
    """Read a procedures file (``.csv``, ``.jsonl`` or ``.xlsx``).

    Args:
        path: The file.
        limits: The field length limits (``max_record_title_chars``, ``max_record_body_chars``).

    Returns:
        The good procedures and one error per bad value.

    Raises:
        InputError: The file cannot be read, or is empty.
        SchemaError: A column is unknown, named twice, or a required one is missing.
    """
    source = str(path)
    if path.suffix.lower() == ".jsonl":
        from kb.ingest.encoding import read_text

        return parse_procedures_jsonl(read_text(path), source=source, limits=limits)
    return parse_procedure_rows(table_rows(path, limits=limits), source=source, limits=limits)


def parse_procedure_rows(
    rows: Iterable[TableRow], *, source: str, limits: InputLimits = DEFAULT_LIMITS
) -> ParseResult:
    """Procedures from a table's rows, the first one the header (see :func:`read_procedures`)."""
    it = iter(rows)
    try:
        header_line, header = next(it)
    except StopIteration:
        raise InputError(source, "file is empty") from None
    if isinstance(header, RowError):
        raise SchemaError(source, f"cannot read the header: {header.message}", line=header_line)
    columns = map_procedure_columns(header, source, header_line)
    builder = _Builder(source, limits)
    for line, cells in it:
        if isinstance(cells, RowError):
            builder.errors.append(cells)
            continue
        if len(cells) > len(columns):
            extra = [c for c in cells[len(columns) :] if c.strip()]
            if extra:
                message = f"expected {len(columns)} cells like the header, got {len(cells)}"
                builder.errors.append(RowError(source, line, "", message))
                continue
        values: dict[str, str | tuple[str, ...]] = {}
        bad = False
        for name, cell in zip(columns, cells, strict=False):
            if name is None:
                if cell.strip():
                    builder.errors.append(
                        RowError(source, line, "", "value in a column without header")
                    )
                    bad = True
                continue
            values[name] = cell
        if not bad:
            builder.add(line, values)
    return builder.result()


def parse_procedures_jsonl(
    text: str, *, source: str, limits: InputLimits = DEFAULT_LIMITS
) -> ParseResult:
    """Procedures from JSONL text: one object per line, multi-valued fields as lists or text."""
    if not text.strip():
        raise InputError(source, "file is empty")
    builder = _Builder(source, limits)
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        if json_too_deep(raw, MAX_JSON_DEPTH):
            builder.errors.append(RowError(source, line, "", "JSON is nested too deeply"))
            continue
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, RecursionError) as exc:
            message = f"invalid JSON: {getattr(exc, 'msg', 'too deep')}"
            builder.errors.append(RowError(source, line, "", message))
            continue
        if not isinstance(obj, dict):
            builder.errors.append(RowError(source, line, "", "expected a JSON object"))
            continue
        columns = map_procedure_columns([str(k) for k in obj], source, line)
        values: dict[str, str | tuple[str, ...]] = {}
        bad = False
        for name, value in zip(columns, obj.values(), strict=True):
            if name is None:
                continue
            try:
                values[name] = _json_value(value, _BY_NAME[name].multi)
            except ValueError as exc:
                builder.errors.append(RowError(source, line, name, str(exc)))
                bad = True
        if not bad:
            builder.add(line, values)
    return builder.result()


def map_procedure_columns(headers: Sequence[str], source: str, line: int) -> list[str | None]:
    """The procedure field of each column (``None`` for a column without a header).

    Raises:
        SchemaError: Unknown columns (all of them named at once), a field named twice, or a
            required field missing.
    """
    fields: list[str | None] = []
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for header in headers:
        if not header_key(header):
            fields.append(None)
            continue
        name = resolve_header(header)
        if name is None:
            unknown.append(header.strip())
            fields.append(None)
            continue
        if name in seen:
            raise SchemaError(
                source,
                f"columns '{seen[name]}' and '{header.strip()}' both mean '{name}'",
                line=line,
                field=header.strip(),
            )
        seen[name] = header.strip()
        fields.append(name)
    if unknown:
        known = ", ".join(f"{s.name} ({'/'.join(s.aliases[-2:])})" for s in FIELDS)
        raise SchemaError(
            source,
            f"unknown column(s) for procedures: {', '.join(unknown)} (known: {known})",
            line=line,
            field=unknown[0],
        )
    for spec in FIELDS:
        if spec.required and spec.name not in seen:
            raise SchemaError(
                source, "missing required column for procedures", line=line, field=spec.name
            )
    return fields


def _json_value(value: object, multi: bool) -> str | tuple[str, ...]:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and multi and all(isinstance(v, str | int) for v in value):
        return tuple(str(v) for v in value)
    raise ValueError(f"expected text{' or a list of texts' if multi else ''}")


@dataclass
class _Builder:
    """Collects the procedures of one file and its row errors; refuses duplicate ids."""

    source: str
    limits: InputLimits
    procedures: list[Procedure] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)

    def add(self, line: int, values: Mapping[str, str | tuple[str, ...]]) -> None:
        row = _Row(self.source, line, values, self.limits)
        procedure = row.procedure()
        if row.errors:
            self.errors.extend(row.errors)
            return
        if procedure.id in self.seen:
            message = f"duplicate id '{procedure.id}' (first on line {self.seen[procedure.id]})"
            self.errors.append(RowError(self.source, line, "id", message + "; row skipped"))
            return
        self.seen[procedure.id] = line
        self.procedures.append(procedure)

    def result(self) -> ParseResult:
        return ParseResult(
            source=self.source,
            procedures=tuple(self.procedures),
            errors=tuple(sorted(self.errors, key=lambda e: e.line)),
        )


@dataclass
class _Row:
    source: str
    line: int
    values: Mapping[str, str | tuple[str, ...]]
    limits: InputLimits
    errors: list[RowError] = field(default_factory=list)

    def error(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.source, self.line, name, message))

    def text(self, name: str, *, required: bool = False) -> str:
        raw = self.values.get(name, "")
        value = (raw if isinstance(raw, str) else "|".join(raw)).strip()
        if _BY_NAME[name].body:
            limit, setting = self.limits.max_record_body_chars, "max_record_body_chars"
        else:
            limit, setting = self.limits.max_record_title_chars, "max_record_title_chars"
        try:
            check_length(value, limit, setting)
        except ValueError as exc:
            self.error(name, str(exc))
            return ""
        if required and not value:
            self.error(name, "required value is empty")
        return value

    def vocabulary(self, name: str, table: Mapping[str, tuple[str, ...]], what: str) -> list[str]:
        out: list[str] = []
        keys = _vocabulary(table)
        for value in split_multi(self.text(name)):
            found = keys.get(header_key(value))
            if found is None:
                self.error(name, f"{what}「{value}」は使えません（使える値: {'、'.join(table)}）")
            elif found not in out:
                out.append(found)
        return out

    def procedure(self) -> Procedure:
        key = self.text("id", required=True)
        if key:
            try:
                key = parse_id(key)
            except ValueError as exc:
                self.error("id", str(exc))
        events = self.vocabulary("life_events", LIFE_EVENTS, "ライフイベント")
        if not events and not any(e.field == "life_events" for e in self.errors):
            self.error("life_events", "required value is empty")
        deadline = self.text("deadline")
        days: int | None = None
        try:
            days = parse_deadline(deadline)
        except ValueError as exc:
            self.error("deadline", str(exc))
        url = self.text("url")
        try:
            url = parse_url(url)
        except ValueError as exc:
            self.error("url", str(exc))
        return Procedure(
            id=key,
            name=self.text("name", required=True),
            department=self.text("department", required=True),
            life_events=tuple(events),
            conditions=tuple(self.vocabulary("conditions", CONDITIONS, "条件")),
            deadline=deadline,
            deadline_days=days,
            documents=split_multi(self.text("documents")),
            fee=self.text("fee"),
            where=self.text("where"),
            easy=self.text("easy"),
            note=self.text("note"),
            url=url,
            source=f"{self.source}:{self.line}",
        )


def is_procedures_file(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> bool:
    """Whether ``path`` (CSV, JSONL or xlsx) is a procedures file, from its header alone.

    Reads only the start of a CSV or JSONL file (a case archive is not decoded twice); a file
    that cannot be read is not one (its own reader reports why).
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            first = next(table_rows(path, limits=limits), None)
            return (
                first is not None
                and not isinstance(first[1], RowError)
                and (is_procedures_header(first[1]))
            )
        with path.open("rb") as f:
            head = f.read(_PEEK_BYTES)
    except (OSError, InputError):
        return False
    text = _peek_text(head)
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    if suffix == ".jsonl":
        return "life_event" in line.casefold() or any(
            alias in line for alias in _BY_NAME["life_events"].aliases if not alias.isascii()
        )
    import csv

    try:
        header = next(csv.reader([line]), [])
    except csv.Error:
        return False
    return is_procedures_header(header)


_PEEK_BYTES = 16 * 1024


def _peek_text(data: bytes) -> str:
    """The start of a text file, decoded well enough to read its header line."""
    for codec in ("utf-8-sig", "cp932"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError as exc:
            if exc.start > len(data) - 4:  # the peek cut a character in two
                return data[: exc.start].decode(codec, errors="ignore")
    return data.decode("utf-8", errors="ignore")
