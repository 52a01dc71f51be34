"""Masking against a table of realistic consultation-record lines (tests/text/masking_cases.tsv).

Each row is written out in full: the expected text, or ``=`` where the line must stay exactly
as written (department names, the city's places, dates of events, amounts, article and form
numbers, times, the directory's phone numbers). A rule that masks too much fails as surely as
one that masks too little.

Run as a script to print how many rows are caught, partly caught or missed, and how many
must-stay rows are changed (false positives)::

    .venv/bin/python tests/text/test_masking_table.py [-v] [TABLE.tsv]

``-v`` prints each row that is not as expected; another table in the same format can be
scored instead of this one. With ``PYTHONPATH`` pointing at another checkout's ``kb`` the
table scores that version.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from kb.text.masking import PLACEHOLDERS, Masker
from kb.text.mecab import MeCabTokenizer

CASES = Path(__file__).with_name("masking_cases.tsv")
DIRECTORY_PHONES = ("099-555-1101", "099-555-1108", "0120-123-456")
"""The department directory's numbers: public, kept in any width."""
KEEP_WORDS = ("市民課", "高齢者支援課", "福祉課", "桜川市", "桜川駅", "中央公民館")
"""Department names and the city's places, as ingest passes them to the masker."""


@dataclass(frozen=True)
class Case:
    """One row of the table."""

    line: int
    kind: str
    text: str
    expected: str

    @property
    def must_stay(self) -> bool:
        return self.expected == self.text


def load_cases(path: Path = CASES) -> list[Case]:
    """The rows of ``path``; a malformed row is an error naming its line."""
    cases: list[Case] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = raw.split("\t")
        if len(fields) != 3 or not all(fields):
            raise ValueError(f"{path.name}:{number}: expected 3 tab-separated fields: {raw!r}")
        kind, text, expected = fields
        cases.append(Case(number, kind, text, text if expected == "=" else expected))
    return cases


ALL = load_cases()
MASKED = [c for c in ALL if not c.must_stay]
STAYING = [c for c in ALL if c.must_stay]


def make_masker(tokenizer: MeCabTokenizer | None = None) -> Masker:
    return Masker(tokenizer, keep_phones=DIRECTORY_PHONES, keep_words=KEEP_WORDS)


def grade(case: Case, output: str) -> str:
    """``caught``, ``partly`` or ``missed`` for a row to mask; ``kept`` or ``false positive``."""
    if case.must_stay:
        return "kept" if output == case.text else "false positive"
    if output == case.expected:
        return "caught"
    return "partly" if any(p in output for p in PLACEHOLDERS) else "missed"


def _id(case: Case) -> str:
    return f"{case.line}-{case.kind}"


@pytest.fixture(scope="module")
def masker(tokenizer: MeCabTokenizer) -> Masker:
    return make_masker(tokenizer)


@pytest.mark.parametrize("case", MASKED, ids=_id)
def test_personal_data_is_masked(masker: Masker, case: Case) -> None:
    assert masker.mask(case.text) == case.expected


@pytest.mark.parametrize("case", STAYING, ids=_id)
def test_ordinary_text_stays(masker: Masker, case: Case) -> None:
    assert masker.mask(case.text) == case.text


@pytest.mark.parametrize("case", MASKED, ids=_id)
def test_masking_the_output_again_changes_nothing(masker: Masker, case: Case) -> None:
    assert masker.mask(case.expected) == case.expected


def test_table_is_large_and_varied() -> None:
    assert len(ALL) >= 300
    assert len(STAYING) >= 60
    kinds = Counter(c.kind for c in MASKED)
    for kind in ("name", "phone", "email", "sns", "id", "mynumber", "bank", "address", "birth"):
        assert kinds[kind] >= 4, kind
    assert len({c.text for c in ALL}) == len(ALL), "duplicate rows"


def test_every_expected_row_masks_something() -> None:
    for case in MASKED:
        assert any(p in case.expected for p in PLACEHOLDERS), case.line


def test_a_malformed_row_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "cases.tsv"
    bad.write_text("# comment\nname\t山田さん\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cases\.tsv:2"):
        load_cases(bad)


def main(argv: list[str]) -> int:
    """Print the table's score (see the module docstring)."""
    masker = make_masker()
    paths = [Path(a) for a in argv if not a.startswith("-")]
    cases = load_cases(paths[0]) if paths else ALL
    grades: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {}
    for case in cases:
        output = masker.mask(case.text)
        result = grade(case, output)
        grades[result] += 1
        by_kind.setdefault(case.kind, Counter())[result] += 1
        if "-v" in argv and result not in ("caught", "kept"):
            print(
                f"{case.line}\t{result}\t{case.text}\n\t\tgot\t{output}\n\t\twant\t{case.expected}"
            )
    staying = sum(c.must_stay for c in cases)
    print(
        f"{len(cases) - staying} rows to mask: {grades['caught']} caught, "
        f"{grades['partly']} partly, {grades['missed']} missed; {staying} rows to keep: "
        f"{grades['false positive']} false positives"
    )
    for kind, counts in sorted(by_kind.items()):
        print(f"  {kind:9} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
