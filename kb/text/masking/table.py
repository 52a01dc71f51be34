"""Columns of a pasted table: the cells under a personal-data header.

A record may hold a list pasted from a spreadsheet, a header line and one line per person::

    氏名,フリガナ,生年月日,住所
    佐々木 美穂,ササキ ミホ,1988/07/14,茨城県桜川市富谷1234-5

The other rules read each cell on its own: a date without 生年月日 before it is not a birth
date, and a name MeCab does not know is not a name. Here the header says what each column
holds. A line is a header when it splits into two cells or more (at tabs, else at commas), one
of its cells at least is a personal-data label (:data:`COLUMN_LABELS`), and another is a label
too or a roster's header word (:data:`HEADER_WORDS`: No., 年齢, 備考...), and two thirds of its
cells at least are such words: one label before a value (``氏名,山田太郎``, or
``氏名,山田太郎,年齢,45``) is a field, not a header. Each following line with the same number of
cells is a row, until a line that has another number of cells; a cell under a labelled column
becomes that column's placeholder, whatever it holds. An empty cell stays empty, and a cell the
rules before already masked completely stays as it is.

Cells may be quoted (``"佐々木 美穂","1988/07/14"``): the quotes stay, the content is masked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from kb.text.masking.placeholders import (
    ADDRESS,
    BIRTH_DATE,
    ID_NUMBER,
    MY_NUMBER,
    NAME,
    PLACEHOLDERS,
)

COLUMN_LABELS: dict[str, str] = {
    **dict.fromkeys(
        (
            *("生年月日", "誕生日", "出生日", "生年月日(西暦)", "生年月日(和暦)"),
            *("dob", "dateofbirth", "birthdate", "birthday", "生年", "セイネンガッピ"),
        ),
        BIRTH_DATE,
    ),
    **dict.fromkeys(
        (
            "氏名",
            "名前",
            "お名前",
            "フリガナ",
            "ふりがな",
            "カナ",
            "氏名カナ",
            "カナ氏名",
            "氏名(カナ)",
            "ローマ字氏名",
            "相談者氏名",
            "本人氏名",
            "世帯主",
            "世帯主氏名",
            "保護者氏名",
            "緊急連絡先氏名",
            # A column of people: its cells are names (受付日,相談者,生年月日).
            *("相談者", "申請者", "申請者名", "世帯員", "対象者", "本人", "利用者", "利用者名"),
            *("来所者", "保護者", "届出人", "受給者", "被保険者", "同居者", "児童氏名", "児童名"),
            *("クライアント", "対象児", "本児", "相談者名", "契約者", "名義人"),
            *("name", "fullname", "名前(ローマ字)", "シメイ", "オナマエ"),
        ),
        NAME,
    ),
    **dict.fromkeys(("住所", "現住所", "居所", "住所地", "郵便番号", "address"), ADDRESS),
    **dict.fromkeys(("マイナンバー", "個人番号"), MY_NUMBER),
    **dict.fromkeys(
        (
            "被保険者番号",
            "保険証番号",
            "基礎年金番号",
            "宛名番号",
            "世帯番号",
            "住民番号",
            "受給者番号",
            "在留カード番号",
            "旅券番号",
            "パスポート番号",
            "運転免許証番号",
            "口座番号",
        ),
        ID_NUMBER,
    ),
}
"""Header labels (compared in NFKC without spaces) and the placeholder of their column."""

HEADER_WORDS = frozenset(
    {
        "no",
        "no.",
        "番号",
        "連番",
        "年齢",
        "性別",
        "続柄",
        "備考",
        "電話",
        "電話番号",
        "携帯",
        "携帯電話",
        "連絡先",
        "メール",
        "メールアドレス",
        "職業",
        "勤務先",
        "学校",
        "学年",
        "世帯",
        "要介護度",
        "障害",
        "国籍",
        "在留資格",
        *("受付日", "相談日", "来所日", "日付", "相談内容", "内容", "担当", "担当者", "担当課"),
        *("区分", "種別", "状況", "対応", "age", "sex", "gender", "phone", "tel", "email"),
        *("e-mail", "nationality", "remarks", "note", "notes"),
    }
)
"""Other words a roster's header holds beside the personal-data labels (casefolded NFKC):
with one label, one of these makes the line a header too (``No.,氏名,年齢``)."""

_SPACES_RE = re.compile(r"[ \u3000]+")
PLACEHOLDER_ONLY_RE = re.compile(
    "(?:" + "|".join(re.escape(p) for p in PLACEHOLDERS) + r"|[ \u3000、,・/])+"
)


_DELIMITERS = ("\t", ",", "\uff0c", ";", "|", "\u3000")
"""Cell separators, tried in this order: tabs, commas, semicolons, a Markdown table's pipes,
full-width spaces (a table copied out of a word processor)."""
_RULE_RE = re.compile(r"[ :\-]+")
"""A Markdown table's alignment row (|---|:---:|): no cell content."""


def _inner(text: str, cells: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A Markdown row's cells without the empty ones outside its first and last pipe."""
    if len(cells) >= 2 and cells[0][0] == cells[0][1]:
        cells = cells[1:]
    if len(cells) >= 2 and cells[-1][0] == cells[-1][1]:
        cells = cells[:-1]
    return cells


def cell_key(cell: str) -> str:
    """A header cell as labels are compared: NFKC, without spaces or quotes, casefolded."""
    return _SPACES_RE.sub("", unicodedata.normalize("NFKC", cell)).strip('"').casefold()


def _label(cell: str) -> str | None:
    return COLUMN_LABELS.get(cell_key(cell))


def _cells(line: str, start: int, delimiter: str) -> list[tuple[int, int]] | None:
    """Where each cell's content is (quotes excluded); ``None`` for an unbalanced quote."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in " \u3000":
            i += 1
        if i < n and line[i] == '"':
            j = i + 1
            while True:
                j = line.find('"', j)
                if j < 0:
                    return None
                if line[j + 1 : j + 2] == '"':
                    j += 2  # "" inside a quoted cell
                    continue
                break
            out.append((start + i + 1, start + j))
            k = line.find(delimiter, j + 1)
            if k < 0:
                return out
            i = k + 1
            continue
        k = line.find(delimiter, i)
        end = n if k < 0 else k
        content = line[i:end].rstrip(" \u3000")
        out.append((start + i, start + i + len(content)))
        if k < 0:
            return out
        i = k + 1


def _lines(text: str) -> Iterator[tuple[int, str]]:
    pos = 0
    for line in text.splitlines(keepends=True):
        yield pos, line.rstrip("\r\n")
        pos += len(line)


def column_edits(text: str, placeholders: frozenset[str]) -> list[tuple[int, int, str]]:
    """Edits that mask the cells under a personal-data header.

    Args:
        text: Any text.
        placeholders: The placeholders the profile may write (a column whose placeholder is
            not among them is left to the other rules).

    Returns:
        ``(start, end, placeholder)`` per cell to mask, in text order.
    """
    if not any(d in text for d in _DELIMITERS):
        return []
    edits: list[tuple[int, int, str]] = []
    columns: dict[int, str] = {}
    width = 0
    delimiter = ""
    for start, line in _lines(text):
        cells = _cells(line, start, delimiter) if columns else None
        if cells is not None and delimiter == "|":
            cells = _inner(text, cells)
        if columns and cells is not None and len(cells) == width:
            for index, placeholder in columns.items():
                c_start, c_end = cells[index]
                value = text[c_start:c_end]
                if (
                    value.strip(" \u3000")
                    and not PLACEHOLDER_ONLY_RE.fullmatch(value)
                    and not _RULE_RE.fullmatch(value)
                ):
                    edits.append((c_start, c_end, placeholder))
            continue
        columns = {}
        for candidate in _DELIMITERS:
            if candidate not in line:
                continue
            header = _cells(line, start, candidate)
            if header is not None and candidate == "|":
                header = _inner(text, header)
            if header is None or len(header) < 2:
                continue
            labels = {i: _label(text[s:e]) for i, (s, e) in enumerate(header)}
            found = {i: p for i, p in labels.items() if p is not None}
            words = sum(cell_key(text[s:e]) in HEADER_WORDS for s, e in header)
            known = len(found) + words
            # Mostly known words: 氏名,山田太郎,年齢,45 is a record on one line, not a header.
            if found and known >= 2 and 3 * known >= 2 * len(header):
                columns = {i: p for i, p in found.items() if p in placeholders}
                width, delimiter = len(header), candidate
                break
    return edits
