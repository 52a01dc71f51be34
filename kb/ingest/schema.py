"""Field specifications of the tabular kinds and parsing of their values.

This module is the executable form of ``docs/schema.md``: the fields of each kind with their
Japanese aliases, header matching, and the parsers for published flags, channels, ids, URLs and
multi-valued fields. It reads no files.

Value parsers raise :class:`ValueError` with a message meant for the person who fixes the file
(in the language of :mod:`kb.messages`); the readers turn it into a :class:`~kb.types.RowError`
that names the file, line and field. Mapping a file's headers to these fields (a city's own
headers, the column mapping file) is :mod:`kb.ingest.columns`; dates are :mod:`kb.ingest.dates`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

# Dates have their own module; these names stay importable from here.
from kb.ingest.dates import EARLIEST_CASE_YEAR as EARLIEST_CASE_YEAR
from kb.ingest.dates import DateReading as DateReading
from kb.ingest.dates import parse_date as parse_date
from kb.ingest.dates import read_date as read_date
from kb.messages import msg
from kb.types import CASE_CHANNELS, DocKind

if TYPE_CHECKING:
    from kb.ingest.limits import InputLimits

TABULAR_KINDS: tuple[DocKind, ...] = ("faq", "case", "department")
"""The kinds that come as CSV/JSONL rows (``manual`` has no columns)."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a tabular kind."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    multi: bool = False
    """Multi-valued: ``|``/``、``/``;``-separated in CSV, a string or a list in JSONL."""
    body: bool = False
    """Long free text (answer, resolution, duties), limited by ``max_record_body_chars``; every
    other field by ``max_record_title_chars``."""


@dataclass(frozen=True)
class KindSpec:
    """The fields of one tabular kind."""

    kind: DocKind
    fields: tuple[FieldSpec, ...]

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required fields, in schema order."""
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> FieldSpec:
        """The spec of field ``name`` (a canonical name)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def resolve(self, header: str) -> str | None:
        """The canonical field name a column header stands for, or ``None`` if unknown."""
        key = header_key(header)
        for spec in self.fields:
            if key == header_key(spec.name) or key in (header_key(a) for a in spec.aliases):
                return spec.name
        if any(f.name == "category" for f in self.fields) and CATEGORY_LEVEL_RE.fullmatch(key):
            return "category"
        return None


CATEGORY_LEVEL_RE = re.compile(
    "(?:カテゴリー?|分類|category)[ _-]?[(]?(?:大|中|小|[1-3])[)]?|(?:大|中|小)(?:分類|カテゴリー?)"
)
"""A level of a category tree, as a CMS exports it (カテゴリ大, カテゴリ（中）, 大分類, category1),
compared on :func:`header_key`: several such columns fill ``category`` together, in column
order (``戸籍・住民票 > 住民票``)."""


SPECS: dict[DocKind, KindSpec] = {
    "faq": KindSpec(
        "faq",
        (
            FieldSpec(
                "id",
                ("ID", "番号", "FAQ番号", "記事ID", "記事番号", "質問番号", "No", "No."),
                required=True,
            ),
            FieldSpec("question", ("質問", "問い"), required=True),
            FieldSpec("answer", ("回答", "答え"), required=True, body=True),
            FieldSpec(
                "department",
                # 問い合わせ先 of a public FAQ is the office to ask (住民課 住民係 TEL …).
                ("departments", "担当課", "担当", "担当部署", "問い合わせ先", "問合せ先"),
                multi=True,
            ),
            FieldSpec("category", ("分類", "カテゴリ", "カテゴリー")),
            FieldSpec(
                "published",
                ("公開", "公開フラグ", "公開状態", "公開区分", "掲載状態", "掲載", "掲載区分"),
            ),
            FieldSpec("url", ("URL", "リンク")),
            # The FAQ lifecycle's fields (kb.trainer.lifecycle); 所管課 stands in for 担当課
            # when a file has no department column.
            FieldSpec("owner", ("所管課", "所管")),
            FieldSpec("updated", ("更新日", "最終更新日")),
            FieldSpec("expires", ("公開期限", "掲載期限", "公開終了日")),
        ),
    ),
    "case": KindSpec(
        "case",
        (
            FieldSpec(
                "id",
                ("ID", "番号", "相談番号", "case_id", "受付番号", "整理番号", "No", "No."),
                required=True,
            ),
            FieldSpec(
                "date", ("日付", "相談日", "受付日", "相談年月日", "受付年月日"), required=True
            ),
            FieldSpec("channel", ("経路", "相談経路", "受付方法", "相談方法", "受付経路")),
            FieldSpec("category", ("分類", "相談分類", "カテゴリ", "カテゴリー", "相談種別")),
            FieldSpec("summary", ("相談内容", "概要", "相談概要", "相談要旨"), required=True),
            FieldSpec(
                "resolution", ("対応", "対応内容", "対応結果", "解決"), required=True, body=True
            ),
            FieldSpec(
                "departments",
                ("department", "担当課", "対応課", "引継先", "担当部署", "引継ぎ先"),
                multi=True,
            ),
            FieldSpec("status", ("状態", "ステータス", "対応状況")),
        ),
    ),
    "department": KindSpec(
        "department",
        (
            FieldSpec("name", ("課名", "部署名", "担当課"), required=True),
            # A town's directory lists each 係 of a 課 on a row of its own: the name is both.
            FieldSpec("section", ("係名", "係", "担当係", "グループ名")),
            FieldSpec("duties", ("業務内容", "所掌事務", "業務"), required=True, body=True),
            FieldSpec("phone", ("電話", "電話番号")),
            FieldSpec("location", ("場所", "窓口", "所在地", "フロア")),
            FieldSpec("hours", ("受付時間", "開庁時間")),
            FieldSpec("aliases", ("別名", "通称"), multi=True),
        ),
    ),
}

NOT_STORED_COLUMNS: Mapping[DocKind, tuple[str, ...]] = {
    "faq": (
        *("登録日", "作成日", "更新者", "登録者", "作成者", "電話番号", "電話", "内線", "FAX"),
        # A FAQ list's own notes (掲載の経緯, 次回見直し): internal, never published.
        *("備考", "メモ", "作成担当者"),
        # A web CMS's counters and page bookkeeping (閲覧数 refused a whole FAQ file).
        *("閲覧数", "閲覧回数", "アクセス数", "表示回数", "評価", "役に立った", "役に立たなかった"),
        *("公開日", "掲載日", "公開開始日", "掲載開始日", "表示順", "並び順", "ページID"),
        *("ファクス", "ファックス", "メール", "メールアドレス", "部名", "部局", "局名"),
    ),
    "case": ("更新日", "最終更新日", "登録日", "作成日", "更新者", "登録者", "入力者"),
    "department": (
        *("更新日", "最終更新日", "登録日", "作成日", "更新者", "登録者"),
        # The 部 above the 課, a fax, a mail address, an extension (a directory's other
        # columns: 部名 and a full-width FAX refused a whole directory).
        *("部名", "部局", "部局名", "局名", "部", "FAX", "ファクス", "ファックス", "FAX番号"),
        *("メール", "メールアドレス", "E-mail", "Eメール", "内線", "内線番号", "郵便番号"),
        *("備考", "メモ", "表示順", "並び順", "課コード", "所属コード"),
    ),
}
"""Bookkeeping columns of city exports that kb has no field for: read past with a notice (a
file-level warning) rather than refused as unknown. A field of the kind with the same name wins
(:mod:`kb.ingest.columns` resolves fields first)."""


def header_key(header: str) -> str:
    """The form in which column headers are compared: NFKC, case-folded, stripped.

    A UTF-8 BOM or zero-width space left in front of the first header is dropped too.
    """
    text = unicodedata.normalize("NFKC", header).casefold()
    return text.strip().strip("\ufeff\u200b").strip()


# --- values -------------------------------------------------------------------------------

_TRUE = frozenset(
    {"true", "1", "1.0", "yes", "y", "公開", "はい", "○", "〇", "◯"}  # noqa: RUF001
    # as web CMS exports write it
    | {"公開中", "掲載", "掲載中", "表示", "有効"}
)
_FALSE = frozenset(
    {"false", "0", "0.0", "no", "n", "非公開", "いいえ", "×", "✕", "✗"}  # noqa: RUF001
    | {"非掲載", "掲載終了", "公開終了", "非表示", "無効", "下書き", "公開停止", "停止"}
)


def parse_published(value: str) -> bool:
    """Parse a published flag; empty means published (the default of FAQ entries).

    Raises:
        ValueError: Not one of the documented spellings.
    """
    key = header_key(value)
    if not key or key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(msg("value.published", value=value))


_NO_WINDOW = dt.date(9998, 1, 1)


def parse_faq_date(value: str) -> str:
    """Parse an FAQ's 更新日 or 公開期限 into ISO ``YYYY-MM-DD``; empty stays empty.

    The forms of :func:`parse_date`, without its window of case dates: a 公開期限 may lie
    years ahead.

    Raises:
        ValueError: Not a date in one of those forms, or not a real calendar date.
    """
    return read_faq_date(value).iso


def read_faq_date(value: str) -> DateReading:
    """:func:`parse_faq_date`, with the note of a date whose era was carried over.

    Raises:
        ValueError: See :func:`parse_faq_date`.
    """
    return read_date(value, today=_NO_WINDOW) if value.strip() else DateReading("")


_CHANNELS = {header_key(c): c for c in CASE_CHANNELS}

CHANNEL_SYNONYMS: Mapping[str, str] = {
    "来庁": "窓口",
    "来所": "窓口",
    "来訪": "窓口",
    "対面": "窓口",
    "窓口来庁": "窓口",
    "tel": "電話",
    "電話相談": "電話",
    "email": "メール",
    "e-mail": "メール",
    "eメール": "メール",
    "電子メール": "メール",
    "mail": "メール",
    "ライン": "LINE",
    "web": "オンライン",
    "ウェブ": "オンライン",
    "オンライン相談": "オンライン",
}
"""Other ways city systems write a channel, keyed by :func:`header_key`; a column mapping file
may add its own (``[channel]``)."""


def parse_channel(value: str) -> str:
    """Parse a case channel into its canonical spelling; empty stays empty.

    Matching ignores width and case (full-width or lower-case ``line`` is ``LINE``). Only the
    canonical spellings are accepted here; :func:`channel_synonym` reads the other ways city
    systems write them (``来庁`` → ``窓口``).

    Raises:
        ValueError: Not one of 窓口, 電話, メール, LINE, オンライン.
    """
    key = header_key(value)
    if not key:
        return ""
    try:
        return _CHANNELS[key]
    except KeyError:
        known = ", ".join(CASE_CHANNELS)
        raise ValueError(msg("value.channel", value=value, known=known)) from None


def channel_synonym(value: str, synonyms: Mapping[str, str] | None = None) -> str | None:
    """The canonical channel ``value`` stands for (``来庁`` → ``窓口``), or ``None``.

    Args:
        value: A channel as written, not one of the canonical spellings.
        synonyms: The column mapping file's own (``[channel]``, keyed by :func:`header_key`);
            they win over :data:`CHANNEL_SYNONYMS`.
    """
    key = header_key(value)
    if synonyms and key in synonyms:
        return synonyms[key]
    return CHANNEL_SYNONYMS.get(key)


MULTI_SEPARATORS = "|\uff5c、､;\uff1b"
"""Separators of multi-valued fields (``|``, ``、``, ``､``, ``;`` and their full-width forms)."""
_MULTI_RE = re.compile(f"[{re.escape(MULTI_SEPARATORS)}]")


def split_multi(value: str | Iterable[str]) -> tuple[str, ...]:
    """Split a multi-valued field into stripped, non-empty values, without duplicates.

    Args:
        value: The cell text, or (JSONL) a list of values, each of which may be split again.
    """
    parts = (
        _MULTI_RE.split(value)
        if isinstance(value, str)
        else [part for item in value for part in _MULTI_RE.split(item)]
    )
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


# 市民課→福祉課: a hand-off (引継ぎ) written with an arrow names both departments.
_DEPARTMENT_SPLIT_RE = re.compile(
    f"[{re.escape(MULTI_SEPARATORS)}\n\r\uff0f/,\uff0c\u2192\u21d2\u27a1]|->|=>"
)
# Contact details written into the department cell: （内線1234）, (TEL 0123-45-6789), 電話：...
_CONTACT_WORDS = "内線|電話|TEL|Tel|tel|FAX|Fax|fax|メール|直通|代表"
_BRACKETED_CONTACT_RE = re.compile(
    f"[\uff08(][^\uff08\uff09()]*(?:\\d|[\uff10-\uff19]|{_CONTACT_WORDS}|@)"
    "[^\uff08\uff09()]*[\uff09)]"
    # Who is in charge, in brackets (中央児童相談所（担当 日向）): a person, not a department.
    "|[\uff08(][\\s\u3000]*担当者?[^\uff08\uff09()]*[\uff09)]"
)
_TRAILING_CONTACT_RE = re.compile(
    f"[\\s\u3000]*(?:{_CONTACT_WORDS})[\\s\u3000:\uff1a]*[\\d\uff10-\uff19].*$"
)
_DEPARTMENT_ENDS = ("課", "室", "局", "部", "所", "センター", "委員会", "館", "事務局")
_UNIT_ENDS = ("課", "室", "所", "センター", "館")
_SECTION_ENDS = ("係", "担当", "グループ", "チーム", "班")
_DIVISION_ENDS = ("部", "局", "委員会")


def department_names(value: str | Iterable[str]) -> tuple[str, ...]:
    """The departments of a department cell, as a city's export writes them.

    Besides the separators of :func:`split_multi`, a line break, a slash or a comma separates
    two departments, and so does ・ between two names that each end like a department
    (``市民課・保険年金課``; ``子ども・子育て支援課`` is one). Contact details written into the
    cell are left out (``市民課（内線1234）``, ``税務課 TEL 0123-45-6789``). A section or a
    division stays (``市民課 住民記録係``, ``福祉部 障害福祉課``): the directory, matched after
    reading (:mod:`kb.ingest.departments`), may list the section; where it does not, the
    department is :func:`main_department`.
    """
    items = [value] if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        # Contacts in brackets go first: （内線1234, 1235） holds a separator.
        for part in _DEPARTMENT_SPLIT_RE.split(_BRACKETED_CONTACT_RE.sub("", item)):
            part = _TRAILING_CONTACT_RE.sub("", part).strip()
            pieces = [p.strip() for p in part.split("\u30fb")]
            if len(pieces) > 1 and all(p.endswith(_DEPARTMENT_ENDS) for p in pieces):
                names.extend(pieces)
                continue
            names.append(" ".join(part.split()))
    return tuple(dict.fromkeys(n for n in names if n))


def main_department(name: str) -> str:
    """The department of a name with its section or division: a section after its department
    gives the department (``市民課 住民記録係`` → ``市民課``), and so does a department after its
    division (``福祉部 障害福祉課``, ``健康福祉部 保険年金課 国保係``, ``教育委員会 学校教育課``).
    Other names are returned as they are."""
    words = name.split()
    kept = list(words)
    while len(kept) > 1 and kept[-1].endswith(_SECTION_ENDS):
        if not kept[-2].endswith(_DEPARTMENT_ENDS):
            break
        kept.pop()
    while len(kept) > 1 and kept[0].endswith(_DIVISION_ENDS):
        if not kept[1].endswith(_UNIT_ENDS):
            break
        kept.pop(0)
    return name if kept == words else " ".join(kept)


_PLACE_ENDS = ("庁", "舎", "口", "棟", "階", "区", "市", "町", "村", "県", "会", "所", "館", "部門")
"""Last characters of a word after a department that name where, not who (本庁, 窓口, 2階)."""
_SURNAME_SHAPE_RE = re.compile("[\u4e00-\u9fff\u3005]{1,4}")


def without_trailing_person(name: str) -> str:
    """``name`` without a last word of one to four kanji that names no unit, section or place:
    the person in charge, as a case export's hand-off cell writes it after the department or
    body (``健康推進課 栗原`` → ``健康推進課``, ``社会福祉協議会 米川`` → ``社会福祉協議会``,
    ``市民課 住民記録係 田中`` → ``市民課 住民記録係``). ``市民課 窓口``, ``福祉課 2階`` and
    ``ハローワーク筑西 専門援助部門`` stay."""
    words = name.split()
    if (
        len(words) >= 2
        and _SURNAME_SHAPE_RE.fullmatch(words[-1])
        and not words[-1].endswith(_DEPARTMENT_ENDS + _SECTION_ENDS + _PLACE_ENDS)
    ):
        return " ".join(words[:-1])
    return name


def masked_trailing_person(written: str, names: Iterable[str]) -> str:
    """``written`` (a department cell as read) with the person after each of ``names``, and
    the one in charge in brackets (（担当 日向）), replaced by ``[氏名]``, for a notice that
    quotes the cell."""
    for name in names:
        bare = without_trailing_person(name)
        if bare != name:
            person = name[len(bare) :].strip()
            written = re.sub(
                f"(?<=[\\s\u3000]){re.escape(person)}(?![\u4e00-\u9fff々])", "[氏名]", written
            )
    return _IN_CHARGE_RE.sub(r"\g<head>[氏名]\g<tail>", written)


_IN_CHARGE_RE = re.compile(
    "(?P<head>[\uff08(][\\s\u3000]*担当者?[\\s\u3000:\uff1a]*)[^\uff08\uff09()]+(?P<tail>[\uff09)])"
)
"""Who is in charge, in brackets after a department (（担当 日向）)."""


def parse_id(value: str) -> str:
    """Parse a record id: NFKC-normalised (a full-width ``F0001`` is ``F0001``).

    Raises:
        ValueError: Empty, or containing whitespace or ``#`` (which separates chunk ordinals).
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise ValueError(msg("value.required"))
    if "#" in text or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError(msg("value.id", value=value))
    return text


def check_length(value: str, limits: InputLimits, *, body: bool) -> None:
    """Refuse a value longer than its field's limit.

    Args:
        value: The value as read (stripped).
        limits: The field length limits.
        body: The field is long free text (:attr:`FieldSpec.body`), held to
            ``max_record_body_chars``; every other field to ``max_record_title_chars``.

    Raises:
        ValueError: ``value`` is longer; the message gives its length, the limit and the
            setting that raises it.
    """
    if body:
        limit, setting = limits.max_record_body_chars, "max_record_body_chars"
    else:
        limit, setting = limits.max_record_title_chars, "max_record_title_chars"
    if len(value) > limit:
        raise ValueError(
            f"値が {len(value):,} 文字あり、上限 {limit:,} 文字 ({setting}) を超えています。"
            "行をスキップしました"
        )


def parse_url(value: str) -> str:
    """Check that a link is an ``http(s)`` URL; empty stays empty.

    The staff console and public pages render it as a link, so other schemes
    (``javascript:``, ``file:``) are refused.

    Raises:
        ValueError: Not an http or https URL.
    """
    text = value.strip()
    if text and not re.match(r"https?://[^\s]+$", text, re.IGNORECASE):
        raise ValueError(msg("value.url", value=value))
    return text
