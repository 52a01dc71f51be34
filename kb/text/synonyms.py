"""Query expansion with synonyms: SudachiDict's dictionary, with the city's own file on top.

The base is SudachiDict's synonym dictionary (:mod:`kb.text.synonym_dictionary`). The city's
staff-editable ``DATA_DIR/synonyms.tsv`` is layered on top: a line of expressions (tabs,
commas or 、 between them) adds a group; a line starting with ``-`` removes every dictionary
group holding all the expressions it names (``-移住`` or ``-転居	移住``); ``#`` starts a
comment. Both sides are compared as lexical index terms, so 引越し and 引っ越し are one
expression, and a query matches an expression only as whole words: 国保 is not found in
全国保育, nor グレー in グレーチング, a katakana word MeCab cuts into グレー + チング
(:func:`katakana_joins`).

When a query's terms contain an expression, the other expressions of its groups are added to
the lexical query at a lower weight (see :func:`kb.search.query.analyze_query`). Documents
are never rewritten, so editing the file or the dictionary needs no rebuild.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from kb.errors import InputError
from kb.text.kana import is_katakana_word
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize
from kb.text.synonym_dictionary import (
    Scope,
    SynonymDictionary,
    SynonymGroup,
    Terms,
    load_dictionary,
)

log = logging.getLogger(__name__)

_SPLIT_RE = re.compile(r"[\t,、\uff0c]+")

HEADER = """\
# 同義語・表記ゆれ辞書（市の追加分） — kb
#
# 検索語に含まれる語の同義語・表記ゆれ・略語も、低い重みで一緒に検索されます。
# 基本の辞書は SudachiDict の同義語辞書（約2万6千グループ。例: 国民健康保険↔国保、
# マイナンバー↔個人番号）です。このファイルはその上に重ねる、市独自の設定です。
# 保存すると次の検索から反映されます（文書の再構築は不要です）。
#
# 書き方（1行に1つ。# から行末まではコメント）:
#   グループを足す: 同じ意味の語を、タブ・カンマ・読点（、）で区切って並べます。
#     住居確保給付金	家賃補助
#   辞書のグループを外す（関係のない語まで検索してしまうとき）: 行頭に - を付け、
#   そのグループの語を1つ以上書きます。書いた語をすべて含む辞書のグループが使われなくなります。
#     -移住           「移住」を含む辞書のグループをすべて外す
#     -転居	移住      「転居」と「移住」を両方含むグループだけ外す
#   外したグループのうち必要な語は、グループを足す行で書き直してください。
#
# The city's synonyms, on top of SudachiDict's synonym dictionary. One group per line
# (expressions separated by tabs, commas or 、); a line starting with - removes the
# dictionary groups that contain all the expressions it names.
"""
"""What :func:`ensure_synonyms_file` writes into a new city file."""


@dataclass(frozen=True)
class SynonymTable:
    """Synonym groups indexed by the expressions that trigger them."""

    groups: tuple[SynonymGroup, ...] = ()
    _index: dict[Terms, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[Terms, list[int]] = {}
        for n, group in enumerate(self.groups):
            for terms, trigger in zip(group.members, group.triggers, strict=True):
                if trigger:
                    index.setdefault(terms, []).append(n)
        object.__setattr__(self, "_index", {k: tuple(v) for k, v in index.items()})
        # The lengths (in terms) that triggers have, longest first: a query looks up only those.
        object.__setattr__(self, "_lengths", tuple(sorted(set(map(len, index)), reverse=True)))

    def __len__(self) -> int:
        return len(self.groups)

    def matches(
        self, terms: Sequence[str], joined: Sequence[bool] = ()
    ) -> list[tuple[Terms, SynonymGroup]]:
        """The expressions found in a query's ``terms`` and their groups.

        Longest match first, left to right: in 国民健康保険料 the expression 国民健康保険 is
        found, and 国民 and 保険 inside it are not looked up on their own. ``joined[i]``:
        terms ``i`` and ``i + 1`` are pieces of one katakana word (:func:`katakana_joins`);
        a match may not begin or end between them.
        """
        out: list[tuple[Terms, SynonymGroup]] = []
        index, i = self._index, 0
        cut = [False, *(bool(j) for j in joined[: len(terms) - 1])]
        cut += [False] * (len(terms) + 1 - len(cut))
        while i < len(terms):
            for n in self._lengths:
                if i + n > len(terms) or cut[i] or cut[i + n]:
                    continue
                key = tuple(terms[i : i + n])
                found = index.get(key)
                if found is not None:
                    out.extend((key, self.groups[g]) for g in found)
                    i += n
                    break
            else:
                i += 1
        return out

    def expand(self, terms: Sequence[str], joined: Sequence[bool] = ()) -> tuple[str, ...]:
        """Terms to add to a query whose lexical terms are ``terms``: those of the other
        expressions of every group found in it (:meth:`matches`) that may be added
        (:meth:`SynonymGroup.target`), each once, none the query already has."""
        have = set(terms)
        out: list[str] = []
        for key, group in self.matches(terms, joined):
            for n, member in enumerate(group.members):
                if member == key or not group.target(n):
                    continue
                for term in member:
                    if term not in have:
                        have.add(term)
                        out.append(term)
        return tuple(out)


def katakana_joins(text: str, terms: Sequence[str], tokenizer: MeCabTokenizer) -> tuple[bool, ...]:
    """Per pair of neighbouring ``terms`` (the lemmas of ``text``): whether both are pieces of
    one katakana word MeCab cut up (グレーチング → グレー + チング, インスタ → イン + スタ).

    Empty when the analysis does not give ``terms`` (nothing is then taken to be joined).
    """
    pieces: list[tuple[str, int, int, bool]] = []  # each term's morpheme: where, katakana
    pos = 0
    for r in tokenizer.readings(text):
        start = text.find(r.surface, pos)
        if start < 0:
            start = pos
        pos = start + len(r.surface)
        if r.term:
            pieces.append((r.term, start, pos, is_katakana_word(r.surface)))
    if tuple(p[0] for p in pieces) != tuple(terms):
        return ()
    return tuple(a[3] and b[3] and a[2] == b[1] for a, b in pairwise(pieces))


@dataclass(frozen=True)
class CitySynonyms:
    """The city's file: groups it adds and dictionary groups it removes."""

    groups: tuple[SynonymGroup, ...] = ()
    removals: tuple[tuple[tuple[Terms, ...], str], ...] = ()
    """Per ``-`` line: the expressions a dictionary group must all hold to be removed, and
    where the line is (for the warning when it removes nothing)."""


def parse_synonyms(text: str, source: str, tokenizer: MeCabTokenizer) -> CitySynonyms:
    """Parse the city's file.

    Raises:
        InputError: A group with a single expression, a ``-`` line naming nothing, or an
            expression with no searchable word in it (names the file and line).
    """
    groups: list[SynonymGroup] = []
    removals: list[tuple[tuple[Terms, ...], str]] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        remove = normalize(line[0]) == "-"  # - or a full-width －
        body = line[1:] if remove else line
        expressions = [e for e in dict.fromkeys(map(normalize, _SPLIT_RE.split(body))) if e]
        if remove and not expressions:
            raise InputError(
                source, "a '-' line needs the expressions of the group to remove", line=n
            )
        if not remove and len(expressions) < 2:
            raise InputError(source, "a synonym group needs at least two expressions", line=n)
        members: list[Terms] = []
        for expression in expressions:
            terms = tokenizer.terms(expression)
            if not terms:
                raise InputError(
                    source, f"「{expression}」 has no searchable word (only particles)", line=n
                )
            if terms not in members:
                members.append(terms)
        if remove:
            removals.append((tuple(members), f"{source}:{n}"))
        elif len(members) > 1:
            # ごみ・ゴミ・塵 are one lemma already: such a line changes nothing, and is no error.
            groups.append(SynonymGroup(tuple(members), (True,) * len(members), f"{source}:{n}"))
    return CitySynonyms(tuple(groups), tuple(removals))


def read_synonyms(path: Path, tokenizer: MeCabTokenizer) -> CitySynonyms:
    """Read and parse the city's file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read the synonym dictionary: {exc}") from exc
    return parse_synonyms(text, str(path), tokenizer)


def layer(
    dictionary: SynonymDictionary | None, city: CitySynonyms, scope: Scope = "group"
) -> SynonymTable:
    """The dictionary's groups under ``scope``, less the city's removals, plus its groups."""
    groups: list[SynonymGroup] = []
    used = [False] * len(city.removals)
    for group in dictionary.groups if dictionary else ():
        removed = False
        for r, (names, _) in enumerate(city.removals):
            if all(group.contains(terms) for terms in names):
                used[r] = removed = True
        if removed:
            continue
        groups.extend(group.sets(scope))
    for (names, where), hit in zip(city.removals, used, strict=True):
        if not hit and dictionary is not None:
            log.warning(
                "%s: no synonym group of the dictionary holds %s; the line removes nothing",
                where,
                " and ".join("".join(t) for t in names),
            )
    groups.extend(city.groups)
    return SynonymTable(tuple(groups))


def load_synonyms(
    path: Path | None,
    tokenizer: MeCabTokenizer,
    dictionary: SynonymDictionary | None = None,
    scope: Scope = "group",
) -> SynonymTable:
    """``dictionary`` with the city's file at ``path`` on top (``None``: no city file).

    Raises:
        InputError: The city's file cannot be read or has a mistake (file and line).
    """
    city = read_synonyms(path, tokenizer) if path is not None else CitySynonyms()
    return layer(dictionary, city, scope)


def base_dictionary(path: Path | None, tokenizer: MeCabTokenizer) -> SynonymDictionary | None:
    """The dictionary at ``path`` (``None``: none is wanted).

    Missing or unusable, it is ``None`` and a warning says why and names the set-up command:
    search goes on with the city's file alone rather than not at all.
    """
    if path is None:
        return None
    try:
        return load_dictionary(path, tokenizer)
    except InputError as exc:
        log.warning("%s", exc)
        return None


def ensure_synonyms_file(path: Path) -> Path:
    """Create the city's file at ``path``, holding only its explanatory header, if it does not
    exist yet (staff then edit it)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER, encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m kb.text.synonyms [QUERY...]``: load the synonyms and show what queries expand to.

    Prints the dictionary's size, its load time and memory, and for each query the groups it
    matches (with their origin: a SudachiDict group id for a ``-`` line, or the city's line).
    ``scripts/setup.sh`` runs it once after installing the dictionary, which compiles it.
    """
    import argparse
    import time
    import tracemalloc

    from kb.settings import Settings
    from kb.text.synonym_dictionary import SCOPES, read_dictionary

    settings = Settings()
    ap = argparse.ArgumentParser(prog="python -m kb.text.synonyms", description=main.__doc__)
    ap.add_argument("queries", nargs="*")
    ap.add_argument("--dictionary", type=Path, default=settings.synonym_dictionary)
    ap.add_argument("--city", type=Path, default=None, help="the city's synonyms.tsv")
    ap.add_argument("--scope", choices=SCOPES, default=settings.synonym_scope)
    args = ap.parse_args(argv)
    tokenizer = MeCabTokenizer()
    tokenizer.terms("辞書")  # MeCab's own start-up is not the dictionary's
    dictionary = None
    if args.dictionary is not None:
        start = time.perf_counter()
        dictionary = read_dictionary(args.dictionary, tokenizer)
        took = time.perf_counter() - start
        tracemalloc.start()
        again = read_dictionary(args.dictionary, tokenizer)
        table = load_synonyms(args.city, tokenizer, again, args.scope)
        held = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        print(
            f"{args.dictionary}: {len(dictionary.groups)} groups, {dictionary.expressions} "
            f"expressions; ready in {took:.2f} s; {len(table)} groups with scope "
            f"{args.scope!r} in {held:.0f} MiB"
        )
    table = load_synonyms(args.city, tokenizer, dictionary, args.scope)
    for query in args.queries:
        text = normalize(query)
        terms = tokenizer.lemmas(text)
        joined = katakana_joins(text, terms, tokenizer)
        print(f"{query}: + {' '.join(table.expand(terms, joined)) or '(nothing)'}")
        for key, group in table.matches(terms, joined):
            members = " / ".join("".join(m) for m in group.members)
            print(f"  {''.join(key)} [{group.origin}] {members}")


if __name__ == "__main__":
    main()
