"""The adapter for ``gimei``'s name data: Japanese given names and surnames as their kana
readings.

gimei (MIT; a port of the Ruby gem of the same name) makes fake names from a list of about
13,000 real given names with their readings. kb reads only the list, once, lazily (0.5 s):
a record may write a child's or a relative's given name in kana (孫（ひなた）, 次男の嫁の
そうたは), which MeCab reads as the common word it sounds like (日向) or cuts into pieces
(そう|た); where the record sets such a word apart as a name, only a list can tell it is one
(:mod:`kb.text.masking.relatives`). ``import kb`` reads nothing.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from kb.errors import KBError


@lru_cache(maxsize=1)
def _name_data() -> dict[str, object]:
    import yaml

    try:
        text = (resources.files("gimei") / "data" / "names.yml").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError) as exc:
        raise KBError(f"gimei's name list cannot be read ({exc}): reinstall kb") from exc
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, object] = yaml.load(text, Loader=loader)
    return data


@lru_cache(maxsize=1)
def kana_surnames() -> frozenset[str]:
    """The readings in katakana of the list's 500 commonest surnames (ワタナベ, チバ, オイカワ):
    a family name in romaji (Sakura CHIBA) is read against them.

    Raises:
        KBError: The installed gimei has no name list where kb expects it.
    """
    entries = _name_data()["last_name"]
    assert isinstance(entries, list)
    return frozenset(str(entry[2]) for entry in entries)


@lru_cache(maxsize=1)
def kana_given_names() -> frozenset[str]:
    """Every given name of the list in hiragana and in katakana (りく, リク).

    Raises:
        KBError: The installed gimei has no name list where kb expects it.
    """
    first = _name_data()["first_name"]
    assert isinstance(first, dict)
    names: set[str] = set()
    for sex in ("male", "female"):
        for entry in first[sex]:
            names.update(str(form) for form in entry[1:3])
    return frozenset(names)
