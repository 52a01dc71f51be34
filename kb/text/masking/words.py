"""The word lists of person-name masking, read once from the package's ``masking_words.tsv``.

The lists hold only what MeCab's tags cannot tell (see the file's header): nouns for a person's
role or relation (相談者, 妻, 名義), nouns that make ``姓の`` a person (件, 宅) and the few
words that take さん/ちゃん without being names (ワン, みな). Read lazily: ``import kb`` reads
no file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from kb.errors import KBError

_KINDS = ("person", "after", "not_name")


@dataclass(frozen=True)
class MaskingWords:
    """The lists of ``masking_words.tsv``, each a frozenset of words."""

    person: frozenset[str]
    """A person's role or relation: context for a name after it, never a name itself."""
    after: frozenset[str]
    """Nouns after ``姓の`` that show the surname is a person (高橋の件)."""
    not_name: frozenset[str]
    """Words before さん/ちゃん/くん that are not names (ワンちゃん, みなさん)."""

    @property
    def person_before_re(self) -> re.Pattern[str]:
        """Matches a text that ends with a person noun and a short joint (妻の, 名義は, 本人（)."""
        return _person_before_re(self.person)


def parse_words(text: str, source: str = "masking_words.tsv") -> MaskingWords:
    """The lists in ``text`` (``kind<TAB>word`` lines; ``#`` comments).

    Raises:
        KBError: A line without a known kind or without a word, naming the line.
    """
    found: dict[str, set[str]] = {kind: set() for kind in _KINDS}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        kind, _, word = line.partition("\t")
        word = word.strip()
        if kind not in found or not word:
            raise KBError(
                f"{source}:{number}: expected 'kind<TAB>word' with kind one of "
                f"{', '.join(_KINDS)}, got {line!r}"
            )
        found[kind].add(word)
    return MaskingWords(*(frozenset(found[kind]) for kind in _KINDS))


@lru_cache(maxsize=1)
def masking_words() -> MaskingWords:
    """The package's lists (read on first use)."""
    path = resources.files("kb").joinpath("data", "masking_words.tsv")
    return parse_words(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _person_before_re(person: frozenset[str]) -> re.Pattern[str]:
    words = "|".join(re.escape(w) for w in sorted(person, key=len, reverse=True))
    return re.compile(rf"(?:{words})(?:さん|様)?[のはがも:：、,（(）)「=＝・\s]{{0,3}}$")
