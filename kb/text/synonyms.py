"""The staff-editable 表記ゆれ / synonym dictionary, applied to queries only.

A plain text file (``DATA_DIR/synonyms.tsv``), one group of interchangeable expressions per
line, separated by tabs or commas; ``#`` starts a comment. When a normalized query contains one
expression of a group, the other expressions' lemmas are added to the lexical query at a lower
weight. Documents are never rewritten, so editing the file needs no rebuild.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kb.errors import InputError
from kb.text.normalize import normalize

_SPLIT_RE = re.compile(r"[\t,、]+")


@dataclass(frozen=True)
class SynonymTable:
    """Groups of normalized expressions that mean the same thing in a query."""

    groups: tuple[tuple[str, ...], ...] = ()

    def expansions(self, query: str) -> list[str]:
        """Expressions to add for a normalized ``query``: the other members of every group
        with a member found in it (longest member matched first, no duplicates)."""
        out: list[str] = []
        for group in self.groups:
            if any(member in query for member in group):
                out.extend(m for m in group if m not in query and m not in out)
        return out


def parse_synonyms(text: str, source: str) -> SynonymTable:
    """Parse the dictionary format; a line with a single expression is an error."""
    groups = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        members = tuple(dict.fromkeys(normalize(m) for m in _SPLIT_RE.split(line) if m.strip()))
        if len(members) < 2:
            raise InputError(source, "a synonym group needs at least two expressions", line=n)
        groups.append(tuple(sorted(members, key=len, reverse=True)))
    return SynonymTable(tuple(groups))


def seed_path() -> Path:
    """The dictionary shipped with kb, seeded with common municipal variants."""
    return Path(str(resources.files("kb") / "data" / "synonyms.tsv"))


def load_synonyms(path: Path | None) -> SynonymTable:
    """Load ``path``; ``None`` loads the shipped seed dictionary."""
    target = path or seed_path()
    try:
        text = target.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(str(target), f"cannot read the synonym dictionary: {exc}") from exc
    return parse_synonyms(text, str(target))


def ensure_synonyms_file(path: Path) -> Path:
    """Create ``path`` from the seed dictionary if it does not exist yet (staff then edit it)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seed_path(), path)
    return path
