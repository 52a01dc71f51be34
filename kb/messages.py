"""The catalogue of messages shown to city staff, in Japanese (default) and English.

One table, :data:`MESSAGES`, holds every message shown to city staff: key → (Japanese,
English), each a :meth:`str.format` template. :func:`msg` renders one in the current language.
Each area (the ingest's file and row messages, the command line, the ingest report and the
admin upload, the desk and procedures, the FAQ lifecycle, delete/sync/prune, size limits and
progress, backup/restore, the audit log's key, search and the trainer, Ray) has a table in
:mod:`kb.message_tables`, merged in here.

The language is ``KB_LANG`` (``ja`` or ``en``; the ``lang`` setting). The command line sets it
for one command and the service for one upload (:func:`language`); code that runs neither way
(a test, a script calling :func:`kb.ingest.pipeline.ingest`) follows the ``KB_LANG``
environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal, get_args

from kb.message_tables import TABLES

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)

_CURRENT: ContextVar[Lang | None] = ContextVar("kb_lang", default=None)


def current_language() -> Lang:
    """The language messages are rendered in now: set, else ``KB_LANG``, else Japanese."""
    chosen = _CURRENT.get()
    if chosen is not None:
        return chosen
    return "en" if os.environ.get("KB_LANG", "").strip().casefold() == "en" else "ja"


@contextmanager
def language(lang: Lang) -> Iterator[None]:
    """Render messages in ``lang`` inside the ``with`` block (one request of the service)."""
    token = _CURRENT.set(lang)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def msg(key: str, /, *, lang: Lang | None = None, **params: object) -> str:
    """The message ``key`` in ``lang`` (default: :func:`current_language`), filled in.

    Raises:
        KeyError: ``key`` is not in the catalogue (a programming error, caught by the tests).
    """
    ja, en = MESSAGES[key]
    return (en if (lang or current_language()) == "en" else ja).format(**params)


MESSAGES: dict[str, tuple[str, str]] = dict(pair for table in TABLES for pair in table.items())
"""Every message: key → (Japanese, English) :meth:`str.format` templates."""
