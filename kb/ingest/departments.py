"""The departments that FAQ entries, cases and manuals name, matched to the directory (部署一覧).

A city's export writes a department the way its staff say it, not always the way the directory
lists it. It may add a place in brackets (健康づくり課（保健センター）), use another name that
the directory gives as an alias (お客さまセンター for 水道課), or differ in width or spacing
(市民課 / 市民課 with a full-width space). Routing and the contact shown to a citizen (phone,
counter, hours) need the directory's own name. So, once every file of a run is read, each name
missing from the directory is matched by these steps, the first that finds a name wins:

1. the name or an alias of a directory entry, compared after NFKC and without spaces (a
   town's directory of sections: 住民福祉課 保険年金係);
2. the same without a trailing bracket, then the bracket's text alone;
3. exactly one of its space-separated words that is a name or an alias; or, glued after the
   city's division (福祉部障害福祉課; not 消防本部総務課, 県福祉部…, 東部…), the name that
   follows; or the committee's secretariat (選挙管理委員会 → 選挙管理委員会事務局) and the
   other way;
4. its department without the section or the division
   (:func:`kb.ingest.schema.main_department`: 市民課 住民記録係 → 市民課);
5. where the directory lists a department section by section, its one section (環境課 →
   環境課 ごみ対策係). With several sections the warning names them: which one's contact to
   show cannot be told.

A name matched this way is stored as the directory's name, with a warning per file that says
so. A name that matches nothing is stored as its department (step 4), and a warning says that
the directory lacks it, so no contact can be shown. Without a directory stored yet, a name is
stored as its department.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter
from collections.abc import Container, Iterable
from pathlib import Path

from kb.ingest.schema import main_department, masked_trailing_person, without_trailing_person
from kb.messages import msg
from kb.store.records import CASE_PREFIX
from kb.types import Department, DocId, Document, RowError

_BRACKET_RE = re.compile(
    "^(?P<outer>.+?)[\\s\u3000]*[\uff08(](?P<inner>[^\uff08\uff09()]+)[\uff09)]$"
)


def _key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def directory_names(departments: Iterable[Department]) -> dict[str, str]:
    """Each name and alias of the directory (:func:`_key` form) → the directory's name.

    A directory name wins over another entry's alias of the same spelling, and an alias two
    entries share matches neither.
    """
    names: dict[str, str] = {}
    aliases: dict[str, set[str]] = {}
    for dept in departments:
        names[_key(dept.name)] = dept.name
        for alias in dept.aliases:
            aliases.setdefault(_key(alias), set()).add(dept.name)
    out = {key: next(iter(owners)) for key, owners in aliases.items() if len(owners) == 1}
    out.update(names)
    return out


def directory_sections(departments: Iterable[Department]) -> dict[str, list[str]]:
    """Each department (:func:`_key` form) whose sections the directory lists one by one →
    those sections' names (住民福祉課 → 住民福祉課 住民係, 住民福祉課 保険年金係)."""
    sections: dict[str, list[str]] = {}
    for dept in departments:
        main = main_department(dept.name)
        words = dept.name.split()
        if main == dept.name and len(words) > 1 and words[-1] in dept.aliases:
            # Read from a 係名 column (the section is its alias too), whatever the section is
            # called: 産業振興課 | 消費生活相談窓口, 福祉課 | 地域包括支援センター.
            main = " ".join(words[:-1])
        if main != dept.name:
            sections.setdefault(_key(main), []).append(dept.name)
    return sections


def match_department(
    name: str, directory: dict[str, str], sections: dict[str, list[str]] | None = None
) -> str | None:
    """The directory's name for ``name`` (module docstring), or ``None``. With the directory's
    ``sections``, a department it lists only section by section is its one section (環境課 →
    環境課 ごみ対策係)."""
    found = directory.get(_key(name))
    if found is not None:
        return found
    bracket = _BRACKET_RE.match(name.strip())
    if bracket is not None:
        for part in ("outer", "inner"):
            found = directory.get(_key(bracket.group(part)))
            if found is not None:
                return found
    words = {directory[_key(w)] for w in name.split() if _key(w) in directory}
    if len(words) == 1:
        return words.pop()
    found = _after_division(_key(name), directory)
    if found is not None:
        return found
    main = main_department(name)
    found = directory.get(_key(main)) if main != name else None
    if found is None and sections:
        only = sections.get(_key(main), [])
        found = only[0] if len(only) == 1 else None
    return found


_SPELLINGS_SHOWN = 3
_DIVISION_ENDS = frozenset("部")
"""A 局 runs its own sections (上下水道局総務課, 病院局総務課 are not the city hall's 総務課), and
郵便局 or 国税局 are other bodies: only a 部 is cut."""
_SECRETARIAT = "事務局"


_OTHER_BODY_RE = re.compile("県|府|東京都|北海道|本部|支部|事務局|協議会|赤十字|警察|消防|税務")
_DISTRICT_RE = re.compile("[東西南北中央市区]+部")
_EVERY_DIVISIONS = frozenset({"総務課", "庶務課", "管理課", "企画課", "経理課", "業務課", "施設課"})
"""Sections every division may have (上下水道部総務課 is not the city hall's 総務課)."""


def _own_division(division: str) -> bool:
    """Whether ``division`` (福祉部) may be the city's own: not another body's (消防本部,
    千葉県健康福祉部, 社会福祉協議会地域福祉部, 日本赤十字社千葉県支部) and not a district (東部,
    北東部, 市南部, 中央部)."""
    return not (
        _OTHER_BODY_RE.search(division) or _DISTRICT_RE.fullmatch(division) or division[0] in "県国"
    )


def _after_division(key: str, directory: dict[str, str]) -> str | None:
    """The directory's name for a department written after its division without a space
    (福祉部障害福祉課, 都市整備部道路課), or for a committee written without its
    secretariat (選挙管理委員会 → 選挙管理委員会事務局) or with it; ``None`` unless exactly
    one name fits."""
    found = {
        directory[key[i + 1 :]]
        for i in range(2, len(key) - 2)
        if key[i] in _DIVISION_ENDS
        and key[i + 1 :] in directory
        and key[i + 1 :] not in _EVERY_DIVISIONS
        and _own_division(key[: i + 1])
    }
    for other in (key + _SECRETARIAT, key.removesuffix(_SECRETARIAT)):
        if other != key and other in directory:
            found.add(directory[other])
    return found.pop() if len(found) == 1 else None


def match_documents(
    documents: dict[str, Document], files: dict[str, str], departments: Iterable[Department]
) -> list[tuple[str, RowError]]:
    """Replace, in place, the department names of ``documents`` with the directory's.

    Args:
        documents: The run's documents by id.
        files: The file each document was read from (its path as read), by document id.
        departments: The directory: the stored entries and this run's.

    Returns:
        The warnings, as ``(file, warning)``: one per file and name, on its first line.
    """
    departments = list(departments)
    directory = directory_names(departments)
    sections = directory_sections(departments)
    known = set(directory.values())
    seen: dict[tuple[str, str], tuple[int, str]] = {}  # (file, name) → (first line, match)
    rows: Counter[tuple[str, str]] = Counter()
    people: Counter[str] = Counter()  # rows of each file with a person after the department
    for doc_id, doc in documents.items():
        if doc.kind == "department" or not doc.departments:
            continue
        matched: list[str] = []
        for written in doc.departments:
            if written in known:
                matched.append(written)
                continue
            found = match_department(written, directory, sections)
            name = written
            if (bare := without_trailing_person(written)) != written:
                # 健康推進課 栗原: the person in charge is neither stored nor repeated in a
                # warning, which would print the name where masking may not see it.
                if found is not None:  # 市民課 田中: the directory's name, the cell quoted
                    name = masked_trailing_person(written, [written])
                else:
                    name = bare
                    people[files[doc_id]] += 1
                    if bare in known:
                        matched.append(bare)
                        continue
                    found = match_department(bare, directory, sections)
            main = main_department(name)
            if not directory and main == name:
                matched.append(name)  # nothing to match, nothing to cut
                continue
            matched.append(found or main)
            # Without a directory, the cut section is noted (read as its department), not
            # reported as missing from a directory.
            noted = found or (main if not directory else "")
            seen.setdefault((files[doc_id], name), (_line(doc.source), noted))
            rows[files[doc_id], name] += 1
        if tuple(matched) != doc.departments:
            unique = tuple(dict.fromkeys(matched))
            documents[doc_id] = dataclasses.replace(doc, departments=unique)
    warnings: list[tuple[str, RowError]] = [
        (raw, RowError(raw, 0, "department", msg("warn.department_person", rows=count)))
        for raw, count in people.items()
    ]
    by_file: dict[str, list[tuple[str, str, int, int]]] = {}
    for (raw, name), (line, found) in seen.items():
        if found:
            by_file.setdefault(raw, []).append((name, found, line, rows[raw, name]))
    for raw, spellings in by_file.items():
        for line, text in read_as(spellings):
            warnings.append((raw, RowError(raw, line, "department", text)))
    for (raw, name), (line, found) in seen.items():
        count = rows[raw, name]
        listed = sections.get(_key(main_department(name)), [])
        if found:
            continue
        if listed:
            # 市民課 when the directory lists 市民課 住民記録係 and 市民課 戸籍係: not unknown, but
            # which section's contact to show cannot be told.
            shown = "、".join(listed[:5])
            text = msg("warn.department_sections", value=name, sections=shown, rows=count)
        else:
            text = msg("warn.department_unknown", value=name, rows=count)
        warnings.append((raw, RowError(raw, line, "department", text)))
    return warnings


def unmatched_stored(
    stored: Iterable[tuple[str, tuple[str, ...]]],
    directory: Iterable[Department],
    skip: Container[str],
) -> tuple[Counter[str], int]:
    """Department names of stored documents (not in ``skip``: this run's) that no directory
    entry is named, with how many documents name each, and how many documents name one.

    A FAQ stored before its directory keeps the name it was read as (町民課, its section cut)
    until it is ingested again, and shows no contact meanwhile."""
    listed = list(directory)
    names = {d.name for d in listed}
    # A 課 the directory lists section by section was said at its FAQ's ingest (which section
    # cannot be told): ingesting it again would not help. A desk case has no file.
    sectioned = directory_sections(listed)
    found: Counter[str] = Counter()
    docs = 0
    for doc_id, departments in stored:
        missing = [
            n
            for n in dict.fromkeys(departments)
            if n not in names and _key(main_department(n)) not in sectioned
        ]
        if missing and doc_id not in skip and not DocId.local_of(doc_id).startswith(CASE_PREFIX):
            found.update(missing)
            docs += 1
    return found, docs


def read_as(spellings: Iterable[tuple[str, str, int, int]]) -> list[tuple[int, str]]:
    """One notice per directory name, however many spellings were read as it: ``(written,
    stored, first line, rows)`` in → ``(first line, text)`` out. An export may write the
    extension of whoever entered the row (学校教育課（内線390）, 学校教育課（内線391）…): an
    outside tester got 87 notices, one per spelling, burying the ones that mattered."""
    grouped: dict[str, list[tuple[str, int, int]]] = {}
    for written, stored, line, rows in spellings:
        grouped.setdefault(stored, []).append((written, line, rows))
    out: list[tuple[int, str]] = []
    for stored, found in grouped.items():
        rows = sum(n for _, _, n in found)
        line = min(first for _, first, _ in found)
        if len(found) == 1:
            text = msg("warn.department_read", value=found[0][0], names=stored, rows=rows)
        else:
            shown = [msg("warn.department_spelling", value=w) for w, _, _ in found]
            values = msg("warn.department_spellings_separator").join(shown[:_SPELLINGS_SHOWN])
            values += "…" if len(found) > _SPELLINGS_SHOWN else ""
            text = msg(
                "warn.department_read_many",
                count=len(found),
                values=values,
                names=stored,
                rows=rows,
            )
        out.append((line, text))
    return out


def _line(source: str) -> int:
    """The line of a document's ``file:line`` source (0 when it has none)."""
    tail = Path(source).name.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0
