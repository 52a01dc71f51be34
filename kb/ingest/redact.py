"""Mask personal data in parsed documents, file names and row errors before anything is stored.

Case records get every rule of :mod:`kb.text.masking`; FAQ entries and manuals, written for
publication, only the rules for data that never belongs there (ID numbers, dates of birth,
mobile numbers, names with an honorific); the department directory is public and untouched.
Department phone numbers, and the landline numbers printed in published FAQ entries (代表電話,
夜間窓口), are kept everywhere; department names and aliases are never taken for people's
names.

Every field of a :class:`~kb.types.Document` is in exactly one of the groups below, so a field
added later cannot slip past masking unnoticed (a test checks it):

* :data:`TEXT_FIELDS`, free text, masked with the kind's profile: title, body, category,
  status, the manual's title and headings;
* :data:`DIRECTORY_FIELDS`: department names, kept when the directory knows them (names,
  aliases, ``mask_keep_words``) and masked like free text otherwise;
* :data:`ENUM_FIELDS`: the channel, kept when it is one of :data:`~kb.types.CASE_CHANNELS`
  (the readers accept nothing else) and masked otherwise;
* :data:`CHECKED_FIELDS`, values the readers validate (dates, published flag, ``http(s)`` URL)
  and the id, which is never masked but refused (:meth:`Redactor.id_problem`): a masked id
  would merge distinct records and is what the console's URLs and the audit log name;
* ``source``, where a record was read: the file's name with personal data masked
  (:meth:`Redactor.file_label`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from kb.text.masking import (
    FULL,
    ID_NUMBER,
    NAME,
    PHONE,
    PLACEHOLDERS,
    PUBLISHED,
    Masker,
    MaskProfile,
    phone_numbers,
)
from kb.text.masking.edits import display_order
from kb.text.masking.latin import japanese_name
from kb.text.mecab import MeCabTokenizer
from kb.types import CASE_CHANNELS, Department, DocId, Document, RowError

PROFILES: dict[str, MaskProfile | None] = {
    "case": FULL,
    "faq": PUBLISHED,
    "manual": PUBLISHED,
    "department": None,
}
"""Masking rules per document kind (``None``: not masked)."""

TEXT_FIELDS = ("title", "body", "category", "status", "doc_title", "heading_path")
DIRECTORY_FIELDS = ("departments", "owner")
ENUM_FIELDS = ("channel",)
CHECKED_FIELDS = ("doc_id", "kind", "date", "published", "url", "updated", "expires")
SOURCE_FIELDS = ("source",)

_CACHED_CHARS = 200
_CACHE_SIZE = 20_000
_SUFFIX_RE = re.compile(r"\.[A-Za-z0-9]{1,8}")
_SEGMENT_RE = re.compile(r"([_\- \u3000]+)")
_QUOTED_RE = re.compile(
    "「[^「」\n]*[\u202a-\u202e\u2066-\u2069][^「」\n]*」"
    "|'[^'\n]*[\u202a-\u202e\u2066-\u2069][^'\n]*'"
)
"""A value quoted in a message (「…」 in Japanese, '…' in English) with a direction control."""


def masker_for(
    departments: Iterable[Department],
    tokenizer: MeCabTokenizer | None = None,
    keep_words: Iterable[str] = (),
    keep_phones: Iterable[str] = (),
) -> Masker:
    """A masker that keeps the directory's phone numbers and names intact.

    Args:
        departments: The department directory: its phone column and every number in its
            duties, location and hours (代表電話 099-555-1000 written in a department's hours).
        tokenizer: Shared MeCab tokenizer.
        keep_words: More words never masked as names (the city's place names).
        keep_phones: More public numbers (see :func:`public_phones`).
    """
    depts = list(departments)
    words = [d.name for d in depts] + [a for d in depts for a in d.aliases] + list(keep_words)
    written = phones_in(text for d in depts for text in (d.duties, d.location, d.hours))
    phones = [d.phone for d in depts if d.phone] + sorted(written) + list(keep_phones)
    return Masker(tokenizer, keep_phones=phones, keep_words=words)


def public_phones(documents: Iterable[Document]) -> set[str]:
    """Landline numbers printed in published FAQ entries: the city's own public numbers."""
    return phones_in(
        text
        for doc in documents
        if doc.kind == "faq" and doc.published
        for text in (doc.title, doc.body)
    )


def phones_in(texts: Iterable[str]) -> set[str]:
    """Landline numbers in ``texts`` (the question and answer texts of published FAQ)."""
    found: set[str] = set()
    for text in texts:
        found.update(phone_numbers(text))
    return found


class Redactor:
    """Masks every free-text field of a record, file names and row errors with one masker.

    Short values that repeat (categories, statuses, department names) are masked once per run.

    Args:
        masker: The run's masker; its ``keep_words`` (department names, aliases, the city's
            place names) are the directory entries kept in ``departments``.
    """

    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        self.directory = frozenset(masker.keep_words)
        self._cache: dict[tuple[str, MaskProfile], str] = {}

    def text(self, text: str, profile: MaskProfile = FULL) -> str:
        """``text`` masked with ``profile``."""
        if not text:
            return text
        if len(text) > _CACHED_CHARS:
            return self.masker.mask(text, profile)
        key = (text, profile)
        found = self._cache.get(key)
        if found is None:
            found = self.masker.mask(text, profile)
            if len(self._cache) < _CACHE_SIZE:
                self._cache[key] = found
        return found

    def document(self, doc: Document) -> Document:
        """``doc`` with personal data in every free-text field replaced by placeholders.

        Its ``source`` is left as it is: the pipeline labels files (:meth:`file_label`).
        """
        profile = PROFILES.get(doc.kind)
        if profile is None:
            return doc
        departments = tuple(
            d if d in self.directory else self.text(d, profile) for d in doc.departments
        )
        owner = doc.owner if doc.owner in self.directory else self.text(doc.owner, profile)
        channel = doc.channel
        if channel and channel not in CASE_CHANNELS:
            channel = self.text(channel, FULL)
        clean = dataclasses.replace(
            doc,
            title=self.text(doc.title, profile),
            body=self.text(doc.body, profile),
            category=self.text(doc.category, profile),
            status=self.text(doc.status, profile),
            doc_title=self.text(doc.doc_title, profile),
            heading_path=tuple(self.text(h, profile) for h in doc.heading_path),
            departments=departments,
            owner=owner,
            channel=channel,
        )
        return doc if clean == doc else clean

    def id_problem(self, doc: Document) -> str | None:
        """Why ``doc``'s id cannot be stored, or ``None`` when it carries no personal data.

        Ids are never masked: two masked ids could be the same, and ids travel in the
        console's URLs, the audit log and feedback. A case or FAQ id is refused when the full
        rule set finds anything in it but a plain record number (a 10-11 digit run not
        starting with 0 is a 受付番号, not a phone number); a manual's id is its file name,
        checked with the manual's own rules (staff surnames in manuals are kept by design).
        """
        if doc.kind == "department":
            return None
        local = DocId.local_of(doc.doc_id)
        if doc.kind == "manual":
            stem = local.rpartition("#")[0] or local
            masked = self.text(stem, PROFILES["manual"] or PUBLISHED)
            if masked == stem:
                return None
            # Shown as the file's label shows it: masked with every rule, not the manual's.
            shown = self._path_part(stem)
            return (
                f"ファイル名（マニュアルのIDになります）に個人情報（氏名・電話番号など）と"
                f"見られる部分があります（{shown}）。ファイル名を変えて登録し直してください"
            )
        masked = self.masker.mask(local, FULL)
        if masked == local or _only_record_numbers(local, masked):
            named = self._named_id(local, doc.kind)
            if named is None:
                return None
            masked = named
        if NAME in masked:  # 鬼頭-琥珀 → [氏名]-琥珀: the given name must not be shown either
            masked = _hide_japanese(masked)
        return (
            f"ID（{masked}）に個人情報（電話番号・氏名など）と見られる部分があります。"
            "IDには受付番号など個人を特定しない値を使ってください。この行は登録していません"
        )

    def _named_id(self, local: str, kind: str) -> str | None:
        """``local`` with what names a person in it replaced, or ``None`` if nothing does.

        The masking needs context to take a bare word for a name, and an id has none: a
        surname or given name as the dictionary tags it (鬼頭琥珀-01), a residence card number
        (two letters, eight digits, two letters, which the masking reads as a record number;
        with separators too), a phone number between separators (R6-001-09012345678), a
        Japanese name in romaji (tanaka-taro-01) and, in a case id, Latin words with at most two
        digits (NGUYEN-VAN-DUNG-1: a case number has more).
        """
        upper = local.upper()
        joined = _ID_SEPARATORS_RE.sub("", upper)  # UH-4782-1936-EF
        if _RESIDENCE_CARD_RE.search(upper) or _RESIDENCE_CARD_RE.search(joined):
            return ID_NUMBER
        spaced = _ID_SEPARATORS_RE.sub(" ", local)  # R6-001-09012345678: a phone in the id
        if PHONE in self.masker.mask(spaced, FULL):
            return PHONE
        parts = [w for w in _ID_SEPARATORS_RE.split(local) if w]
        words = [w for w in parts if w.isascii() and w.isalpha() and len(w) >= 2]
        if len(words) >= 2:
            digits = sum(c.isdigit() for c in local)
            if japanese_name(self.masker.tokenizer, words) or (kind == "case" and digits <= 2):
                # tanaka-taro-01 in romaji; NGUYEN-VAN-DUNG-1 (a case number has digits)
                return NAME
        names = [
            w.surface
            for w in self.masker.tokenizer.morphemes(local)
            if w.pos3 == "人名" and len(w.surface) >= 2
        ]
        if not names:
            return None
        return _hide_japanese(local)

    def file_label(self, path: str, upload_id: str = "") -> str:
        """How a source file is named in the store, row errors and the audit log.

        Args:
            path: The file as it was read.
            upload_id: For an admin upload, its id: the label is ``upload:<id>/<file name>``
                (the server's folder is of no use to anyone). Otherwise every part of the
                path is kept, with personal data in it masked.

        Returns:
            The label: each path part masked (a file's extension kept as it is).
        """
        pure = PurePosixPath(path)
        if upload_id:
            return f"upload:{upload_id}/{self._path_part(pure.name)}"
        parts = [p if p == pure.root else self._path_part(p) for p in pure.parts]
        return str(PurePosixPath(*parts)) if parts else path

    def row_error(self, error: RowError, raw: str = "", label: str = "") -> RowError:
        """``error`` with the file relabelled and personal data masked in its field and message.

        Args:
            error: As a reader reported it (cell values may be quoted in the message).
            raw: The path the reader saw, replaced with ``label`` wherever it appears.
            label: The file's label (:meth:`file_label`).
        """
        source = relabel(error.source, raw, label)
        if source == error.source:  # a path the reader named otherwise: mask it as it is
            source = self.file_label(error.source)
        message = error.message.replace(raw, label) if raw and label else error.message
        # A value quoted with a right-to-left override in it (「\u202eR6.13.1」) is shown as a
        # screen would show it, inside its quotes: masked as the whole message, the override
        # would turn the rest of kb's sentence around.
        message = _QUOTED_RE.sub(lambda m: m[0][0] + display_order(m[0][1:-1]) + m[0][-1], message)
        return RowError(source, error.line, self.text(error.field, FULL), self.text(message, FULL))

    def _path_part(self, part: str) -> str:
        suffix = PurePosixPath(part).suffix
        if suffix and _SUFFIX_RE.fullmatch(suffix) and len(part) > len(suffix):
            return self._named_segments(self.text(part[: -len(suffix)], FULL)) + suffix
        return self._named_segments(self.text(part, FULL))

    def _named_segments(self, stem: str) -> str:
        """``stem`` with each ``_``/``-``/space-separated segment that holds a word MeCab tags as
        a person's name masked whole: a file is named after the person it is about with no
        honorific or sentence around the name (相談記録_百目鬼清_…: 百目鬼 is read as 百 + 目 + 鬼,
        清 as a given name)."""
        pieces = _SEGMENT_RE.split(stem)
        for i in range(0, len(pieces), 2):
            piece = pieces[i]
            if (
                piece
                and not any(p in piece for p in PLACEHOLDERS)
                and any(
                    w.pos2 == "固有名詞" and w.pos3 == "人名"
                    for w in self.masker.tokenizer.morphemes(piece)
                )
            ):
                pieces[i] = NAME
        return "".join(pieces)


_RESIDENCE_CARD_RE = re.compile("(?<![A-Z0-9])[A-Z]{2}[0-9]{8}[A-Z]{2}(?![A-Z0-9])")
_ID_SEPARATORS_RE = re.compile("[-_. \u3000]+")
_JAPANESE_RUN_RE = re.compile("\\[[^\\]]*\\]|[^\\x00-\\x7f]+")
"""A placeholder (kept) or a run of Japanese (replaced when the id names a person)."""


def shown_file_name(name: str) -> str:
    """A file name as a response or an error message may echo it: personal data in it masked
    (``予約_高橋昭_08015482563.csv`` → ``予約_[氏名]_[電話番号].csv``), the extension kept."""
    return Redactor(Masker()).file_label(name)


def _hide_japanese(text: str) -> str:
    """``text`` with every run of Japanese but the placeholders replaced by [氏名]: in an id
    that names a person, the words around the name are its other half (鬼頭-琥珀)."""
    return _JAPANESE_RUN_RE.sub(lambda m: m.group() if m.group() in PLACEHOLDERS else NAME, text)


def _only_record_numbers(local: str, masked: str) -> bool:
    """Whether masking ``local`` (an id) put no placeholder but ``[番号]`` (a record number)."""
    return not any(masked.count(p) > local.count(p) for p in PLACEHOLDERS if p != ID_NUMBER)


def relabel(source: str, raw: str, label: str) -> str:
    """``source`` (``path`` or ``path:line``) with the path ``raw`` replaced by ``label``."""
    if not raw or not label:
        return source
    if source == raw:
        return label
    if source.startswith(raw + ":"):
        return label + source[len(raw) :]
    return source


def redact_document(doc: Document, masker: Masker) -> Document:
    """``doc`` with personal data in its free-text fields replaced by placeholders."""
    return Redactor(masker).document(doc)
